import * as z from 'zod';
import {
  type AdministratorAccess,
  administratorId,
  type CloudAdministrator,
} from '../citrix/administrators-client.ts';
import { CitrixNotFoundError } from '../citrix/errors.ts';

/**
 * One permission as a snapshot keeps it: enough to put it back with `PUT /administrators/access`
 * (its name and service) and to show it to a person (its display names).
 */
export const GrantedPolicySchema = z.object({
  name: z.string(),
  serviceName: z.string().optional(),
  displayName: z.string().optional(),
  /** Every scope of the policy, present and future (`allScopesSelected`). */
  allScopes: z.literal(true).optional(),
  /** The scopes granted one by one; absent for a policy without scopes or with all of them. */
  scopes: z.array(z.object({ name: z.string(), displayName: z.string().optional() })).optional(),
});
export type GrantedPolicy = z.infer<typeof GrantedPolicySchema>;

/**
 * What an administrator can do, from `GET /administrators/{id}/access`. Only granted policies are
 * kept, and none for Full access: Full grants every permission (including ones Citrix adds
 * later), is restored as `accessType: 'Full'`, and its list would dominate the snapshot's size.
 */
export const SnapshotAccessSchema = z.object({
  accessType: z.string(),
  /** The granted policies, for any access but Full (an empty list grants nothing). */
  policies: z.array(GrantedPolicySchema).optional(),
});
export type SnapshotAccess = z.infer<typeof SnapshotAccessSchema>;

/** One administrator as a snapshot keeps it: enough to tell who they are and what they can do. */
export const SnapshotEntrySchema = z.object({
  ucOid: z.string(),
  administratorId: z.string(),
  type: z.string(),
  email: z.string().optional(),
  displayName: z.string().optional(),
  accessType: z.string().optional(),
  pending: z.boolean(),
  createdDate: z.string().optional(),
  /**
   * Absent for pending invitations (they grant nothing yet), for an administrator removed between
   * the listing and the access read, and in snapshots taken before access was kept.
   */
  access: SnapshotAccessSchema.optional(),
});
export type SnapshotEntry = z.infer<typeof SnapshotEntrySchema>;

export const AdministratorSnapshotSchema = z.object({
  takenAt: z.iso.datetime(),
  administrators: z.array(SnapshotEntrySchema),
});
export type AdministratorSnapshot = z.infer<typeof AdministratorSnapshotSchema>;

export const AdministratorReportSchema = z.object({
  takenAt: z.string(),
  /** When the snapshot compared against was taken; absent on the first run. */
  previousTakenAt: z.string().optional(),
  administratorCount: z.number().int(),
  added: z.array(SnapshotEntrySchema),
  becameFull: z.array(SnapshotEntrySchema.extend({ previousAccessType: z.string().optional() })),
  /**
   * Custom administrators granted permissions they did not have: `gained` lists exactly those
   * (a policy, or new scopes of a policy they had), `lost` what they no longer have.
   */
  accessChanged: z.array(
    SnapshotEntrySchema.extend({
      gained: z.array(GrantedPolicySchema),
      lost: z.array(GrantedPolicySchema),
    }),
  ),
  removed: z.array(SnapshotEntrySchema),
  stalePendingInvitations: z.array(SnapshotEntrySchema.extend({ pendingDays: z.number().int() })),
  /** Whether anything above deserves a person's attention (and so was published). */
  hasFindings: z.boolean(),
});
export type AdministratorReport = z.infer<typeof AdministratorReportSchema>;

/** How many findings a report has, all kinds together. */
export function findingCount(report: AdministratorReport): number {
  return (
    report.added.length +
    report.becameFull.length +
    report.accessChanged.length +
    report.removed.length +
    report.stalePendingInvitations.length
  );
}

function withDefined<T extends object>(target: T, optional: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(target, { [key]: value });
  }
  return target;
}

/**
 * The compact form of an access read: the policies granted (checked, or with a checked scope),
 * each with the scopes granted. Full access keeps no policies (see SnapshotAccessSchema).
 */
export function compactAccess(access: AdministratorAccess): SnapshotAccess {
  if (access.accessType === 'Full') return { accessType: 'Full' };
  const policies = (access.policies ?? []).flatMap((policy): GrantedPolicy[] => {
    const scopes = (policy.scopeChoices?.choices ?? [])
      .filter((choice) => choice.checkable.value)
      .map((choice) =>
        withDefined({ name: choice.name }, { displayName: choice.displayName ?? undefined }),
      );
    if (!policy.checkable.value && scopes.length === 0) return [];
    const granted = withDefined<GrantedPolicy>(
      { name: policy.name },
      {
        serviceName: policy.serviceName ?? undefined,
        displayName: policy.displayName ?? undefined,
      },
    );
    if (policy.scopeChoices?.allScopesSelected === true) granted.allScopes = true;
    else if (scopes.length > 0) granted.scopes = scopes;
    return [granted];
  });
  return { accessType: access.accessType, policies };
}

/**
 * `access` holds the access read of each active administrator, by ucOid; administrators without
 * one (pending invitations, or gone by the time it was read) are kept without access.
 */
