import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsoleReportPublisher,
  SnsReportPublisher,
} from '../../../lib/administrators/publishers.ts';
import {
  compareSnapshots,
  describeReport,
  runAdministratorReport,
  snapshotOf,
} from '../../../lib/administrators/report.ts';
import { DynamoSnapshotStore } from '../../../lib/administrators/snapshot-store.ts';
import type { CloudAdministrator } from '../../../lib/citrix/administrators-client.ts';
import {
  createSnapshotsTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../../local/dynamodb.ts';

const admin = (n: number, accessType: string, extra: Partial<CloudAdministrator> = {}) =>
  ({
    ucOid: `OID:/citrix/${n}`,
    userId: String(n),
    type: 'AdministratorUser',
    accessType,
    email: `admin${n}@example.com`,
    pending: false,
    createdDate: '2026-01-01T00:00:00Z',
    ...extra,
  }) as CloudAdministrator;

const MONDAY = new Date('2026-11-23T06:00:00Z');
const TUESDAY = new Date('2026-11-24T06:00:00Z');

describe('compareSnapshots', () => {
  it('reports exactly a new Full administrator between two snapshots', () => {
    const before = snapshotOf([admin(1, 'Full'), admin(2, 'Custom')], MONDAY);
    const after = snapshotOf([admin(1, 'Full'), admin(2, 'Custom'), admin(3, 'Full')], TUESDAY);
    const report = compareSnapshots(before, after, 14);
    expect(report).toEqual({
      takenAt: TUESDAY.toISOString(),
      previousTakenAt: MONDAY.toISOString(),
      administratorCount: 3,
      added: [expect.objectContaining({ ucOid: 'OID:/citrix/3', accessType: 'Full' })],
      becameFull: [expect.objectContaining({ ucOid: 'OID:/citrix/3' })],
      removed: [],
      stalePendingInvitations: [],
      hasFindings: true,
    });
    expect(report.becameFull[0]).not.toHaveProperty('previousAccessType');
  });

  it('reports a promotion to Full, a removal and a stale invitation, and nothing else', () => {
    const before = snapshotOf([admin(1, 'Full'), admin(2, 'Custom'), admin(4, 'Custom')], MONDAY);
    const after = snapshotOf(
      [
        admin(1, 'Full'),
        admin(2, 'Full'),
        admin(5, 'Custom', { pending: true, createdDate: '2026-10-01T00:00:00Z' }),
        admin(6, 'Custom', { pending: true, createdDate: '2026-11-20T00:00:00Z' }),
      ],
      TUESDAY,
    );
    const report = compareSnapshots(before, after, 14);
    expect(report.becameFull).toEqual([
      expect.objectContaining({ ucOid: 'OID:/citrix/2', previousAccessType: 'Custom' }),
    ]);
    expect(report.removed.map((entry) => entry.ucOid)).toEqual(['OID:/citrix/4']);
    expect(report.added.map((entry) => entry.ucOid)).toEqual(['OID:/citrix/5', 'OID:/citrix/6']);
    expect(report.stalePendingInvitations).toEqual([
      expect.objectContaining({ ucOid: 'OID:/citrix/5', pendingDays: 54 }),
    ]);
    expect(describeReport(report)).toEqual([
      `Citrix Cloud administrators at ${TUESDAY.toISOString()} since ${MONDAY.toISOString()}: 4 listed`,
      'New administrator: admin5@example.com (AdministratorUser, Custom)',
      'New administrator: admin6@example.com (AdministratorUser, Custom)',
      'Now has Full access: admin2@example.com (AdministratorUser, Full) (was Custom)',
      'Removed: admin4@example.com (AdministratorUser, Custom)',
      'Invitation pending for 54 days: admin5@example.com (AdministratorUser, Custom)',
    ]);
  });

  it('has no findings when nothing changed, and treats the first run as the baseline', () => {
    const snapshot = snapshotOf([admin(1, 'Full')], MONDAY);
    expect(
      compareSnapshots(snapshot, { ...snapshot, takenAt: TUESDAY.toISOString() }, 14).hasFindings,
    ).toBe(false);
    const first = compareSnapshots(
      undefined,
      snapshotOf([admin(1, 'Full'), admin(2, 'Full')], MONDAY),
      14,
    );
    expect(first).toMatchObject({ added: [], becameFull: [], removed: [], hasFindings: false });
    expect(first).not.toHaveProperty('previousTakenAt');
  });
});

describe('runAdministratorReport with DynamoDB (dynalite) and a publisher', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    await createSnapshotsTable(dynamo.client, 'snapshots');
  });
  afterAll(async () => dynamo.close());

  it('stores each snapshot, compares with the latest one and publishes only findings', async () => {
    const snapshots = new DynamoSnapshotStore(dynamo.client, 'snapshots', 30);
    const lines: string[] = [];
    const publisher = new ConsoleReportPublisher((line) => lines.push(line));
    let administrators = [admin(1, 'Full'), admin(2, 'Custom')];
    const run = (now: Date) =>
      runAdministratorReport(
        {
          directory: { listAdministrators: async () => administrators },
          snapshots,
          publisher,
          pendingInvitationMaxDays: 14,
        },
        now,
      );

    expect((await run(MONDAY)).hasFindings).toBe(false);
    expect(publisher.published).toEqual([]);
    administrators = [...administrators, admin(3, 'Full')];
    const second = await run(TUESDAY);
    expect(second.added.map((entry) => entry.email)).toEqual(['admin3@example.com']);
    expect(second.becameFull.map((entry) => entry.email)).toEqual(['admin3@example.com']);
    expect(publisher.published).toEqual([second]);
    expect(lines).toContain(
      '[administrator report] Now has Full access: admin3@example.com (AdministratorUser, Full)',
    );
    expect(await snapshots.latest()).toEqual({
      takenAt: TUESDAY.toISOString(),
      administrators: expect.arrayContaining(
        [expect.objectContaining({ userId: undefined, ucOid: 'OID:/citrix/3' })].map(() =>
          expect.objectContaining({ ucOid: 'OID:/citrix/3' }),
        ),
      ),
    });
    // A third run the same way sees no change: the second snapshot is the baseline now.
    expect((await run(new Date('2026-11-25T06:00:00Z'))).hasFindings).toBe(false);
  });
});

