import type * as z from 'zod';
import type { ActionRequest } from '../actions/schema.ts';

/**
 * The machines with an endpoint of their own. `standard` is any tool that signs a plain action
 * request with Standard Webhooks (the shared webhook secret).
 */
export const SOURCES = ['servicenow', 'splunk', 'sentinel', 'pagerduty', 'standard'] as const;
export type SourceName = (typeof SOURCES)[number];
/**
 * The sources whose requests name their action themselves, within `allowedActions`: served by
 * their own function, behind `POST /v1/webhooks/servicenow` and `POST /v1/webhooks/standard`.
 */
export const REQUESTING_SOURCES = ['servicenow', 'standard'] as const satisfies SourceName[];
export type RequestingSource = (typeof REQUESTING_SOURCES)[number];
/**
 * The sources whose alerts the routing rules turn into actions: served by the source webhooks
 * function, behind `POST /v1/webhooks/{source}` and `POST /v1/webhooks/splunk/{token}`.
 */
export const ALERTING_SOURCES = SOURCES.filter(
  (source): source is Exclude<SourceName, RequestingSource> =>
    !(REQUESTING_SOURCES as readonly string[]).includes(source),
);
export type AlertingSource = Exclude<SourceName, RequestingSource>;

/** One delivery as the source endpoint received it, before anything is trusted. */
export interface InboundDelivery {
  readonly source: SourceName;
  /** The body exactly as received (signatures are over these bytes). */
  readonly rawBody: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Splunk only: the secret token from the URL path (`/v1/webhooks/splunk/{token}`). */
  readonly pathToken?: string;
}

/** The secret each source authenticates with, as stored in Secrets Manager (JSON). */
export interface SourceSecrets {
  /** HTTP Basic, as ServiceNow's outbound REST sends it. */
  readonly servicenow: { readonly username: string; readonly password: string };
  /** The token in the webhook URL Splunk posts to (Splunk can set no header). */
  readonly splunk: { readonly token: string };
  /** The `x-api-key` header a Sentinel playbook's HTTP action sends. */
  readonly sentinel: { readonly apiKey: string };
  /** PagerDuty v3 webhook signing secrets (several during a rotation). */
  readonly pagerduty: { readonly signingSecrets: readonly string[] };
  /** The Standard Webhooks secret (`whsec_…`, or raw key bytes): the shared webhook secret. */
  readonly standard: { readonly signingSecret: string };
}

/** What a source's payload says, once parsed: the routing rules read `fields`. */
export interface SourceEvent {
  readonly source: SourceName;
  /** The parsed payload, which routing rules match on and take targets from by path. */
  readonly fields: Readonly<Record<string, unknown>>;
  /**
   * The source's own id for this alert or request (Splunk `sid`, Sentinel incident id, ServiceNow
   * `sys_id`, PagerDuty event id, Standard Webhooks `webhook-id`): the base of the idempotency key.
   */
  readonly deliveryKey: string;
  /** A short human title for records and logs (search name, incident title, ticket number). */
  readonly title: string;
  /** ServiceNow only: the incident the outcome is written back to as a work note. */
  readonly serviceNowIncident?: { readonly sysId: string; readonly number?: string };
}

export interface RoutedRequests {
  readonly route: string;
  readonly requests: readonly ActionRequest[];
  /** Targets the route found but that are not valid for the action, with why. */
  readonly rejected: readonly { readonly target: string; readonly reason: string }[];
}

/** What a delivery asks for: the actions to start, or why it asks for nothing. */
export type RoutingDecision = RoutedRequests | { readonly ignored: string };

/** Header names in lower case, as the endpoint received them. */
export type DeliveryHeaders = Readonly<Record<string, string | undefined>>;

/**
 * One source, declared once: how its tool proves itself, the body it sends, and what that body
 * asks for. Each function serves the sources of one table (`SourceDeclarations`) and imports
 * only their code: the alerting sources' (lib/sources/alert-sources.ts) or the requesting
 * sources' (lib/sources/request-sources.ts).
 */
export interface SourceDeclaration<S extends SourceName, Rules> {
  /** The tool's name in messages: `ServiceNow`, `Standard Webhooks`, `Splunk`… */
  readonly title: string;
  /**
   * `request`: the body names its action (within `allowedActions`), one action per delivery, and
   * an invalid request is the sender's mistake (400). `alert`: the routing rules decide, one
   * action per alert, action and target.
   */
  readonly asks: S extends RequestingSource ? 'request' : 'alert';
  readonly secret: {
    /** The variable the function finds the secret's ARN in (`SPLUNK_SECRET_ARN`…). */
    readonly arnVariable: `${string}_SECRET_ARN`;
    /** The secret's JSON, as stored in Secrets Manager (and checked in the environment locally). */
    readonly schema: z.ZodType<SourceSecrets[S]>;
    /** Locally: the environment variable each field of the secret comes from. */
    readonly variables: Readonly<Record<keyof SourceSecrets[S] & string, string>>;
    /** Locally: the secret those variables make, or undefined when they are not set. */
    readonly fromEnv: (
      env: Readonly<Record<string, string | undefined>>,
    ) => SourceSecrets[S] | undefined;
  };
  /** Throws `SourceAuthenticationError` unless a holder of the secret sent the delivery. */
  readonly authenticate: (delivery: InboundDelivery, secret: SourceSecrets[S]) => void;
  /** The body the endpoint accepts, for the OpenAPI document. */
  readonly payload: z.ZodType;
  /** Validates the JSON body; throws `SourcePayloadError` naming every invalid field. */
  readonly parse: (body: unknown, headers: DeliveryHeaders) => SourceEvent;
  /** What the event asks for, by the routing rules. */
  readonly route: (rules: Rules, event: SourceEvent) => RoutingDecision;
}

/** Every source of a function, each declared once: a source without a declaration is a type error. */
export type SourceDeclarations<S extends SourceName, Rules> = {
  readonly [K in S]: SourceDeclaration<K, Rules>;
};
