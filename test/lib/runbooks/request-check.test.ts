import { describe, expect, it } from 'vitest';
import { ActionRequestSchema } from '../../../lib/actions/schema.ts';

/**
 * A `runbook.run` request, checked as any request is (`ActionRequestSchema`): the runbook, its
 * inputs, and each step as a request of its own action, every problem naming its field, so a bad
 * run is refused with a 400 before anything starts. The repository's runbooks are installed
 * (test/support/runbooks.setup.ts).
 */

const issuesOf = (request: Record<string, unknown>) =>
  ActionRequestSchema.safeParse({
    action: 'runbook.run',
    reason: 'test',
    ...request,
  }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];

describe('a runbook.run request', () => {
  it('runs a deployed runbook with its inputs, as a dry run or not', () => {
    expect(
      ActionRequestSchema.parse({
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: 'alice@example.com' },
        reason: 'Sentinel incident 4711',
        ticket: 'INC0012345',
      }),
    ).toEqual({
      action: 'runbook.run',
      target: { runbook: 'compromised-user' },
      inputs: { user: 'alice@example.com' },
      reason: 'Sentinel incident 4711',
      ticket: 'INC0012345',
      dryRun: false,
    });
  });

  it.each([
    [
      { target: { runbook: 'no-such' } },
      'target.runbook: no runbook named "no-such" (deployed: compromised-user, departing-administrator, lost-device)',
    ],
    [
      { target: { runbook: 'compromised-user' } },
      'inputs.user: is required: The user, as a UPN (alice@example.com) or DOMAIN\\user',
    ],
    [
      {
        target: { runbook: 'compromised-user' },
        inputs: { user: 'alice@example.com', device: 'x' },
      },
      'inputs.device: is not an input of runbook compromised-user (its inputs: user)',
    ],
    [
      { target: { runbook: 'departing-administrator' }, inputs: { admin: 'mallory' } },
      'inputs.admin: must match [^@\\s]+@[^@\\s]+',
    ],
    [
      { target: { runbook: 'compromised-user' }, inputs: { user: 'not a user' } },
      'inputs.user: step "logoff-sessions" target.user: must be a UPN (user@example.com) or DOMAIN\\user',
    ],
    [
      { target: { runbook: 'compromised-user' }, inputs: { user: `a\u0007@example.com` } },
      'inputs.user: must not contain control characters',
    ],
    [
      { target: { runbook: 'compromised-user' }, options: { mode: 'strip' } },
      'options: is not a field of this request',
    ],
  ])('is refused, naming the field: %j', (request, problem) => {
    expect(issuesOf(request)).toContain(problem);
  });

  it('checks a runbook the caller holds step by step, naming the step and its field', () => {
    const definition = {
      name: 'mine',
      description: 'A caller-held runbook',
      steps: [
        { id: 'ok', action: 'session.logoff', target: { user: 'bob@example.com' } },
        { id: 'bad', action: 'device.wipe', target: { admin: 'bob@example.com' } },
        { id: 'nested', action: 'runbook.run', target: { user: 'bob@example.com' } },
      ],
    };
    expect(issuesOf({ target: { definition } })).toEqual([
      'target.definition.steps.2.action: runbooks do not nest: a step cannot run a runbook',
    ]);
    expect(
      issuesOf({ target: { definition: { ...definition, steps: definition.steps.slice(0, 2) } } }),
    ).toEqual([
      'target.definition.steps.1.target.admin: step "bad" target.admin: is not a field of this request',
      'target.definition.steps.1.target: step "bad" target: must have exactly one of deviceId, user, users',
    ]);
  });
});
