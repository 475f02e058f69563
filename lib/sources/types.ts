/**
 * The machines with an endpoint of their own: `POST /v1/webhooks/{source}`. `standard` is any
 * tool that signs a plain action request with Standard Webhooks (the shared webhook secret).
 */
export const SOURCES = ['servicenow', 'splunk', 'sentinel', 'pagerduty', 'standard'] as const;
export type SourceName = (typeof SOURCES)[number];
/** The sources whose requests name their action themselves, within `allowedActions`. */
export type RequestingSource = Extract<SourceName, 'servicenow' | 'standard'>;
/** The sources whose alerts the routing rules turn into actions. */
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
