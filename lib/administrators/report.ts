import { z } from 'zod';
import { administratorId, type CloudAdministrator } from '../citrix/administrators-client.ts';

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
  removed: z.array(SnapshotEntrySchema),
  stalePendingInvitations: z.array(SnapshotEntrySchema.extend({ pendingDays: z.number().int() })),
  /** Whether anything above deserves a person's attention (and so was published). */
  hasFindings: z.boolean(),
});
export type AdministratorReport = z.infer<typeof AdministratorReportSchema>;

export function snapshotOf(administrators: readonly CloudAdministrator[], now: Date) {
  const entries = administrators.map((admin): SnapshotEntry => {
    const entry: SnapshotEntry = {
      ucOid: admin.ucOid,
      administratorId: administratorId(admin),
      type: admin.type,
      pending: admin.pending === true,
    };
    const optional = {
      email: admin.email ?? undefined,
      displayName: admin.displayName ?? undefined,
      accessType: admin.accessType ?? undefined,
      createdDate: admin.createdDate ?? undefined,
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) Object.assign(entry, { [key]: value });
    }
    return entry;
  });
  entries.sort((a, b) => a.ucOid.localeCompare(b.ucOid));
  return { takenAt: now.toISOString(), administrators: entries } satisfies AdministratorSnapshot;
}

const DAY_MS = 86_400_000;
const keyOf = (entry: SnapshotEntry) => entry.ucOid.toLowerCase();

/**
 * What changed since the previous snapshot: administrators added, administrators whose access
 * became Full (new Full administrators count as both), administrators removed, and invitations
 * pending for longer than `pendingInvitationMaxDays` (reported on every run until resolved).
 * The first run has nothing to compare with and reports only stale invitations.
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
  const removed = (previous?.administrators ?? []).filter((entry) => !now.has(keyOf(entry)));
  const takenAt = Date.parse(current.takenAt);
  const stalePendingInvitations = current.administrators.flatMap((entry) => {
    if (!entry.pending || entry.createdDate === undefined) return [];
    const created = Date.parse(entry.createdDate);
    if (Number.isNaN(created)) return [];
    const pendingDays = Math.floor((takenAt - created) / DAY_MS);
    return pendingDays > pendingInvitationMaxDays ? [{ ...entry, pendingDays }] : [];
  });
  return {
    takenAt: current.takenAt,
    ...(previous ? { previousTakenAt: previous.takenAt } : {}),
    administratorCount: current.administrators.length,
    added,
    becameFull,
    removed,
    stalePendingInvitations,
    hasFindings:
      added.length + becameFull.length + removed.length + stalePendingInvitations.length > 0,
  };
}

const who = (entry: SnapshotEntry) =>
  `${entry.email ?? entry.displayName ?? entry.ucOid} (${entry.type}${entry.accessType ? `, ${entry.accessType}` : ''})`;

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
  for (const entry of report.removed) lines.push(`Removed: ${who(entry)}`);
  for (const entry of report.stalePendingInvitations) {
    lines.push(`Invitation pending for ${entry.pendingDays} days: ${who(entry)}`);
  }
  if (!report.hasFindings) lines.push('No changes');
  return lines;
}

/** Where the latest snapshot is kept between runs. */
export interface SnapshotStore {
  latest(): Promise<AdministratorSnapshot | undefined>;
  save(snapshot: AdministratorSnapshot, report: AdministratorReport): Promise<void>;
}

/** Where findings go: SNS in AWS, the console locally. */
export interface ReportPublisher {
  publish(report: AdministratorReport): Promise<void>;
}

export interface AdministratorReportDependencies {
  readonly directory: { listAdministrators(): Promise<CloudAdministrator[]> };
  readonly snapshots: SnapshotStore;
  readonly publisher: ReportPublisher;
  readonly pendingInvitationMaxDays: number;
}

/** The scheduled job: snapshot, compare with the previous one, store, publish findings. */
export async function runAdministratorReport(
  dependencies: AdministratorReportDependencies,
  now: Date,
): Promise<AdministratorReport> {
  const current = snapshotOf(await dependencies.directory.listAdministrators(), now);
  const previous = await dependencies.snapshots.latest();
  const report = compareSnapshots(previous, current, dependencies.pendingInvitationMaxDays);
  // Published before the snapshot is stored: if publishing fails, the next run compares with the
  // same previous snapshot and reports the change again, rather than never.
  if (report.hasFindings) await dependencies.publisher.publish(report);
  await dependencies.snapshots.save(current, report);
  return report;
}
