import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsoleReportPublisher,
  reportMessage,
  SNS_MESSAGE_MAX_BYTES,
  SnsReportPublisher,
  SUMMARY_MAX_FINDINGS,
} from '../../../lib/administrators/publishers.ts';
import {
  type AdministratorReport,
  type AdministratorSnapshot,
  compactAccess,
  compareSnapshots,
  describeReport,
  runAdministratorReport,
  type SnapshotStore,
  snapshotOf,
} from '../../../lib/administrators/report.ts';
import { DynamoSnapshotStore } from '../../../lib/administrators/snapshot-store.ts';
import type {
  AdministratorAccess,
  CloudAdministrator,
} from '../../../lib/citrix/administrators-client.ts';
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
      accessChanged: [],
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

describe('accessChanged', () => {
  const ROLE = 'R-delivery-groups';
  const scoped = (scopes: string[] | 'all'): AdministratorAccess => ({
    accessType: 'Custom',
    policies: [
      {
        name: ROLE,
        serviceName: 'XenDesktop',
        displayName: 'Delivery Group Administrator',
        checkable: { value: true, canChangeValue: true },
        scopeChoices: {
          allScopesSelected: scopes === 'all',
          choices: ['finance', 'sales'].map((name) => ({
            name,
            checkable: { value: scopes === 'all' || scopes.includes(name), canChangeValue: true },
          })),
        },
      },
      { name: 'licensing', checkable: { value: false, canChangeValue: true } },
    ],
  });
  const snapshot = (access: AdministratorAccess | undefined, at: Date, accessType = 'Custom') =>
    snapshotOf(
      [admin(1, accessType)],
      at,
      new Map(access === undefined ? [] : [['OID:/citrix/1', access]]),
    );
  const compare = (before: AdministratorSnapshot, after: AdministratorSnapshot) =>
    compareSnapshots(before, after, 14).accessChanged;

  it('keeps only granted policies and scopes, and no policies for Full access', () => {
    expect(compactAccess(scoped(['sales']))).toEqual({
      accessType: 'Custom',
      policies: [
        {
          name: ROLE,
          serviceName: 'XenDesktop',
          displayName: 'Delivery Group Administrator',
          scopes: [{ name: 'sales' }],
        },
      ],
    });
    expect(compactAccess(scoped('all')).policies).toEqual([
      expect.objectContaining({ name: ROLE, allScopes: true }),
    ]);
    expect(compactAccess({ ...scoped('all'), accessType: 'Full' })).toEqual({ accessType: 'Full' });
  });

  it('reports a new scope of a role already held, and all scopes as a permission of its own', () => {
    expect(
      compare(
        snapshot(scoped(['finance']), MONDAY),
        snapshot(scoped(['finance', 'sales']), TUESDAY),
      ),
    ).toEqual([
      expect.objectContaining({
        gained: [expect.objectContaining({ name: ROLE, scopes: [{ name: 'sales' }] })],
        lost: [],
      }),
    ]);
    const toAll = compare(snapshot(scoped(['finance']), MONDAY), snapshot(scoped('all'), TUESDAY));
    expect(toAll.map((entry) => entry.gained)).toEqual([
      [expect.objectContaining({ name: ROLE, allScopes: true })],
    ]);
    expect(
      describeReport(
        compareSnapshots(
          snapshot(scoped(['finance']), MONDAY),
          snapshot(scoped('all'), TUESDAY),
          14,
        ),
      ),
    ).toContain(
      'Access grew: admin1@example.com (AdministratorUser, Custom) gained Delivery Group Administrator (all scopes)',
    );
  });

  it('reports nothing when access only shrank, moved to or from Full, or was not read before', () => {
    expect(
      compare(snapshot(scoped('all'), MONDAY), snapshot(scoped(['finance']), TUESDAY)),
    ).toEqual([]);
    expect(
      compare(snapshot(scoped(['finance', 'sales']), MONDAY), snapshot(scoped([]), TUESDAY)),
    ).toEqual([]);
    expect(
      compare(
        snapshot({ accessType: 'Full' }, MONDAY, 'Full'),
        snapshot(scoped(['finance']), TUESDAY),
      ),
    ).toEqual([]);
    // A snapshot taken before access was kept is no baseline for it.
    expect(compare(snapshot(undefined, MONDAY), snapshot(scoped(['finance']), TUESDAY))).toEqual(
      [],
    );
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
          directory: {
            listAdministrators: async () => administrators,
            getAccess: async (id: string) => ({
              accessType: administrators.find((a) => a.userId === id)?.accessType ?? 'Custom',
              policies: [],
            }),
          },
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
    expect((await snapshots.latest())?.snapshot).toEqual({
      takenAt: TUESDAY.toISOString(),
      administrators: expect.arrayContaining([
        expect.objectContaining({ ucOid: 'OID:/citrix/3', access: { accessType: 'Full' } }),
      ]),
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
    const json = message.slice(message.indexOf('{'));
    expect(JSON.parse(json)).toEqual(report);
    // Compact: one line of JSON, no pretty-printing.
    expect(json).not.toContain('\n');
  });
});

describe('reportMessage', () => {
  it('keeps a large report under the SNS budget: counts, the first findings, where the rest is', () => {
    const many = Array.from({ length: 3000 }, (_, n) => admin(n + 10, 'Custom'));
    const report = compareSnapshots(
      snapshotOf([admin(1, 'Full'), admin(2, 'Custom')], MONDAY),
      snapshotOf([admin(1, 'Full'), ...many], TUESDAY),
      14,
    );
    expect(Buffer.byteLength(JSON.stringify(report))).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES);

    const message = reportMessage(report);

    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    const lines = message.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      `Citrix Cloud administrators at ${TUESDAY.toISOString()} since ${MONDAY.toISOString()}: 3001 listed`,
      'Findings: 3000 new, 0 now Full, 0 with more access, 1 removed, 0 stale invitations',
    ]);
    const findings = lines.filter((line) => line.startsWith('New administrator: '));
    expect(findings).toHaveLength(SUMMARY_MAX_FINDINGS);
    expect(findings[0]).toBe('New administrator: admin10@example.com (AdministratorUser, Custom)');
    expect(message).toContain(`... and ${3001 - SUMMARY_MAX_FINDINGS} more findings`);
    expect(message).toContain(`kind cloud-administrators, takenAt ${TUESDAY.toISOString()}`);
    expect(JSON.parse(lines.at(-1) as string)).toEqual({
      takenAt: TUESDAY.toISOString(),
      previousTakenAt: MONDAY.toISOString(),
      administratorCount: 3001,
      findings: {
        added: 3000,
        becameFull: 0,
        accessChanged: 0,
        removed: 1,
        stalePendingInvitations: 0,
      },
      truncated: true,
      fullReport: { kind: 'cloud-administrators', takenAt: TUESDAY.toISOString() },
    });
  });

  it('lists fewer findings when their lines would not fit the budget', () => {
    const report = compareSnapshots(
      snapshotOf([], MONDAY),
      snapshotOf(
        Array.from({ length: 100 }, (_, n) =>
          admin(n, 'Custom', { email: `${'x'.repeat(2000)}${n}@example.com` }),
        ),
        TUESDAY,
      ),
      14,
    );

    const message = reportMessage(report, 20_000);

    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(20_000);
    const shown = message.split('\n').filter((line) => line.startsWith('New administrator: '));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(10);
    expect(message).toContain(`... and ${100 - shown.length} more findings`);
  });
});

