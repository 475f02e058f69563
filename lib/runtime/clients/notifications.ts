import type { NotificationDependencies } from '../../callbacks/notify.ts';
import { ServiceNowApiSecretSchema, ServiceNowClient } from '../../callbacks/servicenow.ts';
import {
  parseCallbackDestinations,
  SignedCallbackSender,
} from '../../callbacks/signed-callback.ts';
import { DEFAULT_RETRY_POLICY } from '../../citrix/retry.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { readJsonSecret, readSigningSecret } from '../secrets.ts';

/**
 * The ServiceNow Table API client when `SERVICENOW_API_SECRET_ARN` is set (the secret holds the
 * instance URL and the account), and the signed callback sender when destinations exist
 * (`CALLBACK_DESTINATIONS`, signed with `CALLBACK_SECRET_ARN`).
 */
export const awsNotificationDependencies = once((): NotificationDependencies => {
  const env = process.env;
  const transport = { timeoutMs: 10_000, retry: DEFAULT_RETRY_POLICY };
  const destinations = parseCallbackDestinations(env.CALLBACK_DESTINATIONS);
  return {
    ...(env.SERVICENOW_API_SECRET_ARN
      ? {
          serviceNow: new ServiceNowClient({
            connection: () =>
              readJsonSecret(
                requiredEnv(env, 'SERVICENOW_API_SECRET_ARN'),
                ServiceNowApiSecretSchema,
              ),
            ...transport,
          }),
        }
      : {}),
    ...(destinations.size > 0
      ? {
          callbacks: new SignedCallbackSender({
            destinations,
            signingSecret: () => readSigningSecret(requiredEnv(env, 'CALLBACK_SECRET_ARN')),
            ...transport,
          }),
        }
      : {}),
  };
});
