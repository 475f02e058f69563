import type { Context } from 'aws-lambda';
import type { ActionRequest } from '../actions/schema.ts';
import { acceptedEntries } from '../api/accept-request.ts';
import { type AuditLog, payloadDigest } from '../audit/audit-log.ts';
import { authenticateDelivery } from './authenticate.ts';
import { type DeliveryLog, type IdempotentAcceptor, newDeliveryId } from './intake.ts';
import { parseSourcePayload } from './payloads.ts';
import { type RoutingRules, routeServiceNowRequest, routeSiemEvent } from './routing.ts';
import type { InboundDelivery, SourceName, SourceSecrets } from './types.ts';

/** Reads a source's secret (Secrets Manager in AWS, the environment locally), cached. */
export interface SourceSecretReader {
  read<S extends SourceName>(source: S): Promise<SourceSecrets[S]>;
}

export interface ReceiveDependencies {
  readonly secrets: SourceSecretReader;
  readonly rules: RoutingRules;
  readonly acceptor: IdempotentAcceptor;
  readonly deliveries: DeliveryLog;
  readonly audit: Pick<AuditLog, 'append'>;
}

export interface AcceptedAction {
  readonly actionId: string;
  readonly action: string;
  readonly target: ActionRequest['target'];
  readonly duplicate: boolean;
}

export type ReceiveOutcome =
  | {
      readonly status: 'accepted';
      readonly deliveryId: string;
      readonly actions: readonly AcceptedAction[];
      readonly rejectedTargets?: readonly { readonly target: string; readonly reason: string }[];
    }
  | { readonly status: 'ignored'; readonly deliveryId: string; readonly reason: string };

const targetValue = (target: ActionRequest['target']) => Object.values(target).join(',');

/**
 * One delivery from a source tool: authenticate it (before reading anything else), parse its
 * payload, decide what it asks for by the routing rules, and accept each action exactly once.
 * Every delivery is recorded, including those that ask for nothing.
 */
export async function receiveSourceDelivery(
  dependencies: ReceiveDependencies,
  delivery: InboundDelivery,
  context: Context,
  now: Date,
): Promise<ReceiveOutcome> {
  const secret = await dependencies.secrets.read(delivery.source);
  authenticateDelivery(
    delivery as InboundDelivery & { source: typeof delivery.source },
    secret as never,
  );
  const event = parseSourcePayload(delivery.source, delivery.rawBody);
  const decision =
    delivery.source === 'servicenow'
      ? routeServiceNowRequest(dependencies.rules, event)
      : routeSiemEvent(dependencies.rules, delivery.source, event);
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
  const actions: AcceptedAction[] = [];
  for (const request of decision.requests) {
    const acceptance = await dependencies.acceptor(
      {
        idempotencyKey: `${delivery.source}:${event.deliveryKey}:${request.action}:${targetValue(request.target)}`,
        request,
        source: {
          name: delivery.source,
          deliveryId,
          title: event.title,
          ...(event.serviceNowIncident ? { serviceNowIncident: event.serviceNowIncident } : {}),
        },
      },
      context,
    );
    actions.push({ ...acceptance, action: request.action, target: request.target });
    if (!acceptance.duplicate) {
      await dependencies.audit.append(
        acceptedEntries(acceptance.actionId, {
          source: delivery.source,
          identity: `${delivery.source} delivery ${deliveryId} (${event.title}), authenticated by its ${delivery.source} credential`,
          payloadDigest: payloadDigest(delivery.rawBody),
        }),
      );
    }
  }
  await dependencies.deliveries.record({
    ...base,
    outcome: actions.length > 0 ? 'accepted' : 'ignored',
    route: decision.route,
    actionIds: actions.map((action) => action.actionId),
    ...(decision.rejected.length > 0 ? { rejectedTargets: decision.rejected } : {}),
    ...(actions.length === 0 ? { reason: 'No target of the alert is valid for the action' } : {}),
  });
  if (actions.length === 0) {
    return {
      status: 'ignored',
      deliveryId,
      reason: 'No target of the alert is valid for the action',
    };
  }
  return {
    status: 'accepted',
    deliveryId,
    actions,
    ...(decision.rejected.length > 0 ? { rejectedTargets: decision.rejected } : {}),
  };
}
