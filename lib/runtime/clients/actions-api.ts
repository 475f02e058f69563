import { callbackNamesFromEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsIdempotentAcceptor } from './acceptor.ts';
import { awsActionRecords } from './action-records.ts';
import { awsAuditLog } from './audit-log.ts';
import { awsTaskTokens } from './workflows.ts';

/**
 * The actions API's dependencies, built on its first request: the action records, the idempotent
 * acceptor (which starts workflows), the approval task tokens, the audit trail and the callback
 * names. No secret: API Gateway authenticates every caller (IAM) before the function runs.
 */
export const awsActionsApiDependencies = once(() => ({
  actions: awsActionRecords(),
  acceptor: awsIdempotentAcceptor(),
  tokens: awsTaskTokens(),
  audit: awsAuditLog(),
  callbackNames: callbackNamesFromEnv(process.env),
}));