export function snapshotOf(
  administrators: readonly CloudAdministrator[],
  now: Date,
  access: ReadonlyMap<string, AdministratorAccess> = new Map(),
) {
  const entries = administrators.map((admin): SnapshotEntry => {
    const read = access.get(admin.ucOid);
    return withDefined<SnapshotEntry>(
      {
        ucOid: admin.ucOid,
        administratorId: administratorId(admin),
        type: admin.type,
        pending: admin.pending === true,
      },
      {
        email: admin.email ?? undefined,
        displayName: admin.displayName ?? undefined,
        accessType: admin.accessType ?? undefined,
        createdDate: admin.createdDate ?? undefined,
        access: read === undefined ? undefined : compactAccess(read),
      },
    );
  });
  entries.sort((a, b) => a.ucOid.localeCompare(b.ucOid));
  return { takenAt: now.toISOString(), administrators: entries } satisfies AdministratorSnapshot;
}

/** Access reads at once: a large tenant is read steadily rather than in one burst. */
export const ACCESS_READ_CONCURRENCY = 5;

/**
 * Reads the access of every active administrator (pending invitations grant nothing yet),
 * `concurrency` at a time. An administrator removed since the listing (404) is left out; any
 * other failure fails the snapshot, as a snapshot with holes would hide changes.
 */
export async function readAccess(
  directory: Pick<AdministratorReportDirectory, 'getAccess'>,
  administrators: readonly CloudAdministrator[],
  concurrency = ACCESS_READ_CONCURRENCY,
): Promise<Map<string, AdministratorAccess>> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const active = administrators.filter((admin) => admin.pending !== true);
  const access = new Map<string, AdministratorAccess>();
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < active.length && !failed) {
      const admin = active[next] as CloudAdministrator;
      next += 1;
      try {
        access.set(admin.ucOid, await directory.getAccess(administratorId(admin)));
      } catch (error) {
        if (error instanceof CitrixNotFoundError) continue;
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, active.length) }, worker));
  return access;
}

/**
 * The policies (or scopes) of `from` that `other` does not grant. A policy with all its scopes
 * already covers any single scope; gaining "all scopes" is itself a new permission.
 */
export function policiesMissingFrom(
  from: readonly GrantedPolicy[],
  other: readonly GrantedPolicy[],
): GrantedPolicy[] {
  const others = new Map(other.map((policy) => [policy.name, policy]));
  return from.flatMap((policy): GrantedPolicy[] => {
    const old = others.get(policy.name);
    if (old === undefined) return [policy];
    if (old.allScopes === true) return [];
    if (policy.allScopes === true) return [{ ...policy }];
    const had = new Set((old.scopes ?? []).map((scope) => scope.name));
    const scopes = (policy.scopes ?? []).filter((scope) => !had.has(scope.name));
    return scopes.length === 0 ? [] : [{ ...policy, scopes }];
  });
}

const DAY_MS = 86_400_000;
const keyOf = (entry: SnapshotEntry) => entry.ucOid.toLowerCase();

/** The policies of a non-Full access, or undefined when there is nothing to compare. */
const customPolicies = (entry: SnapshotEntry | undefined) =>
  entry?.access !== undefined && entry.access.accessType !== 'Full'
    ? entry.access.policies
    : undefined;

/**
 * What changed since the previous snapshot: administrators added, administrators whose access
 * became Full (new Full administrators count as both), Custom administrators granted permissions
 * they did not have (compared only where both snapshots read their access; permissions only
 * taken away are not a finding), administrators removed, and invitations pending for longer than
 * `pendingInvitationMaxDays` (reported on every run until resolved). The first run has nothing to
 * compare with and reports only stale invitations.
 */
export function compareSnapshots(
  previous: AdministratorSnapshot | undefined,
  current: AdministratorSnapshot,
  pendingInvitationMaxDays: number,
): AdministratorReport {
  const before = new Map((previous?.administrators ?? []).map((entry) => [keyOf(entry), entry]));
  const now = new Map(current.administrators.map((entry) => [keyOf(entry), entry]));
  const added = previous ? current.administrators.filter((entry) => !before.has(keyOf(entry))) : [];
  const becameFull = previous
    ? current.administrators
        .filter((entry) => entry.accessType === 'Full')
        .flatMap((entry) => {
          const old = before.get(keyOf(entry));
          if (old?.accessType === 'Full') return [];
          return [{ ...entry, ...(old?.accessType ? { previousAccessType: old.accessType } : {}) }];
        })
    : [];
  const accessChanged = current.administrators.flatMap((entry) => {
    const policies = customPolicies(entry);
    const oldPolicies = customPolicies(before.get(keyOf(entry)));
    if (policies === undefined || oldPolicies === undefined) return [];
    const gained = policiesMissingFrom(policies, oldPolicies);
    if (gained.length === 0) return [];
    return [{ ...entry, gained, lost: policiesMissingFrom(oldPolicies, policies) }];
  });
  const removed = (previous?.administrators ?? []).filter((entry) => !now.has(keyOf(entry)));
  const takenAt = Date.parse(current.takenAt);
  const stalePendingInvitations = current.administrators.flatMap((entry) => {
    if (!entry.pending || entry.createdDate === undefined) return [];
    const created = Date.parse(entry.createdDate);
    if (Number.isNaN(created)) return [];
    const pendingDays = Math.floor((takenAt - created) / DAY_MS);
    return pendingDays > pendingInvitationMaxDays ? [{ ...entry, pendingDays }] : [];
  });
  const report = {
    takenAt: current.takenAt,
    ...(previous ? { previousTakenAt: previous.takenAt } : {}),
    administratorCount: current.administrators.length,
    added,
    becameFull,
    accessChanged,
    removed,
    stalePendingInvitations,
    hasFindings: false,
  };
  return { ...report, hasFindings: findingCount(report) > 0 };
}