describe('SnsReportPublisher', () => {
  const sns = mockClient(SNSClient);
  afterAll(() => sns.restore());

  it('publishes a short subject and the readable report with its JSON', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const report = compareSnapshots(
      snapshotOf([admin(1, 'Full')], MONDAY),
      snapshotOf([admin(1, 'Full'), admin(3, 'Full')], TUESDAY),
      14,
    );
    await new SnsReportPublisher(new SNSClient({}), 'arn:aws:sns:eu-west-1:1:topic').publish(
      report,
    );
    const [call] = sns.commandCalls(PublishCommand);
    expect(call?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:1:topic',
      Subject: 'Citrix Cloud administrators: 2 findings',
    });
    const message = String(call?.args[0].input.Message);
    expect(message).toContain('New administrator: admin3@example.com');
    expect(JSON.parse(message.slice(message.indexOf('{')))).toEqual(report);
  });
});

describe('a failed publish', () => {
  it('keeps the previous snapshot, so the next run reports the change again', async () => {
    const saved: string[] = [];
    let previous = snapshotOf([admin(1, 'Full')], MONDAY);
    const snapshots = {
      latest: async () => previous,
      save: async (snapshot: typeof previous) => {
        saved.push(snapshot.takenAt);
        previous = snapshot;
      },
    };
    let failing = true;
    const published: unknown[] = [];
    const publisher = {
      publish: async (report: unknown) => {
        if (failing) throw new Error('SNS unavailable');
        published.push(report);
      },
    };
    const dependencies = {
      directory: { listAdministrators: async () => [admin(1, 'Full'), admin(3, 'Full')] },
      snapshots,
      publisher,
      pendingInvitationMaxDays: 14,
    };
    await expect(runAdministratorReport(dependencies, TUESDAY)).rejects.toThrow('SNS unavailable');
    expect(saved).toEqual([]);
    failing = false;
    const retried = await runAdministratorReport(dependencies, new Date('2026-11-24T07:00:00Z'));
    expect(retried.added.map((entry) => entry.email)).toEqual(['admin3@example.com']);
    expect(published).toEqual([retried]);
  });
});
