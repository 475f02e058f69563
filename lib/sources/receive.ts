import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import type { ActionRequest } from '../actions/schema.ts';
import { acceptedEntries } from '../audit/accepted-entries.ts';
import { type AuditLog, payloadDigest } from '../audit/audit-log.ts';
import { RoutingRulesError, SourceRequestError } from './errors.ts';
import { refuseInlineRunbook } from './inline-runbooks.ts';
import {
  DeliveryConflictError,
  type DeliveryLog,
  type IdempotentAcceptor,
  newDeliveryId,
} from './intake.ts';
import { parseJsonBody } from './payload-fields.ts';
import type { SourceSecretReader } from './secret-reader.ts';
import type {
  InboundDelivery,
  RoutedRequests,
  SourceDeclaration,
  SourceDeclarations,
  SourceName,
} from './types.ts';

/** What receiving needs besides the sources' declarations; `Rules`: what their routing reads. */
export interface ReceiveDependencies<Rules> {
  readonly secrets: SourceSecretReader;
  readonly rules: Rules;
  readonly acceptor: IdempotentAcceptor;
  readonly deliveries: DeliveryLog;
  readonly audit: Pick<AuditLog, 'append'>;
  /** Names of the configured callback destinations a route or request may name (default none). */
  readonly callbackNames?: ReadonlySet<string>;
}

export interface AcceptedAction {
  readonly actionId: string;
  readonly action: string;
  readonly target: ActionRequest['target'];
  readonly duplicate: boolean;
}

/** A target the alert named that the action cannot take, and why: answered and recorded. */
export type RejectedTarget = RoutedRequests['rejected'][number];

/** `rejectedTargets`, when there are any, whether or not another target went ahead. */
export type ReceiveOutcome = (
  | {
      readonly status: 'accepted';
      readonly deliveryId: string;
      readonly actions: readonly AcceptedAction[];
    }
  | { readonly status: 'ignored'; readonly deliveryId: string; readonly reason: string }
) & { readonly rejectedTargets?: readonly RejectedTarget[] };

/**
 * The target in an idempotency key: its value, and for a list (`users`) its kind too, so that a
 * list of one is never taken for the same name as a single target.
 */
const targetValue = (target: ActionRequest['target']) =>
  Object.entries(target)
    .map(([kind, value]) => (Array.isArray(value) ? `${kind}=${value.join(',')}` : String(value)))
    .join(',');

/**
 * The idempotency key of one action: a request that names its action (ServiceNow, Standard
 * Webhooks) is one action per delivery (its target is part of the request, so a re-send naming
 * another target is a conflict, not a second action); a SIEM alert is one action per alert +
 * action + target (each row or entity its own).
 */
function idempotencyKeyOf(
  source: SourceName,
  asks: 'request' | 'alert',
  deliveryKey: string,
  request: ActionRequest,
): string {
  return asks === 'request'
    ? `${source}:${deliveryKey}`
    : `${source}:${deliveryKey}:${request.action}:${targetValue(request.target)}`;
}

/** A callback the rules or the request name must be a configured destination. */
function checkCallback(
  source: SourceName,
  declaration: Pick<SourceDeclaration<SourceName, never>, 'title' | 'asks'>,
  route: string,
  request: ActionRequest,
  names: ReadonlySet<string>,
): void {
  const callback = request.callback;
  if (callback === undefined || names.has(callback)) return;
  const issues: z.core.$ZodIssue[] = [
    {
      code: 'custom',
      path: ['callback'],
      message: `no callback destination named "${callback}"`,
      input: callback,
    },
  ];
  if (declaration.asks === 'request') {
    throw new SourceRequestError(
      source,
      `The ${declaration.title} request is not a valid action`,
      issues,
    );
  }
  // Checked at start and at synth; reaching here means the deployment's names are out of date.
  throw new RoutingRulesError(
    `Route "${route}" (${source}) names the callback destination "${callback}", which is not configured`,
  );
}

/** Whether `source` is one of the sources `sources` declares. */
export function isServed<S extends SourceName>(
  sources: { readonly [K in S]: unknown },
  source: string | undefined,
): source is S {
  return source !== undefined && Object.hasOwn(sources, source);
}

const NO_VALID_TARGET = 'No target of the alert is valid for the action';

