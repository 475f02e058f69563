import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import { ActionNotFoundError, DynamoActionStore } from '../../../lib/actions/store.ts';
import type { Runbook, RunbookStepRecord } from '../../../lib/runbooks/definition.ts';
import { DynamoRunbookRunStore } from '../../../lib/runbooks/store.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

/**
 * A run's record in the actions table, against a conditional-write conflict that has passed by
 * the time the record is read back (LocalDynamoFaults): the run's start and its steps are
 * recorded (a step whose action runs is never lost), and a run that has ended stays ended.
 */
const TABLE = 'runbook-runs-test';
const NOW = new Date('2026-12-03T03:00:00.000Z');
let dynamo: LocalDynamo;
let actions: DynamoActionStore;
let runs: DynamoRunbookRunStore;
let counter = 0;

const RUNBOOK: Runbook = {
  name: 'test-runbook',
  description: 'One log off',
  inputs: { user: { description: 'The user', required: true } },
  steps: [
    {
      id: 'logoff',
      action: 'session.logoff',
      target: { user: '{{inputs.user}}' },
      continueOnFailure: false,
    },
  ],
};
const PENDING: RunbookStepRecord[] = [
  { id: 'logoff', action: 'session.logoff', status: 'pending' },
];
const RUNNING: RunbookStepRecord[] = [
  {
    id: 'logoff',
    action: 'session.logoff',
    status: 'running',
    childActionId: 'act_0123456789abcdef0123456789abcdef',
    startedAt: NOW.toISOString(),
    polls: 0,
  },
];

const newRun = (status: ActionRecord['status']): ActionRecord => {
  counter += 1;
  return {
    actionId: `act_${counter.toString(16).padStart(32, '0')}`,
    action: 'runbook.run',
    target: { runbook: 'test-runbook' },
    inputs: { user: 'alice@example.com' },
    reason: 'Compromised account',
    requestedBy: 'soc@example.com',
    dryRun: false,
    status,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    results: {},
    expiresAt: 1_900_000_000,
  };
};

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  actions = new DynamoActionStore(dynamo.client, TABLE, { now: () => NOW });
  runs = new DynamoRunbookRunStore(dynamo.client, TABLE, () => NOW);
});
afterAll(() => dynamo.close());
beforeEach(() => dynamo.faults.clear());

describe('DynamoRunbookRunStore against one passing conflict', () => {
  it('starts the run with its runbook and pending steps, and never restarts one that has ended', async () => {
    const run = newRun('accepted');
    await actions.create(run);
    dynamo.faults.conflictNext(TABLE, 1);
    await runs.start(run.actionId, RUNBOOK, PENDING);
    expect(dynamo.faults.fired).toBe(1);
    expect(await actions.get(run.actionId)).toMatchObject({
      status: 'running',
      runbook: RUNBOOK,
      steps: PENDING,
    });

    const ended = newRun('failed');
    await actions.create(ended);
    dynamo.faults.conflictNext(TABLE, 1);
    await expect(runs.start(ended.actionId, RUNBOOK, PENDING)).rejects.toThrow(ActionNotFoundError);
    expect((await actions.get(ended.actionId))?.status).toBe('failed');
  });

  it('records the step whose action was started, and leaves a run that has ended as it is', async () => {
    const run = newRun('accepted');
    await actions.create(run);
    await runs.start(run.actionId, RUNBOOK, PENDING);
    dynamo.faults.conflictNext(TABLE, 1);
    await runs.recordProgress(run.actionId, { status: 'running', steps: RUNNING, plan: [] });
    expect(dynamo.faults.fired).toBe(1);
    expect((await actions.get(run.actionId))?.steps).toEqual(RUNNING);

    await actions.complete(run.actionId, { status: 'failed', summary: 'ended elsewhere' });
    dynamo.faults.conflictNext(TABLE, 1);
    await expect(
      runs.recordProgress(run.actionId, { status: 'running', steps: PENDING, plan: [] }),
    ).rejects.toThrow(ActionNotFoundError);
    expect(await actions.get(run.actionId)).toMatchObject({
      status: 'failed',
      summary: 'ended elsewhere',
      steps: RUNNING,
    });
  });
});
