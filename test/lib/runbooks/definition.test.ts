import { describe, expect, it } from 'vitest';
import {
  placeholdersIn,
  RunbookSchema,
  RunbookTargetSchema,
  renderTemplate,
} from '../../../lib/runbooks/definition.ts';

/** A runbook's shape, as files and `target.definition` give it, before the catalog checks its steps. */

const runbook = (fields: Record<string, unknown> = {}) => ({
  name: 'contain',
  description: 'Contain a user',
  inputs: { user: { description: 'The user' } },
  steps: [{ id: 'logoff', action: 'session.logoff', target: { user: '{{inputs.user}}' } }],
  ...fields,
});
const problems = (input: unknown) =>
  RunbookSchema.safeParse(input).error?.issues.map(
    (issue) => `${issue.path.join('.')}: ${issue.message}`,
  ) ?? [];

describe('a runbook', () => {
  it('takes inputs (required by default), steps that go on by default only when told', () => {
    expect(RunbookSchema.parse(runbook())).toEqual({
      ...runbook(),
      inputs: { user: { description: 'The user', required: true } },
      steps: [{ ...runbook().steps[0], continueOnFailure: false }],
    });
  });

  it.each([
    [{ name: 'Contain User' }, 'name: must be 1-48 lower-case letters, digits and dashes'],
    [{ steps: [] }, 'steps: must have at least one step'],
    [
      {
        steps: Array.from({ length: 21 }, (_, index) => ({
          ...runbook().steps[0],
          id: `s${index}`,
        })),
      },
      'steps: must have at most 20 steps',
    ],
    [
      {
        inputs: Object.fromEntries(
          Array.from({ length: 11 }, (_, i) => [`i${i}`, { description: 'x' }]),
        ),
      },
      'inputs: must declare at most 10 inputs',
    ],
    [
      { steps: [runbook().steps[0], runbook().steps[0]] },
      'steps.1.id: "logoff" is the id of an earlier step',
    ],
    [
      { steps: [{ ...runbook().steps[0], action: 'runbook.run' }] },
      'steps.0.action: runbooks do not nest: a step cannot run a runbook',
    ],
    [
      { steps: [{ ...runbook().steps[0], target: { user: '{{alert.user}}' } }] },
      'steps.0.target.user: {{alert.user}} is not a placeholder: only {{inputs.<name>}}',
    ],
    [
      { steps: [{ ...runbook().steps[0], reason: 'For {{inputs.ticket}}' }] },
      'steps.0.reason: {{inputs.ticket}} names no declared input',
    ],
    [
      { steps: [{ ...runbook().steps[0], target: { user: 'a', machine: 'b' } }] },
      'steps.0.target: must name exactly one of user, users, sessionId, deliveryGroup, machine, clientAddress, deviceId, admin, email',
    ],
    [
      { steps: [{ ...runbook().steps[0], if: { step: 'logoff', status: ['succeeded'] } }] },
      'steps.0.if: tests "logoff", which is not an earlier step',
    ],
    [
      { steps: [{ ...runbook().steps[0], if: { step: 'x' } }] },
      'steps.0.if: must test the step by status, targets or both',
    ],
    [
      { inputs: { user: { description: 'The user', pattern: '[a-z]+', example: 'Alice' } } },
      'inputs.user.example: does not match the pattern',
    ],
    [
      { inputs: { user: { description: 'The user', pattern: '([a-z' } } },
      'inputs.user.pattern: must be a valid regular expression',
    ],
  ])('refuses %j, naming the field', (fields, problem) => {
    expect(problems(runbook(fields))).toContain(problem);
  });

  it('allows conditions over earlier steps, nested up to four deep', () => {
    const second = (condition: unknown) =>
      runbook({
        steps: [runbook().steps[0], { ...runbook().steps[0], id: 'again', if: condition }],
      });
    const nested = (depth: number): unknown =>
      depth === 0 ? { step: 'logoff', targets: { min: 1 } } : { not: nested(depth - 1) };

    expect(problems(second({ any: [{ step: 'logoff', status: ['failed'] }, nested(2)] }))).toEqual(
      [],
    );
    expect(problems(second(nested(4)))).toEqual([]);
    expect(problems(second(nested(5)))).toEqual([
      'steps.1.if: nests all, any and not more than 4 deep',
    ]);
  });
});

describe('the templates of a step', () => {
  it('name the inputs they use, and the placeholders that are not inputs', () => {
    expect(placeholdersIn('{{ inputs.user }} on {{inputs.device-id}}, {{alert.title}}')).toEqual({
      inputs: ['user', 'device-id'],
      invalid: ['alert.title'],
    });
  });

  it('are filled with the values of the inputs, and nothing else: an unknown one is left empty', () => {
    expect(
      renderTemplate('Wipe {{inputs.device}} of {{ inputs.user }} ({{inputs.none}})', {
        device: '1042',
        user: 'alice@example.com',
      }),
    ).toBe('Wipe 1042 of alice@example.com ()');
    // A value that looks like a placeholder is not filled in again.
    expect(renderTemplate('{{inputs.a}}', { a: '{{inputs.b}}', b: 'x' })).toBe('{{inputs.b}}');
  });
});

describe('the target of a runbook run', () => {
  it('is a deployed runbook by name, or a whole runbook, exactly one of them', () => {
    expect(RunbookTargetSchema.parse({ runbook: 'compromised-user' })).toEqual({
      runbook: 'compromised-user',
    });
    expect(RunbookTargetSchema.parse({ definition: runbook() })).toEqual({
      definition: RunbookSchema.parse(runbook()),
    });
    expect(RunbookTargetSchema.safeParse({}).success).toBe(false);
    expect(
      RunbookTargetSchema.safeParse({ runbook: 'compromised-user', definition: runbook() }).success,
    ).toBe(false);
  });
});
