import { SnsReportPublisher } from '../../administrators/publishers.ts';
import type { AdministratorReportDependencies } from '../../administrators/report.ts';
import { DynamoSnapshotStore } from '../../administrators/snapshot-store.ts';
import { administratorReportSettingsFromEnv } from '../administrator-settings.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsAdministratorsClient } from './administrators.ts';
import { dynamoDBClient } from './dynamodb.ts';
import { snsClient } from './sns.ts';

/**
 * The scheduled administrator report's dependencies: the administrators client, the snapshots
 * table (`SNAPSHOTS_TABLE_NAME`), the findings topic (`REPORT_TOPIC_ARN`) and its settings.
 */
export const awsAdministratorReportDependencies = once((): AdministratorReportDependencies => {
  const env = process.env;
  const settings = administratorReportSettingsFromEnv(env);
  return {
    directory: awsAdministratorsClient(),
    snapshots: new DynamoSnapshotStore(
      dynamoDBClient,
      requiredEnv(env, 'SNAPSHOTS_TABLE_NAME'),
      settings.snapshotRetentionDays,
    ),
    publisher: new SnsReportPublisher(snsClient, requiredEnv(env, 'REPORT_TOPIC_ARN')),
    pendingInvitationMaxDays: settings.pendingInvitationMaxDays,
  };
});
