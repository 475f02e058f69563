import { callbackNamesFromEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsIdempotentAcceptor } from './acceptor.ts';
import { awsAuditLog } from './audit-log.ts';

/**
 * The dependencies of `POST /v1/actions`, built on its first request: the idempotent acceptor
 * (which records the action and starts its workflow), the audit trail and the callback names.
 * No secret: API Gateway authenticates every caller (IAM) before the function runs.
 */
export const awsActionsApiDependencies = once(() => ({
  acceptor: awsIdempotentAcceptor(),
  audit: awsAuditLog(),
  callbackNames: callbackNamesFromEnv(process.env),
}));
