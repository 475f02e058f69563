import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { AttributeType, type ITable, type Table } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../lib/actions/schema.ts';
import { SOURCE_DECLARATIONS } from '../lib/sources/declarations.ts';
import { checkRouteCallbacks, loadRoutingRules } from '../lib/sources/routing.ts';
import {
  ALERTING_SOURCES,
  REQUESTING_SOURCES,
  SOURCES,
  type SourceName,
} from '../lib/sources/types.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import { InvalidContextError } from './config.ts';
import { pascalCase } from './names.ts';
import { runbooksBeside } from './runbooks.ts';
import { generatedSecret, retainedTable } from './storage.ts';

export interface SourceEndpointsProps {
  readonly actionsTable: ITable;
  readonly stateMachines: Readonly<Record<WorkflowName, IStateMachine>>;
  readonly routesFile: string;
  readonly idempotencyWindowSeconds: number;
  readonly logRetention: RetentionDays;
  readonly auditTable: ITable;
  /** Names only reach this function: it checks the callbacks routes and requests name. */
  readonly callbackDestinations: Readonly<Record<string, string>>;
  /** The shared Standard Webhooks secret: what the `standard` source signs with. */
  readonly webhookSecret: ISecret;
  /** The deployed runbooks (infra/runbooks.ts): routes and requests may run one by name. */
  readonly runbooksFile: string;
}

/** The sources with a secret of their own; `standard` signs with the shared webhook secret. */
export type SecretSource = Exclude<SourceName, 'standard'>;
export const SECRET_SOURCES = SOURCES.filter(
  (source): source is SecretSource => source !== 'standard',
);

/**
 * How each source's secret is generated. Every credential is the generated value: a template
 * holds nothing a reader of this file could authenticate with. PagerDuty issues its own signing
 * secret, so its list starts empty and the endpoint answers 404 until the operator stores it.
 */
const SECRET_TEMPLATES: Record<
  SecretSource,
  { template: Record<string, unknown>; key: string; description: string }
> = {
  servicenow: {
    template: { username: 'servicenow' },
    key: 'password',
    description: 'HTTP Basic credentials ServiceNow sends (JSON keys username and password)',
  },
  splunk: {
    template: {},
    key: 'token',
    description: 'The token in the Splunk webhook URL (JSON key token)',
  },
  sentinel: {
    template: {},
    key: 'apiKey',
    description: 'The x-api-key header the Sentinel playbook sends (JSON key apiKey)',
  },
  pagerduty: {
    // PagerDuty generates the signing secret; the operator adds it to the empty list. The
    // generated `unused` value is never read as a credential.
    template: { signingSecrets: [] },
    key: 'unused',
    description: 'PagerDuty v3 webhook signing secrets (JSON key signingSecrets, a list)',
  },
};

/**
 * The part of the routing rules file each source function reads, as the `routes.json` beside its
 * bundle (written at synth, after the whole file was validated): the alert routes for the source
 * webhooks function, the requesting sources' `allowedActions` for the source requests function.
 * Each carries only what it uses.
 */
export function sourceRulesFiles(routesFile: string): { alerts: string; requests: string } {
  const rules = JSON.parse(readFileSync(routesFile, 'utf8')) as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'citrix-response-routes-'));
  const part = (name: string, keys: readonly string[]) => {
    const file = join(dir, `${name}.json`);
    const picked = ['version', ...keys].filter((key) => key in rules);
    writeFileSync(file, JSON.stringify(Object.fromEntries(picked.map((key) => [key, rules[key]]))));
    return file;
  };
  return { alerts: part('alerts', ['routes']), requests: part('requests', REQUESTING_SOURCES) };
}

/**
 * The source endpoints: two functions, one per way a source asks (the alerting sources, routed by
 * the rules; the requesting sources, which name their action), one secret per source, the
 * idempotency table (Powertools' layout: partition key `id`, TTL `expiration`) and the record of
 * every delivery.
 */
export class SourceEndpoints extends Construct {
  /** Splunk, Sentinel and PagerDuty: `POST /v1/webhooks/{source}`, `/v1/webhooks/splunk/{token}`. */
  readonly handler: CitrixResponseFunction;
  /** ServiceNow and Standard Webhooks: `POST /v1/webhooks/servicenow`, `/v1/webhooks/standard`. */
  readonly requestHandler: CitrixResponseFunction;
  /** Each source's own secret (the `standard` source signs with the stack's webhook secret). */
  readonly secrets: Readonly<Record<SecretSource, Secret>>;
  readonly idempotencyTable: Table;
  readonly deliveriesTable: Table;

