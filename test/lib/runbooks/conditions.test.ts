import { describe, expect, it } from 'vitest';
import {
  conditionHolds,
  describeCondition,
  type StepOutcome,
} from '../../../lib/runbooks/conditions.ts';
import type { Condition } from '../../../lib/runbooks/definition.ts';

/** `if` over earlier steps: their status, and how many targets they planned or acted on. */

const outcomes = new Map<string, StepOutcome>([
  ['probe', { status: 'planned', targets: 1 }],
  ['logoff', { status: 'failed', targets: 0 }],
  ['wipe', { status: 'succeeded', targets: 3 }],
]);

describe('a step condition', () => {
  it.each<[Condition, boolean]>([
    [{ step: 'probe', targets: { min: 1 } }, true],
    [{ step: 'probe', targets: { min: 2 } }, false],
    [{ step: 'wipe', targets: { max: 3 } }, true],
    [{ step: 'wipe', targets: { min: 1, max: 2 } }, false],
    [{ step: 'logoff', status: ['failed', 'refused'] }, true],
    [{ step: 'logoff', status: ['succeeded'] }, false],
    [{ step: 'probe', status: ['planned'], targets: { min: 1 } }, true],
    [{ step: 'probe', status: ['succeeded'], targets: { min: 1 } }, false],
    // A step that has not run (a condition names only earlier steps, so this is a bug): never.
    [{ step: 'later', targets: { max: 10 } }, false],
    [
      {
        all: [
          { step: 'probe', targets: { min: 1 } },
          { step: 'wipe', status: ['succeeded'] },
        ],
      },
      true,
    ],
    [
      {
        all: [
          { step: 'probe', targets: { min: 1 } },
          { step: 'logoff', status: ['succeeded'] },
        ],
      },
      false,
    ],
    [
      {
        any: [
          { step: 'logoff', status: ['succeeded'] },
          { step: 'wipe', targets: { min: 3 } },
        ],
      },
      true,
    ],
    [{ not: { step: 'logoff', status: ['failed'] } }, false],
  ])('%j holds: %s', (condition, holds) => {
    expect(conditionHolds(condition, outcomes)).toBe(holds);
  });

  it('reads as words in the record of a skipped step', () => {
    expect(
      describeCondition({
        all: [
          { step: 'probe', targets: { min: 1 } },
          {
            not: {
              any: [
                { step: 'logoff', status: ['failed', 'expired'] },
                { step: 'wipe', targets: { min: 0, max: 2 } },
              ],
            },
          },
        ],
      }),
    ).toBe(
      'probe counted at least 1 target and not ((logoff ended failed or expired or wipe counted 0 to 2 targets))',
    );
  });
});