describe('a failed publish', () => {
  it('saves the report unpublished, and the next run publishes it before its own', async () => {
    type Saved = { snapshot: ReturnType<typeof snapshotOf>; report: AdministratorReport };
    const saved: Saved[] = [];
    const published = new Set<string>([MONDAY.toISOString()]);
    saved.push({
      snapshot: snapshotOf([admin(1, 'Full')], MONDAY),
      report: compareSnapshots(undefined, snapshotOf([admin(1, 'Full')], MONDAY), 14),
    });
    const snapshots: SnapshotStore = {
      latest: async () => {
        const last = saved.at(-1);
        if (last === undefined) return undefined;
        return published.has(last.snapshot.takenAt)
          ? { snapshot: last.snapshot }
          : { snapshot: last.snapshot, unpublishedReport: last.report };
      },
      save: async (snapshot, report) => {
        saved.push({ snapshot, report });
      },
      markPublished: async (takenAt) => {
        published.add(takenAt);
      },
    };
    let failing = true;
    const publishedReports: AdministratorReport[] = [];
    const publisher = {
      publish: async (report: AdministratorReport) => {
        if (failing) throw new Error('SNS unavailable');
        publishedReports.push(report);
      },
    };
    const dependencies = {
      directory: {
        listAdministrators: async () => [admin(1, 'Full'), admin(3, 'Full')],
        getAccess: async () => ({ accessType: 'Full' }),
      },
      snapshots,
      publisher,
      pendingInvitationMaxDays: 14,
    };
    await expect(runAdministratorReport(dependencies, TUESDAY)).rejects.toThrow('SNS unavailable');
    // Saved before publishing, and not marked published.
    expect(saved.map((entry) => entry.snapshot.takenAt)).toEqual([
      MONDAY.toISOString(),
      TUESDAY.toISOString(),
    ]);
    expect(published.has(TUESDAY.toISOString())).toBe(false);
    // While SNS still fails, a run fails before taking another snapshot.
    await expect(
      runAdministratorReport(dependencies, new Date('2026-11-24T06:30:00Z')),
    ).rejects.toThrow('SNS unavailable');
    expect(saved).toHaveLength(2);

    failing = false;
    const retried = await runAdministratorReport(dependencies, new Date('2026-11-24T07:00:00Z'));
    expect(retried.hasFindings).toBe(false);
    expect(publishedReports).toHaveLength(1);
    expect(publishedReports[0]?.takenAt).toBe(TUESDAY.toISOString());
    expect(publishedReports[0]?.added.map((entry) => entry.email)).toEqual(['admin3@example.com']);
    expect(published.has(TUESDAY.toISOString())).toBe(true);
  });
});
