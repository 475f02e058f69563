import { auditCitrixCall } from '../../audit/context.ts';
import { DaasClient } from '../../citrix/daas-client.ts';
import { citrixCallMetrics } from '../metrics.ts';
import { once } from '../once.ts';
import {
  awsCitrixConnection,
  awsCitrixCredentials,
  checkCitrixConnectionAtInit,
} from './citrix-cloud.ts';

const recordDaasCall = citrixCallMetrics('daas');

/**
 * The Citrix DaaS client: one token per warm container, every call recorded in the audit trail
 * and counted in the metrics.
 */
export const awsDaasClient = once(
  () =>
    new DaasClient({
      onCall: (call) => {
        auditCitrixCall(call);
        recordDaasCall(call);
      },
      connection: awsCitrixConnection(),
      credentials: awsCitrixCredentials,
    }),
);

checkCitrixConnectionAtInit();
