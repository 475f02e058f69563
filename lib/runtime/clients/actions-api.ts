import { callbackNamesFromEnv, requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { readSigningSecret } from '../secrets.ts';
import { awsIdempotentAcceptor } from './acceptor.ts';
import { awsActionRecords } from './action-records.ts';
import { awsAuditLog } from './audit-log.ts';
import { awsTaskTokens } from './workflows.ts';

/**
 * The actions API's dependencies, built on its first request: the action records, the idempotent
 * acceptor (which starts workflows), the approval task tokens, the audit trail, the Standard
 * Webhooks signing secret (`WEBHOOK_SECRET_ARN`, cached by Powertools) and the callback names.
 */
export const awsActionsApiDependencies = once(() => ({
  actions: awsActionRecords(),
  acceptor: awsIdempotentAcceptor(),
  tokens: awsTaskTokens(),
  audit: awsAuditLog(),
  signingSecret: (): Promise<string> =>
    readSigningSecret(requiredEnv(process.env, 'WEBHOOK_SECRET_ARN')),
  callbackNames: callbackNamesFromEnv(process.env),
}));
