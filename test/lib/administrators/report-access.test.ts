import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleReportPublisher } from '../../../lib/administrators/publishers.ts';
import {
  type AdministratorReport,
  describeReport,
  findingCount,
  type ReportPublisher,
  runAdministratorReport,
} from '../../../lib/administrators/report.ts';
import { DynamoSnapshotStore } from '../../../lib/administrators/snapshot-store.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-client.ts';
import {
  createSnapshotsTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../../local/dynamodb.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { ADMINS, administratorsClientFor, testFixture } from '../../support/simulator-fixture.ts';

/**
 * The report with the real administrators client against the simulator, and snapshots in
 * dynalite. The invitee's invitation (2026-09-01) is not stale yet on these dates.
 */
let simulator: RunningSimulator;
let dynamo: LocalDynamo;
let table = 0;
let snapshots: DynamoSnapshotStore;
const FIRST = new Date('2026-09-08T06:00:00Z');
const SECOND = new Date('2026-09-09T06:00:00Z');
const THIRD = new Date('2026-09-10T06:00:00Z');
const DELIVERY_GROUP_ROLE = 'R-ac0b54e3-6e8a-473f-9713-139218ed4e';
const FINANCE_SCOPE = '300adc84-286b-8cc4-29bd-36a0e7bb87b4';

beforeAll(async () => {
  simulator = await startCitrixSimulator({ fixture: testFixture() });
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await simulator.close();
  await dynamo.close();
});
beforeEach(async () => {
  simulator.reset();
  table += 1;
  await createSnapshotsTable(dynamo.client, `snapshots-${table}`);
  snapshots = new DynamoSnapshotStore(dynamo.client, `snapshots-${table}`, 30);
});

const client = () => administratorsClientFor(simulator.url);

const run = (now: Date, publisher: ReportPublisher = new ConsoleReportPublisher(() => {})) =>
  runAdministratorReport(
    { directory: client(), snapshots, publisher, pendingInvitationMaxDays: 14 },
    now,
  );

/** Changes an administrator's Custom access the way someone in the Citrix Cloud console would. */
async function changeAccess(id: string, change: (access: AdministratorAccess) => void) {
  const administrators = client();
  const access = await administrators.getAccess(id);
  change(access);
  await administrators.updateAccess(id, access);
}

const grant = (access: AdministratorAccess, name: string, value = true) => {
  const policy = access.policies?.find((candidate) => candidate.name === name);
  if (policy === undefined) throw new Error(`no policy ${name}`);
  policy.checkable.value = value;
  for (const choice of policy.scopeChoices?.choices ?? []) choice.checkable.value = value;
};

describe('the administrator report with access', () => {
  it('reads the access of every active administrator once, and keeps what they can do', async () => {
    await run(FIRST);

    const reads = simulator
      .requests()
      .filter((request) => request.method === 'GET' && request.path.endsWith('/access'))
      .map((request) => request.path)
      .sort();
    expect(reads).toEqual(
      [
        ADMINS.full.userId,
        ADMINS.owner.userId,
        ADMINS.mallory.userId,
        ADMINS.trent.userId,
        ADMINS.breakglass.userId,
        encodeURIComponent(ADMINS.group.ucOid),
      ]
        .map((id) => `/administrators/${id}/access`)
        .sort(),
    );
    const saved = await snapshots.latest();
    const byOid = new Map(saved?.snapshot.administrators.map((entry) => [entry.ucOid, entry]));
    expect(byOid.get(ADMINS.full.ucOid)?.access).toEqual({ accessType: 'Full' });
    expect(byOid.get(ADMINS.trent.ucOid)?.access).toEqual({
      accessType: 'Custom',
      policies: [
        { name: 'notifications', serviceName: 'Platform' },
        { name: 'customerDashboard', serviceName: 'Platform' },
      ],
    });
    expect(byOid.get(ADMINS.group.ucOid)?.access?.policies).toEqual([
      {
        name: DELIVERY_GROUP_ROLE,
        serviceName: 'XenDesktop',
        displayName: 'Delivery Group Administrator',
        scopes: [{ name: FINANCE_SCOPE, displayName: 'Finance delivery groups' }],
      },
      { name: 'customerDashboard', serviceName: 'Platform' },
    ]);
    expect(byOid.get(ADMINS.mallory.ucOid)?.access?.policies?.[0]).toMatchObject({
      displayName: 'Cloud Administrator',
      allScopes: true,
    });
    // An invitation grants nothing yet: no access read, none kept.
    expect(byOid.get(ADMINS.invitee.ucOid)).not.toHaveProperty('access');
  });

  it('reports exactly a Custom administrator who gained a permission, not one who lost one', async () => {
    const first = await run(FIRST);
    expect(first.hasFindings).toBe(false);
    await changeAccess(ADMINS.trent.userId, (access) => grant(access, 'licensing'));
    await changeAccess(ADMINS.mallory.userId, (access) => grant(access, 'secureClients', false));

    const second = await run(SECOND);

    expect(findingCount(second)).toBe(1);
    expect(second).toMatchObject({
      added: [],
      becameFull: [],
      removed: [],
      stalePendingInvitations: [],
      hasFindings: true,
    });
    expect(second.accessChanged).toEqual([
      expect.objectContaining({
        ucOid: ADMINS.trent.ucOid,
        email: ADMINS.trent.email,
        gained: [{ name: 'licensing', serviceName: 'Platform' }],
        lost: [],
      }),
    ]);
    expect(describeReport(second)).toContain(
      'Access grew: trent@example.com (AdministratorUser, Custom) gained licensing',
    );
  });

  it('names a gained role with its scope, and what the administrator lost with it', async () => {
    await run(FIRST);
    await changeAccess(ADMINS.owner.userId, (access) => {
      grant(access, DELIVERY_GROUP_ROLE);
      grant(access, 'secureClients', false);
    });

    const second = await run(SECOND);

    expect(second.accessChanged).toEqual([
      expect.objectContaining({
        ucOid: ADMINS.owner.ucOid,
        gained: [
          {
            name: DELIVERY_GROUP_ROLE,
            serviceName: 'XenDesktop',
            displayName: 'Delivery Group Administrator',
            scopes: [{ name: FINANCE_SCOPE, displayName: 'Finance delivery groups' }],
          },
        ],
        lost: [{ name: 'secureClients', serviceName: 'Platform' }],
      }),
    ]);
    expect(describeReport(second)).toContain(
      'Access grew: owner@example.com (AdministratorUser, Custom) gained Delivery Group Administrator (Finance delivery groups); lost secureClients',
    );
  });

  it('publishes on the next run a report whose publish failed, then carries on', async () => {
    await run(FIRST);
    await changeAccess(ADMINS.trent.userId, (access) => grant(access, 'licensing'));
    const failing: ReportPublisher = {
      publish: async () => {
        throw new Error('SNS unavailable');
      },
    };
    await expect(run(SECOND, failing)).rejects.toThrow('SNS unavailable');

    // Saved before publishing: the next run compares with it, and finds the report unpublished.
    const saved = await snapshots.latest();
    expect(saved?.snapshot.takenAt).toBe(SECOND.toISOString());
    expect(saved?.unpublishedReport?.accessChanged).toEqual([
      expect.objectContaining({ ucOid: ADMINS.trent.ucOid }),
    ]);

    const published: AdministratorReport[] = [];
    const third = await run(THIRD, { publish: async (report) => void published.push(report) });

    expect(published).toEqual([saved?.unpublishedReport]);
    expect(third.hasFindings).toBe(false);
    expect(third.previousTakenAt).toBe(SECOND.toISOString());
    expect((await snapshots.latest())?.unpublishedReport).toBeUndefined();
    // And a fourth run publishes nothing again.
    await run(new Date('2026-09-11T06:00:00Z'), {
      publish: async (report) => void published.push(report),
    });
    expect(published).toHaveLength(1);
  });
});
