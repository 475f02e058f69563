import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AdministratorReport, describeReport, type ReportPublisher } from './report.ts';

/** Publishes findings to an SNS topic: a readable message, with the report as JSON below it. */
export class SnsReportPublisher implements ReportPublisher {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.#client = client;
    this.#topicArn = topicArn;
  }

  async publish(report: AdministratorReport): Promise<void> {
    const findings =
      report.added.length +
      report.becameFull.length +
      report.removed.length +
      report.stalePendingInvitations.length;
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        // SNS subjects are at most 100 ASCII characters.
        Subject: `Citrix Cloud administrators: ${findings} finding${findings === 1 ? '' : 's'}`,
        Message: `${describeReport(report).join('\n')}\n\n${JSON.stringify(report, null, 2)}`,
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
