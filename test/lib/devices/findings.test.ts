import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE_FINDINGS_KEY_PREFIX,
  DeviceFindingsError,
  DynamoDeviceFindings,
  MAX_DEVICE_FINDINGS,
} from '../../../lib/devices/findings.ts';
import { createLimitsTable } from '../../../lib/guardrails/limits.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';

const T0 = new Date('2026-11-23T03:00:00.000Z');
const later = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());

async function freshFindings() {
  tables += 1;
  const table = `limits-${tables}`;
  await createLimitsTable(dynamo.client, table);
  const stored = async (sweep: string) =>
    (
      await DynamoDBDocumentClient.from(dynamo.client).send(
        new GetCommand({
          TableName: table,
          Key: { counter: `${DEVICE_FINDINGS_KEY_PREFIX}${sweep}` },
          ConsistentRead: true,
        }),
      )
    ).Item;
  return { table, findings: new DynamoDeviceFindings(dynamo.client, table), stored };
}

const asIso = (map: ReadonlyMap<string, Date>) =>
  Object.fromEntries([...map].map(([id, at]) => [id, at.toISOString()]));

describe('DynamoDeviceFindings', () => {
  it('keeps the first time each device was found across runs', async () => {
    const { findings, stored } = await freshFindings();
    expect(asIso(await findings.observe('jailbroken', ['1', '2'], T0, true))).toEqual({
      1: T0.toISOString(),
      2: T0.toISOString(),
    });
    expect(asIso(await findings.observe('jailbroken', ['1', '2', '3'], later(5), true))).toEqual({
      1: T0.toISOString(),
      2: T0.toISOString(),
      3: later(5).toISOString(),
    });
    expect(await stored('jailbroken')).toMatchObject({
      firstFound: { 1: T0.toISOString(), 2: T0.toISOString(), 3: later(5).toISOString() },
      updatedAt: later(5).toISOString(),
    });
  });

  it('forgets a device no longer found: found again, its grace starts over', async () => {
    const { findings } = await freshFindings();
    await findings.observe('stale', ['1', '2'], T0, true);
    await findings.observe('stale', ['2'], later(1), true);
    expect(asIso(await findings.observe('stale', ['1', '2'], later(2), true))).toEqual({
      1: later(2).toISOString(),
      2: T0.toISOString(),
    });
  });

  it('saves nothing without save, yet answers from what was saved', async () => {
    const { findings, stored } = await freshFindings();
    expect(asIso(await findings.observe('dry', ['1'], T0, false))).toEqual({
      1: T0.toISOString(),
    });
    expect(await stored('dry')).toBeUndefined();
    await findings.observe('dry', ['1'], T0, true);
    expect(asIso(await findings.observe('dry', ['1', '2'], later(3), false))).toEqual({
      1: T0.toISOString(),
      2: later(3).toISOString(),
    });
    expect((await stored('dry'))?.firstFound).toEqual({ 1: T0.toISOString() });
  });

  it('keeps each sweep’s findings apart', async () => {
    const { findings } = await freshFindings();
    await findings.observe('a', ['1'], T0, true);
    expect(asIso(await findings.observe('b', ['1'], later(4), true))).toEqual({
      1: later(4).toISOString(),
    });
  });

  it('refuses more devices than one item holds, and an item that does not match the schema', async () => {
    const { table, findings } = await freshFindings();
    const many = Array.from({ length: MAX_DEVICE_FINDINGS + 1 }, (_, i) => String(i));
    expect(await rejection(findings.observe('big', many, T0, true))).toBeInstanceOf(
      DeviceFindingsError,
    );
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new PutCommand({
        TableName: table,
        Item: { counter: `${DEVICE_FINDINGS_KEY_PREFIX}broken`, firstFound: { 1: 'yesterday' } },
      }),
    );
    const error = await rejection(findings.observe('broken', ['1'], T0, true));
    expect(error).toBeInstanceOf(DeviceFindingsError);
    expect((error as Error).message).toBe('The findings of sweep broken do not match the schema');
  });
});
