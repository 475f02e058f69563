import { auditCitrixCall } from '../../audit/context.ts';
import { CloudAdministratorsClient } from '../../citrix/administrators-client.ts';
import { recordRetentionDaysFromEnv, requiredEnv } from '../env.ts';
import { citrixCallMetrics } from '../metrics.ts';
import { once } from '../once.ts';
import { DynamoRevokeSnapshotStore } from '../revoke-snapshot-store.ts';
import {
  awsCitrixConnection,
  awsCitrixCredentials,
  checkCitrixConnectionAtInit,
} from './citrix-cloud.ts';
import { dynamoDBClient } from './dynamodb.ts';

const recordAdministratorsCall = citrixCallMetrics('cloud-administrators');

/** The Citrix Cloud administrators client, every call audited and counted in the metrics. */
export const awsAdministratorsClient = once(
  () =>
    new CloudAdministratorsClient({
      onCall: (call) => {
        auditCitrixCall(call);
        recordAdministratorsCall(call);
      },
      connection: awsCitrixConnection(),
      credentials: awsCitrixCredentials,
    }),
);

/**
 * The revoke snapshots `admin.restore` puts back (items of the actions table,
 * `ACTIONS_TABLE_NAME`), kept as long as action records (`RECORD_RETENTION_DAYS`).
 */
export const awsRevokeSnapshots = once(
  () =>
    new DynamoRevokeSnapshotStore(
      dynamoDBClient,
      requiredEnv(process.env, 'ACTIONS_TABLE_NAME'),
      recordRetentionDaysFromEnv(process.env),
    ),
);

checkCitrixConnectionAtInit();
