import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSourceRequestsHandler } from '../../../functions/source-requests.ts';
import type { ActionRequest } from '../../../lib/actions/schema.ts';
import type { AuditEntry } from '../../../lib/audit/audit-log.ts';
import { SOURCE_DECLARATIONS } from '../../../lib/sources/declarations.ts';
import { SourceRequestError } from '../../../lib/sources/errors.ts';
import {
  type AcceptanceRequest,
  createIdempotentAcceptor,
  DeliveryConflictError,
  DynamoDeliveryLog,
} from '../../../lib/sources/intake.ts';
import { type ReceiveDependencies, receiveSourceDelivery } from '../../../lib/sources/receive.ts';
import {
  loadRoutingRules,
  parseRoutingRules,
  type RoutingRules,
} from '../../../lib/sources/routing.ts';
import type { SourceName } from '../../../lib/sources/types.ts';
import { LOCAL_DEMO_SOURCE_SECRETS as SECRETS } from '../../../local/defaults.ts';
import { createKeyTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';
import { apiEvent, lambdaContext } from '../../support/signed-request.ts';

/**
 * One delivery end to end below HTTP, against DynamoDB (dynalite): idempotency, the record of
 * every delivery, the audit's request entry, and callbacks named by routes and requests.
 */
const WINDOW_SECONDS = 24 * 3600;
const RULES = loadRoutingRules(new URL('../../../config/routes.json', import.meta.url));
const sample = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../docs/sources/samples/${name}.json`, import.meta.url), 'utf8'),
  );

let dynamo: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createKeyTable(dynamo.client, 'deliveries', 'deliveryId');
});
afterAll(async () => dynamo.close());
afterEach(() => {
  vi.useRealTimers();
});

interface Accepted {
  readonly actionId: string;
  readonly request: ActionRequest;
  readonly source: AcceptanceRequest['source'];
}

async function harness(
  options: {
    rules?: RoutingRules;
    callbackNames?: ReadonlySet<string>;
    failAuditWrites?: number;
  } = {},
) {
  tables += 1;
  const idempotencyTable = `idempotency-${tables}`;
  await createKeyTable(dynamo.client, idempotencyTable, 'id');
  const accepted: Accepted[] = [];
  const audit: AuditEntry[] = [];
  let auditFailures = options.failAuditWrites ?? 0;
  const dependencies: ReceiveDependencies<RoutingRules> = {
    secrets: { read: async (source) => SECRETS[source] as never },
    rules: options.rules ?? RULES,
    acceptor: createIdempotentAcceptor({
      accept: async (request, source, actionId) => {
        accepted.push({ actionId, request, source });
        return { actionId };
      },
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: idempotencyTable,
        awsSdkV3Client: dynamo.client,
      }),
      expiresAfterSeconds: WINDOW_SECONDS,
    }),
    deliveries: new DynamoDeliveryLog(dynamo.client, 'deliveries', 30),
    audit: {
      append: async (entries) => {
        if (auditFailures > 0) {
          auditFailures -= 1;
          throw new Error('audit table throttled');
        }
        audit.push(...entries);
      },
    },
    ...(options.callbackNames ? { callbackNames: options.callbackNames } : {}),
  };
  const delivery = (source: SourceName, body: unknown) => {
    const rawBody = JSON.stringify(body);
    const headers: Record<string, string> =
      source === 'servicenow'
        ? {
            authorization: `Basic ${Buffer.from(`${SECRETS.servicenow.username}:${SECRETS.servicenow.password}`).toString('base64')}`,
          }
        : source === 'sentinel'
          ? { 'x-api-key': SECRETS.sentinel.apiKey }
          : source === 'pagerduty'
            ? {
                'x-pagerduty-signature': `v1=${createHmac('sha256', SECRETS.pagerduty.signingSecrets[0]).update(rawBody).digest('hex')}`,
              }
            : {};
    return {
      source,
      rawBody,
      headers,
      ...(source === 'splunk' ? { pathToken: SECRETS.splunk.token } : {}),
    };
  };
  /** The whole outcome of one delivery, as the endpoint answers it. */
  const receive = (source: SourceName, body: unknown) =>
    receiveSourceDelivery(
      SOURCE_DECLARATIONS,
      dependencies,
      delivery(source, body),
      lambdaContext,
      new Date(),
    );
  const send = async (source: SourceName, body: unknown) => {
    const outcome = await receive(source, body);
    return outcome.status === 'accepted'
      ? outcome.actions.map((action) => ({
          actionId: action.actionId,
          target: action.target,
          duplicate: action.duplicate,
        }))
      : outcome;
  };
  /** The same ServiceNow delivery through the Lambda handler, as API Gateway passes it on. */
  const postServiceNow = (body: unknown) =>
    createSourceRequestsHandler(() => dependencies)(
      apiEvent({
        method: 'POST',
        resource: '/v1/webhooks/servicenow',
        path: '/v1/webhooks/servicenow',
        body: JSON.stringify(body),
        secret: null,
        headers: delivery('servicenow', body).headers,
      }),
      lambdaContext,
    );
  return { accepted, audit, receive, send, postServiceNow };
}

describe('repeat deliveries', () => {
  it('gives a Sentinel incident re-sent with a new severity and an edited title the same actions', async () => {
    const { send, accepted } = await harness();
    const first = await send('sentinel', sample('sentinel'));
    expect(first).toHaveLength(2);

    const changed = sample('sentinel');
    changed.object.properties.severity = 'Medium';
    changed.object.properties.title = 'Suspicious sign-in: possible account compromise (2 alerts)';
    const again = await send('sentinel', changed);
    expect(again).toEqual(
      (first as { actionId: string; target: unknown }[]).map((action) => ({
        ...action,
        duplicate: true,
      })),
    );
    expect(accepted).toHaveLength(2);
  });

  it('gives a ServiceNow re-send by another analyst, with another reason, the same action', async () => {
    const { send, accepted } = await harness();
    const [first] = (await send('servicenow', sample('servicenow'))) as { actionId: string }[];
    const again = await send('servicenow', {
      ...sample('servicenow'),
      requested_by: 'other.analyst@example.com',
      reason: 'Re-sent from the major incident bridge',
    });
    expect(again).toEqual([
      expect.objectContaining({ actionId: first?.actionId, duplicate: true }),
    ]);
    expect(accepted).toHaveLength(1);
  });

  it('answers 409, saying why, to a ServiceNow re-send naming another target for the same sys_id and action', async () => {
    const { send, accepted, postServiceNow } = await harness();
    await send('servicenow', sample('servicenow'));
    const otherTarget = { ...sample('servicenow'), target: { user: 'bob@example.com' } };

    const error = await rejection(send('servicenow', otherTarget));
    expect(error).toBeInstanceOf(DeliveryConflictError);
    expect(error.message).toMatch(
      /^ServiceNow INC0010042 already asked for session\.logoff on another target/,
    );
    expect(accepted).toHaveLength(1);

    // Through the handler: 409 with that explanation, and still no second action.
    const response = await postServiceNow(otherTarget);
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body).error).toEqual({ code: 'conflict', message: error.message });
    expect(accepted).toHaveLength(1);

    // Another action on the same record is a new request.
    const disconnect = await send('servicenow', { ...otherTarget, action: 'session.disconnect' });
    expect(disconnect).toEqual([expect.objectContaining({ duplicate: false })]);
    expect(accepted).toHaveLength(2);
  });

  it('answers 409 to a ServiceNow re-send naming another callback for the same sys_id and action', async () => {
    const { send, accepted } = await harness({ callbackNames: new Set(['soar', 'other']) });
    await send('servicenow', { ...sample('servicenow'), callback: 'soar' });

    for (const changed of [
      { ...sample('servicenow'), callback: 'other' },
      // No callback at all is a change too: the first request's callback would not be told.
      sample('servicenow'),
    ]) {
      const error = await rejection(send('servicenow', changed));
      expect(error).toBeInstanceOf(DeliveryConflictError);
      expect(error.message).toMatch(/or another callback/);
    }
    expect(accepted.map((a) => a.request.callback)).toEqual(['soar']);

    // The same callback again is the same request.
    expect(await send('servicenow', { ...sample('servicenow'), callback: 'soar' })).toEqual([
      expect.objectContaining({ duplicate: true }),
    ]);
  });

  it('acts on each Splunk row naming another user, with the same sid, once', async () => {
    const { send, accepted } = await harness();
    const row = (user: string) => ({
      ...sample('splunk'),
      result: { ...sample('splunk').result, user },
    });
    const alice = (await send('splunk', row('alice@example.com'))) as { actionId: string }[];
    const bob = (await send('splunk', row('bob@example.com'))) as { actionId: string }[];
    expect(bob[0]?.actionId).not.toBe(alice[0]?.actionId);
    expect(await send('splunk', row('alice@example.com'))).toEqual([
      expect.objectContaining({ actionId: alice[0]?.actionId, duplicate: true }),
    ]);
    expect(accepted.map((a) => a.request.target)).toEqual([
      { user: 'alice@example.com' },
      { user: 'bob@example.com' },
    ]);
  });

  it('answers a repeat 23 hours later with the same action, and one past the window with a new one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-03-14T09:30:00.000Z');
    vi.setSystemTime(start);
    const { send, accepted } = await harness();
    const alert = { ...sample('splunk'), sid: 'scheduler__admin__search__RMD5hours_later' };
    const [first] = (await send('splunk', alert)) as { actionId: string }[];

    vi.setSystemTime(start.getTime() + 23 * 3600 * 1000);
    expect(await send('splunk', alert)).toEqual([
      expect.objectContaining({ actionId: first?.actionId, duplicate: true }),
    ]);
    expect(accepted).toHaveLength(1);

    vi.setSystemTime(start.getTime() + (WINDOW_SECONDS + 60) * 1000);
    const [later] = (await send('splunk', alert)) as { actionId: string; duplicate: boolean }[];
    expect(later?.duplicate).toBe(false);
    expect(later?.actionId).not.toBe(first?.actionId);
    expect(accepted).toHaveLength(2);
  });
});

describe('the record of every delivery', () => {
  it('records an alert no route matches as ignored, with the reason', async () => {
    const { send } = await harness();
    const outcome = (await send('splunk', {
      ...sample('splunk'),
      search_name: 'Disk almost full',
    })) as { status: string; deliveryId: string; reason: string };
    expect(outcome).toMatchObject({ status: 'ignored' });

    const stored = await DynamoDBDocumentClient.from(dynamo.client).send(
      new GetCommand({ TableName: 'deliveries', Key: { deliveryId: outcome.deliveryId } }),
    );
    expect(stored.Item).toMatchObject({
      deliveryId: outcome.deliveryId,
      source: 'splunk',
      outcome: 'ignored',
      reason: 'No splunk route matches "Disk almost full"',
      title: 'Disk almost full',
      deliveryKey: sample('splunk').sid,
      actionIds: [],
      expiresAt: expect.any(Number),
    });
  });
});

describe('the audit’s request entry', () => {
  it('is written before anything starts, so a failed write is retried with the delivery', async () => {
    const { send, accepted, audit } = await harness({ failAuditWrites: 1 });
    const body = sample('servicenow');

    expect((await rejection(send('servicenow', body))).message).toBe('audit table throttled');
    expect(accepted).toEqual([]);

    // ServiceNow retries: not a repeat, since nothing was accepted; the entry is written now.
    const [action] = (await send('servicenow', body)) as { actionId: string; duplicate: boolean }[];
    expect(action?.duplicate).toBe(false);
    expect(accepted.map((a) => a.actionId)).toEqual([action?.actionId]);
    expect(audit.map((entry) => [entry.actionId, entry.type])).toEqual([
      [action?.actionId, 'request'],
      [action?.actionId, 'decision'],
    ]);
    expect(audit[0]?.summary).toMatch(/^Request from servicenow: servicenow delivery dlv_/);

    // A repeat writes nothing more.
    await send('servicenow', body);
    expect(audit).toHaveLength(2);
  });
});

describe('callbacks', () => {
  const withCallback = (callback: string) =>
    parseRoutingRules({
      version: 1,
      routes: {
        splunk: [
          {
            name: 'impossible-travel',
            match: { search_name: { matches: '^Impossible travel' } },
            action: 'session.logoff',
            target: { user: 'result.user' },
            reason: 'Splunk alert {{search_name}}',
            callback,
          },
        ],
      },
      servicenow: { allowedActions: ['session.logoff'] },
    });

  it('passes the callback a route names into its actions', async () => {
    const { send, accepted } = await harness({
      rules: withCallback('soar'),
      callbackNames: new Set(['soar']),
    });
    await send('splunk', sample('splunk'));
    expect(accepted.map((a) => a.request.callback)).toEqual(['soar']);
  });

  it('refuses a route callback the deployment does not have, starting nothing', async () => {
    const { send, accepted } = await harness({ rules: withCallback('soar') });
    expect((await rejection(send('splunk', sample('splunk')))).name).toBe('RoutingRulesError');
    expect(accepted).toEqual([]);
  });

  it('takes a configured callback from a ServiceNow request and refuses another name with 400', async () => {
    const { send, accepted, postServiceNow } = await harness({ callbackNames: new Set(['soar']) });
    await send('servicenow', { ...sample('servicenow'), callback: 'soar' });
    expect(accepted.map((a) => a.request.callback)).toEqual(['soar']);

    const unknown = {
      ...sample('servicenow'),
      sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      callback: 'evil',
    };
    const error = await rejection(send('servicenow', unknown));
    expect(error).toBeInstanceOf(SourceRequestError);
    const response = await postServiceNow(unknown);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.fields).toEqual([
      { field: 'callback', message: 'no callback destination named "evil"' },
    ]);
    expect(accepted).toHaveLength(1);
  });
});

describe('fleet-scale targets from alerts', () => {
  const stored = async (deliveryId: string) =>
    (
      await DynamoDBDocumentClient.from(dynamo.client).send(
        new GetCommand({ TableName: 'deliveries', Key: { deliveryId } }),
      )
    ).Item;

  it('accepts a Splunk multivalue user field as one action on every user, once', async () => {
    const { send, accepted } = await harness();
    const first = await send('splunk', sample('splunk-users'));
    expect(first).toEqual([
      {
        actionId: expect.any(String),
        target: { users: ['bob@example.com', 'erin@example.com'] },
        duplicate: false,
      },
    ]);
    // Splunk's retry, with the multivalue field in another order, is the same action.
    const retry = sample('splunk-users');
    retry.result.user = ['erin@example.com', 'bob@example.com'];
    expect(await send('splunk', retry)).toEqual([{ ...(first as object[])[0], duplicate: true }]);
    expect(accepted.map((a) => [a.request.action, a.request.target])).toEqual([
      ['session.disconnect', { users: ['bob@example.com', 'erin@example.com'] }],
    ]);
  });

  it('answers a Splunk multivalue field none of whose users is valid with each of them rejected, and why', async () => {
    const { receive, accepted } = await harness();
    const body = sample('splunk-users');
    body.result.user = ['a@x', 'b@x'];
    const outcome = await receive('splunk', body);
    const reason = 'target.users: must be a UPN (user@example.com) or DOMAIN\\user';
    expect(outcome).toEqual({
      status: 'ignored',
      deliveryId: expect.stringMatching(/^dlv_/),
      reason: 'No target of the alert is valid for the action',
      rejectedTargets: [
        { target: 'a@x', reason },
        { target: 'b@x', reason },
      ],
    });
    expect(accepted).toEqual([]);
  });

  it('accepts a Sentinel Host as a machine target and records it', async () => {
    const { receive, accepted } = await harness();
    const outcome = await receive('sentinel', sample('sentinel-host'));
    expect(outcome).toEqual({
      status: 'accepted',
      deliveryId: expect.stringMatching(/^dlv_/),
      actions: [
        {
          actionId: expect.any(String),
          action: 'session.disconnect',
          target: { machine: 'EXAMPLE\\VDA-007' },
          duplicate: false,
        },
      ],
    });
    expect(accepted[0]?.source).toMatchObject({
      name: 'sentinel',
      title: 'Sentinel incident 4720: Malware detected on a Citrix VDA',
    });
  });

  it('names an invalid Ip entity in rejectedTargets, answers and records it, and acts on the rest', async () => {
    const { receive, accepted } = await harness();
    const body = sample('sentinel-host');
    body.object.properties.title = 'Sign-in from a malicious IP';
    body.object.properties.relatedEntities.push({
      kind: 'Ip',
      properties: { address: '198.51.100.300' },
    });
    const outcome = await receive('sentinel', body);
    const rejectedTargets = [
      {
        target: '198.51.100.300',
        reason: expect.stringMatching(/^target\.clientAddress: must be an IP address/),
      },
    ];
    expect(outcome).toMatchObject({
      status: 'accepted',
      actions: [{ action: 'session.disconnect', target: { clientAddress: '198.51.100.23' } }],
      rejectedTargets,
    });
    expect(accepted.map((a) => a.request.target)).toEqual([{ clientAddress: '198.51.100.23' }]);
    expect(await stored(outcome.deliveryId)).toMatchObject({
      outcome: 'accepted',
      route: 'malicious-address',
      rejectedTargets,
    });
  });

  it('answers an alert whose only address is invalid as ignored (202) with the rejected target, never an error', async () => {
    const { receive, accepted } = await harness();
    const body = sample('sentinel-host');
    body.object.properties.title = 'Sign-in from a malicious IP';
    body.object.properties.relatedEntities = [
      { kind: 'Ip', properties: { address: 'not-an-address' } },
    ];
    const outcome = await receive('sentinel', body);
    // docs/routing.md: a rejected target is listed in the answer, most of all when it was the only one.
    const rejectedTargets = [
      { target: 'not-an-address', reason: expect.stringMatching(/^target\.clientAddress: /) },
    ];
    expect(outcome).toEqual({
      status: 'ignored',
      deliveryId: expect.stringMatching(/^dlv_/),
      reason: 'No target of the alert is valid for the action',
      rejectedTargets,
    });
    expect(await stored(outcome.deliveryId)).toMatchObject({ outcome: 'ignored', rejectedTargets });
    expect(accepted).toEqual([]);
  });
});

describe('runbooks a source writes itself', () => {
  it('refuses any routed request whose target is a runbook definition, whatever the source and its routing', async () => {
    const accepted: unknown[] = [];
    const definition = {
      name: 'inline-wipe',
      steps: [{ id: 'wipe', action: 'device.wipe', target: { user: 'alice@example.com' } }],
    };
    // A routing that (wrongly) passes a definition on: receiving refuses it all the same.
    const sources = {
      ...SOURCE_DECLARATIONS,
      splunk: {
        ...SOURCE_DECLARATIONS.splunk,
        route: () => ({
          route: 'inline',
          requests: [
            {
              action: 'runbook.run',
              target: { definition },
              inputs: {},
              reason: 'r',
              dryRun: false,
            } as unknown as ActionRequest,
          ],
          rejected: [],
        }),
      },
    };
    const error = await rejection(
      receiveSourceDelivery(
        sources,
        {
          secrets: { read: async (source) => SECRETS[source] as never },
          rules: RULES,
          acceptor: async (acceptance) => {
            accepted.push(acceptance);
            return { actionId: 'act_1', duplicate: false };
          },
          deliveries: { record: async () => undefined },
          audit: { append: async () => undefined },
        },
        {
          source: 'splunk',
          rawBody: JSON.stringify(sample('splunk')),
          headers: {},
          pathToken: SECRETS.splunk.token,
        },
        lambdaContext,
        new Date(),
      ),
    );

    expect(error).toBeInstanceOf(SourceRequestError);
    expect((error as SourceRequestError).issues.map((issue) => issue.path.join('.'))).toEqual([
      'target.definition',
    ]);
    expect(accepted).toEqual([]);
  });
});