/**
 * One delivery from a source tool, to a function serving `sources`: authenticate it (before
 * reading anything else), parse its payload, decide what it asks for by the routing rules, and
 * accept each action exactly once. Every delivery is recorded, including those that ask for
 * nothing.
 */
export async function receiveSourceDelivery<S extends SourceName, Rules>(
  sources: SourceDeclarations<S, Rules>,
  dependencies: ReceiveDependencies<Rules>,
  delivery: InboundDelivery & { readonly source: S },
  context: Context,
  now: Date,
): Promise<ReceiveOutcome> {
  // One source's declaration; the lookup cannot tie the secret's type to `delivery.source`.
  const declaration = sources[delivery.source] as unknown as SourceDeclaration<SourceName, Rules>;
  const secret = await dependencies.secrets.read(delivery.source);
  declaration.authenticate(delivery, secret as never);
  const event = declaration.parse(
    parseJsonBody(delivery.source, delivery.rawBody),
    delivery.headers,
  );
  const decision = declaration.route(dependencies.rules, event);
  const deliveryId = newDeliveryId();
  const base = {
    deliveryId,
    source: delivery.source,
    receivedAt: now.toISOString(),
    deliveryKey: event.deliveryKey,
    title: event.title,
  };
  if ('ignored' in decision) {
    await dependencies.deliveries.record({
      ...base,
      outcome: 'ignored',
      reason: decision.ignored,
      actionIds: [],
    });
    return { status: 'ignored', deliveryId, reason: decision.ignored };
  }
  for (const request of decision.requests) {
    // Whatever routed it: no source starts a runbook it wrote itself.
    refuseInlineRunbook(delivery.source, declaration.title, request.target);
    checkCallback(
      delivery.source,
      declaration,
      decision.route,
      request,
      dependencies.callbackNames ?? new Set(),
    );
  }
  const actions: AcceptedAction[] = [];
  const requestAudit = {
    source: delivery.source,
    identity: `${delivery.source} delivery ${deliveryId} (${event.title}), authenticated by its ${delivery.source} credential`,
    payloadDigest: payloadDigest(delivery.rawBody),
  };
  for (const request of decision.requests) {
    let acceptance: Awaited<ReturnType<IdempotentAcceptor>>;
    try {
      acceptance = await dependencies.acceptor(
        {
          idempotencyKey: idempotencyKeyOf(
            delivery.source,
            declaration.asks,
            event.deliveryKey,
            request,
          ),
          request,
          source: {
            name: delivery.source,
            deliveryId,
            title: event.title,
            ...(event.serviceNowIncident ? { serviceNowIncident: event.serviceNowIncident } : {}),
          },
          // The source asks, as itself; whoever it says asked is only shown in its name.
          requester: {
            kind: 'source',
            key: `source:${delivery.source}`,
            name: request.requestedBy ?? delivery.source,
          },
        },
        context,
        // Inside the idempotent step, before the workflow starts: a failed write fails the
        // delivery, and the source's retry writes it (it is not answered as a repeat).
        (actionId) => dependencies.audit.append(acceptedEntries(actionId, requestAudit, now)),
      );
    } catch (error) {
      if (error instanceof DeliveryConflictError && event.serviceNowIncident !== undefined) {
        const { number, sysId } = event.serviceNowIncident;
        throw new DeliveryConflictError(
          `ServiceNow ${number ?? sysId} already asked for ${request.action} on another target (or with other options or another callback); a ticket asks for each action once: raise a new ticket, or use this one for another action`,
          { cause: error },
        );
      }
      throw error;
    }
    actions.push({ ...acceptance, action: request.action, target: request.target });
  }
  // Said whenever there are any, and most of all when no target went ahead: they are why.
  const rejected = decision.rejected.length > 0 ? { rejectedTargets: decision.rejected } : {};
  await dependencies.deliveries.record({
    ...base,
    outcome: actions.length > 0 ? 'accepted' : 'ignored',
    route: decision.route,
    actionIds: actions.map((action) => action.actionId),
    ...rejected,
    ...(actions.length === 0 ? { reason: NO_VALID_TARGET } : {}),
  });
  if (actions.length === 0) {
    return { status: 'ignored', deliveryId, reason: NO_VALID_TARGET, ...rejected };
  }
  return { status: 'accepted', deliveryId, actions, ...rejected };
}
