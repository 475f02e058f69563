import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  readDefinition,
  SESSION_ACTION_WORKFLOW,
  substitute,
} from '../../../lib/workflow/definition.ts';

// asl-validator is CommonJS without type declarations.
const validate = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const fileText = readFileSync(SESSION_ACTION_WORKFLOW.file, 'utf8');

describe('session-action workflow definition', () => {
  it('is valid Amazon States Language once its placeholders are filled', () => {
    const substitutions = Object.fromEntries(
      SESSION_ACTION_WORKFLOW.functions.map((fn) => [
        fn.substitution,
        `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}`,
      ]),
    );
    const result = validate(
      JSON.parse(substitute(readDefinition(SESSION_ACTION_WORKFLOW), substitutions)),
    );
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses exactly the placeholders of the functions it declares', () => {
    const placeholders = new Set([...fileText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(
      SESSION_ACTION_WORKFLOW.functions.map((fn) => fn.substitution).sort(),
    );
  });

  it('is written in JSONPath, which the local engine evaluates (it ignores JSONata)', () => {
    expect(fileText).not.toContain('JSONata');
    expect(fileText).not.toContain('"Assign"');
  });

  it('applies maxConcurrency to every Map state and nothing else', () => {
    const definition = JSON.parse(readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: 3 }));
    expect(definition.States.ActOnEachTarget.MaxConcurrency).toBe(3);
    const original = JSON.parse(fileText);
    original.States.ActOnEachTarget.MaxConcurrency = 3;
    expect(definition).toEqual(original);
    expect(() => readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: 0 })).toThrow(
      RangeError,
    );
  });

  it('refuses to leave a placeholder unfilled', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions placeholder, not a template
    expect(() => substitute('{"Resource": "${Missing}"}', {})).toThrow(/\$\{Missing\}/);
  });
});