  constructor(scope: Construct, id: string, props: SourceEndpointsProps) {
    super(scope, id);
    const table = (name: string, key: string, ttl: string) =>
      retainedTable(this, name, {
        partitionKey: { name: key, type: AttributeType.STRING },
        timeToLiveAttribute: ttl,
      });
    this.idempotencyTable = table('IdempotencyTable', 'id', 'expiration');
    this.deliveriesTable = table('DeliveriesTable', 'deliveryId', 'expiresAt');

    const callbackNames = Object.keys(props.callbackDestinations);
    try {
      checkRouteCallbacks(loadRoutingRules(props.routesFile), new Set(callbackNames));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidContextError(`Context "routesFile" is invalid: ${reason}`, { cause: error });
    }
    const rulesFiles = sourceRulesFiles(props.routesFile);
    const sourceFunction = (
      name: string,
      entry: string,
      description: string,
      rulesFile: string,
    ): CitrixResponseFunction => {
      const fn = new CitrixResponseFunction(this, name, {
        entry,
        description,
        logRetention: props.logRetention,
        timeout: Duration.seconds(15),
        // The rules were validated at synth (infra/config.ts); the function reads its part.
        bundledFiles: [
          { from: rulesFile, name: 'routes.json' },
          // Routes and requests may run a runbook by name (checked at synth: infra/runbooks.ts).
          runbooksBeside(props.runbooksFile),
        ],
      });
      fn.bindActionsTable(props.actionsTable);
      bindIdempotency(fn, this.idempotencyTable, props.idempotencyWindowSeconds);
      fn.bindTable('DELIVERIES_TABLE_NAME', this.deliveriesTable, 'dynamodb:PutItem');
      fn.bindTable('AUDIT_TABLE_NAME', props.auditTable, 'dynamodb:BatchWriteItem');
      fn.bindStateMachines(props.stateMachines);
      // Names only: the URLs (which may carry the receiver's token) stay with the notify task.
      if (callbackNames.length > 0) {
        fn.addEnvironment('CALLBACK_DESTINATION_NAMES', callbackNames.join(','));
      }
      return fn;
    };
    this.handler = sourceFunction(
      'Handler',
      'functions/source-webhooks.ts',
      'Source endpoints: Splunk, Sentinel and PagerDuty alerts',
      rulesFiles.alerts,
    );
    this.requestHandler = sourceFunction(
      'RequestHandler',
      'functions/source-requests.ts',
      'Source endpoints: ServiceNow and Standard Webhooks requests',
      rulesFiles.requests,
    );

    // The `standard` source: Standard Webhooks signatures under the shared webhook secret.
    this.requestHandler.bindSecret(
      SOURCE_DECLARATIONS.standard.secret.arnVariable,
      props.webhookSecret,
    );
    const secrets = {} as Record<SecretSource, Secret>;
    for (const source of SECRET_SOURCES) {
      const { template, key, description } = SECRET_TEMPLATES[source];
      const secret = generatedSecret(this, `${pascalCase(source)}Secret`, {
        description: `Citrix Response source endpoint: ${description}`,
        template,
        generatedKey: key,
        length: 48,
        manualRotation:
          'The value is shared with the source tool, which must be reconfigured at each change; it is rotated by hand, and the function picks a new value up within 15 minutes.',
      });
      // Only the function serving the source reads its secret.
      const fn = (ALERTING_SOURCES as readonly SourceName[]).includes(source)
        ? this.handler
        : this.requestHandler;
      fn.bindSecret(SOURCE_DECLARATIONS[source].secret.arnVariable, secret);
      secrets[source] = secret;
    }
    this.secrets = secrets;
  }
}

/** Powertools idempotency reads and writes single items: conditional put, get, update, delete. */
export function bindIdempotency(
  fn: CitrixResponseFunction,
  table: ITable,
  windowSeconds: number,
): void {
  fn.bindTable(
    'IDEMPOTENCY_TABLE_NAME',
    table,
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  );
  fn.addEnvironment('IDEMPOTENCY_WINDOW_SECONDS', String(windowSeconds));
}
