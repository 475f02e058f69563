import { auditCitrixCall } from '../../audit/context.ts';
import { DaasClient } from '../../citrix/daas-client.ts';
import { once } from '../once.ts';
import {
  awsCitrixConnection,
  awsCitrixCredentials,
  checkCitrixConnectionAtInit,
} from './citrix-cloud.ts';

/** The Citrix DaaS client: one token per warm container, every call recorded in the audit trail. */
export const awsDaasClient = once(
  () =>
    new DaasClient({
      onCall: auditCitrixCall,
      connection: awsCitrixConnection(),
      credentials: awsCitrixCredentials,
    }),
);

checkCitrixConnectionAtInit();
