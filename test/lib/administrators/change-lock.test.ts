import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAdministrator } from '../../../lib/actions/schema.ts';
import {
  AdministratorChangeInProgressError,
  type AdministratorController,
  AdministratorGuardRefusedError,
  applyAdministratorChange,
  resolveAdministratorTargets,
} from '../../../lib/administrators/admin-actions.ts';
import {
  ADMINISTRATOR_CHANGE_LEASE_MS,
  AdministratorChangeLockError,
  administratorChangeLeaseKey,
  DynamoAdministratorChangeLock,
} from '../../../lib/administrators/change-lock.ts';
import type {
  AdministratorAccess,
  CloudAdministrator,
} from '../../../lib/citrix/administrators-client.ts';
import { createLimitsTable } from '../../../lib/guardrails/limits.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';
import { MemoryRevokeSnapshots } from '../../support/revoke-snapshots.ts';

const CUSTOMER = 'customer-1';
const T0 = Date.parse('2026-11-23T03:00:00Z');

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());

/** A limits table of its own per test, and a clock the test moves. */
async function freshTable() {
  tables += 1;
  const table = `limits-${tables}`;
  await createLimitsTable(dynamo.client, table);
  const clock = { now: T0 };
  const lock = (customerId = CUSTOMER) =>
    new DynamoAdministratorChangeLock(dynamo.client, table, customerId, { now: () => clock.now });
  return { table, clock, lock };
}

const storedLease = async (table: string, customerId = CUSTOMER) =>
  (
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new GetCommand({
        TableName: table,
        Key: { counter: administratorChangeLeaseKey(customerId) },
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('DynamoAdministratorChangeLock', () => {
  it('lets one owner hold the lease at a time, and the holder take it again', async () => {
    const { table, lock } = await freshTable();
    const first = await lock().acquire('act_1 a');
    expect(await storedLease(table)).toEqual({
      counter: 'lease:administrator-changes:customer-1',
      owner: 'act_1 a',
      expiresAt: T0 + ADMINISTRATOR_CHANGE_LEASE_MS,
    });
    expect(await rejection(lock().acquire('act_2 b'))).toBeInstanceOf(
      AdministratorChangeInProgressError,
    );
    // A retried task is the same owner.
    await lock().acquire('act_1 a');

    await first.release();
    expect(await storedLease(table)).toBeUndefined();
    const second = await lock().acquire('act_2 b');
    await second.release();
  });

  it('expires, so a crashed holder blocks others only until then', async () => {
    const { table, clock, lock } = await freshTable();
    const crashed = await lock().acquire('act_1 a');
    clock.now += ADMINISTRATOR_CHANGE_LEASE_MS - 1;
    expect(await rejection(lock().acquire('act_2 b'))).toBeInstanceOf(
      AdministratorChangeInProgressError,
    );
    clock.now += 1;
    await lock().acquire('act_2 b');
    // The late holder's release leaves the new holder's lease alone.
    await crashed.release();
    expect((await storedLease(table))?.owner).toBe('act_2 b');
    expect(await rejection(lock().acquire('act_3 c'))).toBeInstanceOf(
      AdministratorChangeInProgressError,
    );
  });

  it('keeps one lease per Citrix customer, beside the hourly counters', async () => {
    const { table, lock } = await freshTable();
    const counter = { counter: 'admin.revoke', version: 3, entries: [] };
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new PutCommand({ TableName: table, Item: counter }),
    );
    const held = await lock('customer-1').acquire('act_1 a');
    const other = await lock('customer-2').acquire('act_2 b');
    await held.release();
    await other.release();
    const stored = await DynamoDBDocumentClient.from(dynamo.client).send(
      new GetCommand({ TableName: table, Key: { counter: 'admin.revoke' } }),
    );
    expect(stored.Item).toEqual(counter);
  });

  it('says when DynamoDB failed rather than that the lease is held', async () => {
    const lock = new DynamoAdministratorChangeLock(dynamo.client, 'no-such-table', CUSTOMER);
    const error = await rejection(lock.acquire('act_1 a'));
    expect(error).toBeInstanceOf(AdministratorChangeLockError);
    expect(error.cause).toBeDefined();
  });
});

/** Two Full administrators and the API client's owner; lists can be held open by the test. */
class Tenant implements AdministratorController {
  admins: CloudAdministrator[] = [1, 2, 3].map((n) => ({
    ucOid: `OID:/citrix/${n}`,
    userId: String(n),
    type: 'AdministratorUser',
    accessType: n === 3 ? 'Custom' : 'Full',
    email: n === 3 ? 'owner@example.com' : `full${n}@example.com`,
    pending: false,
  }));
  /** While set, every list waits for it: a slow Citrix Cloud. */
  hold: Promise<void> | undefined;
  /** Called as a list starts. */
  onList: (() => void) | undefined;
  async listAdministrators() {
    this.onList?.();
    await this.hold;
    return structuredClone(this.admins);
  }
  async getAccess(): Promise<AdministratorAccess> {
    return { accessType: 'Full', policies: null };
  }
  async updateAccess(id: string, access: AdministratorAccess) {
    this.admins = this.admins.map((admin) =>
      admin.userId === id ? { ...admin, accessType: access.accessType } : admin,
    );
  }
  async deleteAdministrator(id: string) {
    this.admins = this.admins.filter((admin) => admin.userId !== id);
  }
  async deleteInvitation() {
    return false;
  }
}

describe('two concurrent revokes of the only two Full administrators', () => {
  it('lets exactly one through: the other waits for the lease, then the last-Full guard refuses it', async () => {
    const { lock } = await freshTable();
    const tenant = new Tenant();
    const guards = { apiClientOwner: 'owner@example.com', protected: [] };
    const resolve = async (email: string) => {
      const [target] = await resolveAdministratorTargets(
        tenant,
        'admin.revoke',
        { admin: email },
        guards,
        new MemoryRevokeSnapshots(),
      );
      expect(target?.allowed).toBe(true); // each sees the other as the remaining Full one
      return target as ResolvedAdministrator;
    };
    const [first, second] = [
      await resolve('full1@example.com'),
      await resolve('full2@example.com'),
    ];
    const apply = (target: ResolvedAdministrator) =>
      applyAdministratorChange(
        tenant,
        'admin.revoke',
        target,
        { mode: 'delete' },
        guards,
        () => new Date(T0),
        {
          lock: lock(),
          owner: `act_${target.userId} ${target.ucOid}`,
          actionId: `act_${target.userId}`,
          revokes: new MemoryRevokeSnapshots(),
        },
      );

    let open = () => {};
    tenant.hold = new Promise((resolve) => {
      open = resolve;
    });
    const listing = new Promise<void>((resolve) => {
      tenant.onList = resolve;
    });
    const winner = apply(first);
    await listing; // the first holds the lease and is reading the list
    // The first holds the lease while Citrix is slow: the second is turned away, not raced.
    const waiting = await rejection(apply(second));
    expect(waiting).toBeInstanceOf(AdministratorChangeInProgressError);
    open();
    tenant.hold = undefined;
    expect(await winner).toMatchObject({ mode: 'delete' });

    // The workflow retries: now the second sees it would remove the last Full administrator.
    const refused = await rejection(apply(second));
    expect(refused).toBeInstanceOf(AdministratorGuardRefusedError);
    expect(refused.message).toMatch(/last administrator with Full access/);
    expect(tenant.admins.filter((admin) => admin.accessType === 'Full')).toEqual([
      expect.objectContaining({ email: 'full2@example.com' }),
    ]);
  });
});
