import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  type AdministratorReport,
  describeReport,
  findingCount,
  type ReportPublisher,
} from './report.ts';
import { SNAPSHOT_KIND } from './snapshot-store.ts';

/**
 * Message bytes at most: SNS takes 256 KB, subject and attributes included. A report above this
 * is published as a summary, and the full report stays in the snapshots table.
 */
export const SNS_MESSAGE_MAX_BYTES = 200_000;
/** Findings a summary lists at most (fewer if they would not fit). */
export const SUMMARY_MAX_FINDINGS = 50;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The SNS message for a report: its readable lines, then the report as compact JSON. When that is
 * above `maxBytes`: the counts, the first SUMMARY_MAX_FINDINGS findings that fit, where the full
 * report is kept, and a JSON summary.
 */
export function reportMessage(
  report: AdministratorReport,
  maxBytes: number = SNS_MESSAGE_MAX_BYTES,
): string {
  const [title = '', ...findings] = describeReport(report);
  const full = `${[title, ...findings].join('\n')}\n\n${JSON.stringify(report)}`;
  if (bytes(full) <= maxBytes) return full;

  const counts = {
    added: report.added.length,
    becameFull: report.becameFull.length,
    accessChanged: report.accessChanged.length,
    removed: report.removed.length,
    stalePendingInvitations: report.stalePendingInvitations.length,
  };
  const head = [
    title,
    `Findings: ${counts.added} new, ${counts.becameFull} now Full, ${counts.accessChanged} with more access, ${counts.removed} removed, ${counts.stalePendingInvitations} stale invitations`,
  ];
  const tail = [
    '',
    `The report is too large for one message: the full report is saved with the snapshot in the administrator snapshots table (kind ${SNAPSHOT_KIND}, takenAt ${report.takenAt}).`,
    '',
    JSON.stringify({
      takenAt: report.takenAt,
      ...(report.previousTakenAt ? { previousTakenAt: report.previousTakenAt } : {}),
      administratorCount: report.administratorCount,
      findings: counts,
      truncated: true,
      fullReport: { kind: SNAPSHOT_KIND, takenAt: report.takenAt },
    }),
  ];
  // Room for the "and N more" line, whatever N is.
  let used = bytes([...head, ...tail].join('\n')) + 100;
  const shown: string[] = [];
  for (const line of findings.slice(0, SUMMARY_MAX_FINDINGS)) {
    if (used + bytes(line) + 1 > maxBytes) break;
    shown.push(line);
    used += bytes(line) + 1;
  }
  const more = findings.length - shown.length;
  return [
    ...head,
    ...shown,
    ...(more > 0 ? [`... and ${more} more finding${more === 1 ? '' : 's'}`] : []),
    ...tail,
  ].join('\n');
}

/** Publishes findings to an SNS topic: a readable message, with the report as JSON below it. */
export class SnsReportPublisher implements ReportPublisher {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.#client = client;
    this.#topicArn = topicArn;
  }

  async publish(report: AdministratorReport): Promise<void> {
    const findings = findingCount(report);
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        // SNS subjects are at most 100 ASCII characters.
        Subject: `Citrix Cloud administrators: ${findings} finding${findings === 1 ? '' : 's'}`,
        Message: reportMessage(report),
      }),
    );
  }
}

/** Locally: the report's lines on the console, and every report kept for whoever asks. */
export class ConsoleReportPublisher implements ReportPublisher {
  readonly published: AdministratorReport[] = [];
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => console.log(line)) {
    this.#write = write;
  }

  async publish(report: AdministratorReport): Promise<void> {
    this.published.push(report);
    for (const line of describeReport(report)) this.#write(`[administrator report] ${line}`);
  }
}
