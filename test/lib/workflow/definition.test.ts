import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  readDefinition,
  SESSION_ACTION_WORKFLOW,
  substitute,
  WORKFLOWS,
} from '../../../lib/workflow/definition.ts';

// asl-validator is CommonJS without type declarations.
const validate = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const fileText = readFileSync(SESSION_ACTION_WORKFLOW.file, 'utf8');

describe.each(WORKFLOWS.map((workflow) => [workflow.name, workflow] as const))(
  '%s workflow definition',
  (_name, workflow) => {
    const text = readFileSync(workflow.file, 'utf8');

    it('is valid Amazon States Language once its placeholders are filled', () => {
      const substitutions = Object.fromEntries(
        workflow.functions.map((fn) => [
          fn.substitution,
          `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}`,
        ]),
      );
      const result = validate(JSON.parse(substitute(readDefinition(workflow), substitutions)));
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    });

    it('uses exactly the placeholders of the functions it declares', () => {
      const placeholders = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
      expect([...placeholders].sort()).toEqual(
        workflow.functions.map((fn) => fn.substitution).sort(),
      );
    });

    it('is written in JSONPath, which the local engine evaluates (it ignores JSONata)', () => {
      expect(text).not.toContain('JSONata');
      expect(text).not.toContain('"Assign"');
    });
  },
);

describe('session-action workflow definition', () => {
  it('applies maxConcurrency to every Map state and nothing else', () => {
    const definition = JSON.parse(readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: 3 }));
    expect(definition.States.ActOnEachBatch.MaxConcurrency).toBe(3);
    const original = JSON.parse(fileText);
    original.States.ActOnEachBatch.MaxConcurrency = 3;
    expect(definition).toEqual(original);
    expect(() => readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: 0 })).toThrow(
      RangeError,
    );
  });

  it('refuses to leave a placeholder unfilled', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions placeholder, not a template
    expect(() => substitute('{"Resource": "${Missing}"}', {})).toThrow(/\$\{Missing\}/);
  });

  it.each(WORKFLOWS.map((workflow) => [workflow.name, workflow] as const))(
    '%s: moves the execution timeout with the approval window, so an expiry is always recorded',
    (_name, workflow) => {
      const file = JSON.parse(readFileSync(workflow.file, 'utf8'));
      const wait = file.States.RequestApproval;
      expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      // The file itself leaves at least half an hour of work after a full approval window.
      expect(file.TimeoutSeconds - wait.TimeoutSeconds).toBeGreaterThanOrEqual(1800);

      for (const seconds of [1, 900, 86_400]) {
        const definition = JSON.parse(
          readDefinition(workflow, { approvalTimeoutSeconds: seconds }),
        );
        expect(definition.States.RequestApproval.TimeoutSeconds).toBe(seconds);
        expect(definition.TimeoutSeconds - seconds).toBe(file.TimeoutSeconds - wait.TimeoutSeconds);
      }
      expect(() => readDefinition(workflow, { approvalTimeoutSeconds: 0 })).toThrow(RangeError);
    },
  );
});
