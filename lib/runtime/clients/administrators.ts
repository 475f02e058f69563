import { auditCitrixCall } from '../../audit/context.ts';
import { CloudAdministratorsClient } from '../../citrix/administrators-client.ts';
import { once } from '../once.ts';
import { awsCitrixConnection, awsCitrixCredentials } from './citrix-cloud.ts';

/** The Citrix Cloud administrators client, every call recorded in the audit trail. */
export const awsAdministratorsClient = once(
  () =>
    new CloudAdministratorsClient({
      onCall: auditCitrixCall,
      connection: awsCitrixConnection(),
      credentials: awsCitrixCredentials,
    }),
);