const who = (entry: SnapshotEntry) =>
  `${entry.email ?? entry.displayName ?? entry.ucOid} (${entry.type}${entry.accessType ? `, ${entry.accessType}` : ''})`;

const permission = (policy: GrantedPolicy) => {
  const name = policy.displayName ?? policy.name;
  if (policy.allScopes === true) return `${name} (all scopes)`;
  const scopes = (policy.scopes ?? []).map((scope) => scope.displayName ?? scope.name);
  return scopes.length === 0 ? name : `${name} (${scopes.join(', ')})`;
};

/** The report as lines a person reads in an email or a chat channel. */
export function describeReport(report: AdministratorReport): string[] {
  const since = report.previousTakenAt ? ` since ${report.previousTakenAt}` : ' (first snapshot)';
  const lines = [
    `Citrix Cloud administrators at ${report.takenAt}${since}: ${report.administratorCount} listed`,
  ];
  for (const entry of report.added) lines.push(`New administrator: ${who(entry)}`);
  for (const entry of report.becameFull) {
    const from = entry.previousAccessType ? ` (was ${entry.previousAccessType})` : '';
    lines.push(`Now has Full access: ${who(entry)}${from}`);
  }
  for (const entry of report.accessChanged) {
    const lost = entry.lost.length > 0 ? `; lost ${entry.lost.map(permission).join(', ')}` : '';
    lines.push(
      `Access grew: ${who(entry)} gained ${entry.gained.map(permission).join(', ')}${lost}`,
    );
  }
  for (const entry of report.removed) lines.push(`Removed: ${who(entry)}`);
  for (const entry of report.stalePendingInvitations) {
    lines.push(`Invitation pending for ${entry.pendingDays} days: ${who(entry)}`);
  }
  if (!report.hasFindings) lines.push('No changes');
  return lines;
}

/** The latest snapshot, with its report while that still waits to be published. */
export interface SavedSnapshot {
  readonly snapshot: AdministratorSnapshot;
  /** Saved with the snapshot and not published yet (the publish failed, or never ran). */
  readonly unpublishedReport?: AdministratorReport;
}

/** Where the snapshots are kept between runs, each with its report. */
export interface SnapshotStore {
  latest(): Promise<SavedSnapshot | undefined>;
  /** Saves the snapshot and its report; a report with findings is saved as unpublished. */
  save(snapshot: AdministratorSnapshot, report: AdministratorReport): Promise<void>;
  /** Marks the report saved with the snapshot taken at `takenAt` as published. */
  markPublished(takenAt: string): Promise<void>;
}

/** Where findings go: SNS in AWS, the console locally. */
export interface ReportPublisher {
  publish(report: AdministratorReport): Promise<void>;
}

/** The parts of the administrators client the report needs. */
export interface AdministratorReportDirectory {
  listAdministrators(): Promise<CloudAdministrator[]>;
  getAccess(id: string): Promise<AdministratorAccess>;
}

export interface AdministratorReportDependencies {
  readonly directory: AdministratorReportDirectory;
  readonly snapshots: SnapshotStore;
  readonly publisher: ReportPublisher;
  readonly pendingInvitationMaxDays: number;
}

/**
 * The scheduled job: publish the previous run's report if that failed, snapshot the
 * administrators and their access, compare with the previous snapshot, save, publish findings.
 *
 * The snapshot and its report are saved (as unpublished) before the report is published, and
 * marked published after. A failed publish fails the run, and the next run publishes the saved
 * report before anything else (failing again, without a new snapshot, while SNS still fails),
 * so findings are published at least once: twice if only the marking failed.
 */
export async function runAdministratorReport(
  dependencies: AdministratorReportDependencies,
  now: Date,
): Promise<AdministratorReport> {
  const { directory, snapshots, publisher } = dependencies;
  const saved = await snapshots.latest();
  if (saved?.unpublishedReport !== undefined) {
    await publisher.publish(saved.unpublishedReport);
    await snapshots.markPublished(saved.snapshot.takenAt);
  }
  const administrators = await directory.listAdministrators();
  const current = snapshotOf(administrators, now, await readAccess(directory, administrators));
  const report = compareSnapshots(saved?.snapshot, current, dependencies.pendingInvitationMaxDays);
  await snapshots.save(current, report);
  if (report.hasFindings) {
    await publisher.publish(report);
    await snapshots.markPublished(current.takenAt);
  }
  return report;
}
