import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ActionRequestSchema } from '../../../lib/actions/schema.ts';
import { SourcePayloadError } from '../../../lib/sources/errors.ts';
import { parseSourcePayload, SOURCE_PAYLOAD_SCHEMAS } from '../../../lib/sources/payloads.ts';
import { SOURCES, type SourceName } from '../../../lib/sources/types.ts';

/** A documented sample: `sentinel`, or another sample of a source such as `sentinel-host`. */
const sampleText = (name: SourceName | `${SourceName}-${string}`) =>
  readFileSync(new URL(`../../../docs/sources/samples/${name}.json`, import.meta.url), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: samples are edited freely to build invalid bodies.
const sample = (name: SourceName | `${SourceName}-${string}`): any => JSON.parse(sampleText(name));

/** The SourcePayloadError a body causes; fails the test if it parses. */
function payloadError(source: SourceName, body: unknown): SourcePayloadError {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    parseSourcePayload(source, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(SourcePayloadError);
    expect((error as Error).name).toBe('SourcePayloadError');
    return error as SourcePayloadError;
  }
  throw new Error('expected the payload to be rejected');
}
const fieldNames = (error: SourcePayloadError) => error.fields.map((field) => field.field);

describe('every source', () => {
  it.each(SOURCES)('%s: names (body) for a body that is not JSON, without quoting it', (source) => {
    const error = payloadError(source, '{"secret-looking": "hunter2"');
    expect(error.fields).toEqual([{ field: '(body)', message: 'must be JSON' }]);
    expect(error.message).toBe(`Invalid ${source} payload: (body)`);
    expect(error.source).toBe(source);
    expect(JSON.stringify(error.fields)).not.toContain('hunter2');
  });

  it.each(SOURCES)('%s: names (body) for JSON that is not an object', (source) => {
    for (const body of ['[]', 'null', '"text"', '42', 'true']) {
      expect(payloadError(source, body).fields).toEqual([
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    }
  });

  it.each(SOURCES)('%s: keeps fields it does not know in `fields`', (source) => {
    const body = { ...sample(source), x_custom: { team: 'soc' } };
    const event = parseSourcePayload(source, JSON.stringify(body), { 'webhook-id': 'msg_1' });
    expect(event.source).toBe(source);
    if (source !== 'sentinel') expect(event.fields.x_custom).toEqual({ team: 'soc' });
  });

  it.each(SOURCES)('%s: its schema renders as JSON Schema for the OpenAPI document', (source) => {
    const schema = z.toJSONSchema(SOURCE_PAYLOAD_SCHEMAS[source]);
    expect(schema).toMatchObject({ $schema: expect.any(String) });
    expect(SOURCE_PAYLOAD_SCHEMAS[source].safeParse(sample(source)).success).toBe(true);
  });
});

describe('Splunk webhook alert action', () => {
  it('reads the sample: sid is the delivery key, the alert name the title', () => {
    const event = parseSourcePayload('splunk', sampleText('splunk'));
    expect(event).toEqual({
      source: 'splunk',
      fields: sample('splunk'),
      deliveryKey: 'scheduler__admin__search__RMD5c0f2d7a1b9e4f3a2_at_1741944360_1234',
      title: 'Impossible travel detected',
    });
    expect(event.fields).toMatchObject({ result: { user: 'alice@example.com' } });
    expect(event.serviceNowIncident).toBeUndefined();
  });

  it('accepts only what Splunk puts in a result row: strings, numbers, null and arrays', () => {
    const body = sample('splunk');
    body.result = { count: 8, empty: null, multi: ['a', 1, null] };
    expect(parseSourcePayload('splunk', JSON.stringify(body)).fields.result).toEqual(body.result);
    body.result = { nested: { a: 1 }, flag: true, ok: 'x' };
    expect(payloadError('splunk', body).fields).toEqual([
      { field: 'result.nested', message: 'must be a string, a number, null or an array of them' },
      { field: 'result.flag', message: 'must be a string, a number, null or an array of them' },
    ]);
  });

  it('names every missing or invalid field at once', () => {
    const error = payloadError('splunk', {
      result: [],
      search_name: '',
      results_link: 'javascript:alert(1)',
      owner: 7,
    });
    expect(error.fields).toEqual([
      { field: 'result', message: 'must be an object' },
      { field: 'sid', message: 'is required' },
      { field: 'search_name', message: 'must not be empty' },
      { field: 'results_link', message: 'must be an http(s) URL' },
      { field: 'owner', message: 'must be a string' },
    ]);
    expect(error.message).toBe(
      'Invalid splunk payload: result, sid, search_name, results_link, owner',
    );
  });

  it('refuses an ad hoc search without a name: no routing rule could match it', () => {
    const body = { ...sample('splunk'), search_name: null };
    expect(payloadError('splunk', body).fields).toEqual([
      { field: 'search_name', message: 'must be the name of the alert' },
    ]);
  });
});

describe('Microsoft Sentinel incident', () => {
  const ARM_ID =
    '/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/law-soc/providers/Microsoft.SecurityInsights/Incidents/8e4a1f2b-7c3d-4e5f-9a0b-1c2d3e4f5a6b';
  const ACCOUNTS = [
    {
      user: 'alice@example.com',
      upn: 'alice@example.com',
      name: 'alice',
      upnSuffix: 'example.com',
      aadUserId: '6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a',
    },
    {
      user: 'bob@example.com',
      upn: 'bob@example.com',
      name: 'bob',
      upnSuffix: 'example.com',
      aadUserId: '1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d',
    },
  ];
  const HOSTS = [
    { machine: 'WKS-0142.corp.example.com', hostName: 'WKS-0142', dnsDomain: 'corp.example.com' },
  ];
  const IPS = [{ address: '203.0.113.24' }];

  it('reads the whole trigger body: ARM id, number, title, accounts, hosts and addresses', () => {
    const event = parseSourcePayload('sentinel', sampleText('sentinel'));
    const properties = sample('sentinel').object.properties;
    expect(event).toEqual({
      source: 'sentinel',
      fields: {
        ...properties,
        incidentId: ARM_ID,
        incidentNumber: 4711,
        title: 'Suspicious sign-in: possible account compromise',
        severity: 'High',
        status: 'New',
        description: properties.description,
        accounts: ACCOUNTS,
        hosts: HOSTS,
        ips: IPS,
      },
      deliveryKey: ARM_ID,
      title: 'Sentinel incident 4711: Suspicious sign-in: possible account compromise',
    });
  });

  it('reads the properties alone the same way, taking the ARM id from incidentUrl', () => {
    const properties = sample('sentinel').object.properties;
    const flat = parseSourcePayload('sentinel', JSON.stringify(properties));
    const whole = parseSourcePayload('sentinel', sampleText('sentinel'));
    expect(flat).toEqual(whole);
  });

  it('prefers an explicit id or name, and falls back to the incident number', () => {
    const { incidentUrl: _url, ...properties } = sample('sentinel').object.properties;
    expect(parseSourcePayload('sentinel', JSON.stringify(properties)).deliveryKey).toBe(
      'incident-4711',
    );
    const named = { ...properties, name: '8e4a1f2b-7c3d-4e5f-9a0b-1c2d3e4f5a6b' };
    expect(parseSourcePayload('sentinel', JSON.stringify(named)).fields.incidentId).toBe(
      '8e4a1f2b-7c3d-4e5f-9a0b-1c2d3e4f5a6b',
    );
    const trigger = sample('sentinel');
    delete trigger.object.id;
    expect(parseSourcePayload('sentinel', JSON.stringify(trigger)).deliveryKey).toBe(
      '8e4a1f2b-7c3d-4e5f-9a0b-1c2d3e4f5a6b',
    );
  });

  it('takes entities from `Entities` too, and a UPN the entity already carries', () => {
    const { relatedEntities: _entities, ...properties } = sample('sentinel').object.properties;
    const body = {
      ...properties,
      Entities: [
        { kind: 'Account', properties: { accountName: 'carol', userPrincipalName: 'c.x@ex.org' } },
        {
          kind: 'account',
          properties: { accountName: 'dave', additionalData: { UserPrincipalName: 'dave@ex.org' } },
        },
        { kind: 'Account', properties: { accountName: 'erin@ex.org' } },
        { kind: 'Account', properties: { accountName: 'frank', upnSuffix: '' } },
        { kind: 'Account', properties: { aadUserId: 'a1' } },
        { kind: 'Account' },
        { kind: 'Host', properties: { hostName: 'VDA-07' } },
        { kind: 'Ip', properties: { address: '203.0.113.9' } },
        { properties: { accountName: 'no-kind' } },
      ],
    };
    const event = parseSourcePayload('sentinel', JSON.stringify(body));
    expect(event.fields.accounts).toEqual([
      { user: 'c.x@ex.org', upn: 'c.x@ex.org', name: 'carol' },
      { user: 'dave@ex.org', upn: 'dave@ex.org', name: 'dave' },
      { user: 'erin@ex.org', upn: 'erin@ex.org', name: 'erin@ex.org' },
      { name: 'frank' },
      { aadUserId: 'a1' },
      {},
    ]);
    // A bare host name is a weak identifier: kept, but not made a machine.
    expect(event.fields.hosts).toEqual([{ hostName: 'VDA-07' }]);
    expect(event.fields.ips).toEqual([{ address: '203.0.113.9' }]);
  });

  it('makes an account with only a name and an NT domain the DOMAIN\\name user DaaS searches by', () => {
    const body = {
      title: 'T',
      severity: 'High',
      incidentNumber: 3,
      relatedEntities: [
        { kind: 'Account', properties: { accountName: 'carol', ntDomain: 'EXAMPLE' } },
        { kind: 'Account', properties: { accountName: 'EXAMPLE\\dave' } },
        // A UPN, when there is one, is still the name used.
        {
          kind: 'Account',
          properties: { accountName: 'erin', upnSuffix: 'example.com', ntDomain: 'EXAMPLE' },
        },
        { kind: 'Account', properties: { accountName: 'frank', ntDomain: '' } },
      ],
    };
    expect(parseSourcePayload('sentinel', JSON.stringify(body)).fields.accounts).toEqual([
      { user: 'EXAMPLE\\carol', name: 'carol', ntDomain: 'EXAMPLE' },
      { user: 'EXAMPLE\\dave', name: 'EXAMPLE\\dave' },
      {
        user: 'erin@example.com',
        upn: 'erin@example.com',
        name: 'erin',
        upnSuffix: 'example.com',
        ntDomain: 'EXAMPLE',
      },
      { name: 'frank' },
    ]);
  });

  it('names a host as Citrix does: NTDOMAIN\\NAME when its NT domain is known, else its DNS name', () => {
    const host = (properties: Record<string, string>) => ({ kind: 'Host', properties });
    const body = {
      title: 'T',
      severity: 'High',
      incidentNumber: 4,
      relatedEntities: [
        host({ hostName: 'VDA-007', netBiosName: 'VDA-007N', ntDomain: 'EXAMPLE' }),
        host({ hostName: 'VDA-008', ntDomain: 'EXAMPLE', dnsDomain: 'example.com' }),
        // Longer than a NetBIOS name can be: the DNS name, not a DOMAIN\NAME Citrix never shows.
        host({ hostName: 'citrix-vda-westeurope-01', ntDomain: 'EXAMPLE', dnsDomain: 'ex.org' }),
        host({ hostName: 'vda-009.example.com', ntDomain: '' }),
        host({ netBiosName: 'VDA-010' }),
      ],
    };
    expect(
      (
        parseSourcePayload('sentinel', JSON.stringify(body)).fields.hosts as { machine?: string }[]
      ).map((entry) => entry.machine),
    ).toEqual([
      'EXAMPLE\\VDA-007N',
      'EXAMPLE\\VDA-008',
      'citrix-vda-westeurope-01.ex.org',
      'vda-009.example.com',
      undefined,
    ]);
  });

  it('reads the host sample: a host, a domain account without a UPN and an address', () => {
    const event = parseSourcePayload('sentinel', sampleText('sentinel-host'));
    expect(event.fields).toMatchObject({
      incidentNumber: 4720,
      accounts: [{ user: 'EXAMPLE\\carol', name: 'carol', ntDomain: 'EXAMPLE' }],
      hosts: [
        {
          machine: 'EXAMPLE\\VDA-007',
          hostName: 'VDA-007',
          netBiosName: 'VDA-007',
          ntDomain: 'EXAMPLE',
          dnsDomain: 'example.com',
        },
      ],
      ips: [{ address: '198.51.100.23' }],
    });
  });

  it('has no accounts, hosts or addresses when the incident has no entities', () => {
    const body = { title: 'T', severity: 'Low', incidentNumber: 1 };
    const event = parseSourcePayload('sentinel', JSON.stringify(body));
    expect(event.fields).toEqual({
      ...body,
      incidentId: 'incident-1',
      accounts: [],
      hosts: [],
      ips: [],
    });
    expect(event.fields).not.toHaveProperty('status');
  });

  it('names invalid fields on the path the body used', () => {
    const trigger = sample('sentinel');
    trigger.object.properties.severity = 'Critical';
    trigger.object.properties.incidentNumber = '4711';
    trigger.object.properties.relatedEntities[0].properties.accountName = 42;
    delete trigger.object.properties.title;
    expect(payloadError('sentinel', trigger).fields).toEqual([
      { field: 'object.properties.title', message: 'is required' },
      {
        field: 'object.properties.severity',
        message: 'must be one of High, Medium, Low, Informational',
      },
      { field: 'object.properties.incidentNumber', message: 'must be a number' },
      {
        field: 'object.properties.relatedEntities.0.properties.accountName',
        message: 'must be a string',
      },
    ]);
    const flat = { severity: 'High', incidentNumber: 2.5, Entities: {} };
    expect(fieldNames(payloadError('sentinel', flat))).toEqual([
      'title',
      'incidentNumber',
      'Entities',
    ]);
    expect(fieldNames(payloadError('sentinel', { object: null }))).toEqual(['object']);
  });
});

describe('ServiceNow containment request', () => {
  it('reads the sample: sys_id and action make the delivery key, the incident is kept', () => {
    const event = parseSourcePayload('servicenow', sampleText('servicenow'));
    expect(event).toEqual({
      source: 'servicenow',
      fields: sample('servicenow'),
      deliveryKey: '9d385017c611228701d22104cc95c371:session.logoff',
      title: 'ServiceNow INC0010042',
      serviceNowIncident: { sysId: '9d385017c611228701d22104cc95c371', number: 'INC0010042' },
    });
  });

  it('carries what the action request schema needs', () => {
    const { action, target, reason, requested_by, number } = sample('servicenow');
    const request = ActionRequestSchema.safeParse({
      action,
      target,
      reason,
      requestedBy: requested_by,
      ticket: number,
    });
    expect(request.success).toBe(true);
  });

  it('accepts every action this project can carry out, and no other', () => {
    for (const action of ['session.disconnect', 'device.wipe', 'admin.revoke']) {
      const body = { ...sample('servicenow'), action };
      expect(parseSourcePayload('servicenow', JSON.stringify(body)).deliveryKey).toBe(
        `9d385017c611228701d22104cc95c371:${action}`,
      );
    }
    const error = payloadError('servicenow', { ...sample('servicenow'), action: 'user.delete' });
    expect(error.fields).toHaveLength(1);
    expect(error.fields[0]?.field).toBe('action');
    expect(error.fields[0]?.message).toMatch(/^must be one of session\.logoff, /);
  });

  it('names every invalid field, without echoing a long value', () => {
    const long = 'Z'.repeat(5000);
    const error = payloadError('servicenow', {
      sys_id: long,
      number: 'INC 001',
      target: ['alice@example.com'],
      options: 'strip',
      reason: 'r'.repeat(1001),
      requested_by: 5,
    });
    expect(error.fields).toEqual([
      { field: 'sys_id', message: 'must be a ServiceNow sys_id (32 lowercase hex characters)' },
      { field: 'number', message: 'must be a ticket number such as INC0010001' },
      { field: 'action', message: 'is required' },
      { field: 'target', message: 'must be an object' },
      { field: 'options', message: 'must be an object' },
      { field: 'reason', message: 'must be at most 1000 characters' },
      { field: 'requested_by', message: 'must be a string' },
    ]);
    expect(JSON.stringify(error.fields)).not.toContain('ZZZZ');
    expect(error.message.length).toBeLessThan(200);
  });

  it('refuses a sys_id in upper case: ServiceNow writes them in lower case', () => {
    const body = { ...sample('servicenow'), sys_id: '9D385017C611228701D22104CC95C371' };
    expect(fieldNames(payloadError('servicenow', body))).toEqual(['sys_id']);
  });
});

describe('PagerDuty v3 webhook', () => {
  it('reads the sample: the event id is the delivery key', () => {
    const event = parseSourcePayload('pagerduty', sampleText('pagerduty'));
    expect(event).toEqual({
      source: 'pagerduty',
      fields: sample('pagerduty'),
      deliveryKey: '01DKBX6L6K6NKPEQRDSPVAZ0EH',
      title: 'PagerDuty incident.triggered: Compromised account: alice@example.com',
    });
    expect(event.fields).toMatchObject({
      event: { data: { service: { summary: 'Citrix SOC' }, urgency: 'high' } },
    });
  });

  it('accepts the pagey.ping test event, whose data has no id', () => {
    const ping = {
      event: {
        id: '01FKZOXA868SHYEE4DVNWB5P9W',
        event_type: 'pagey.ping',
        resource_type: 'pagey',
        occurred_at: '2025-04-07T03:00:55.532Z',
        agent: { id: 'PVE0ZR9', type: 'user_reference' },
        client: null,
        data: { message: 'Hello from your friend Pagey!', type: 'ping' },
      },
    };
    const event = parseSourcePayload('pagerduty', JSON.stringify(ping));
    expect(event.title).toBe('PagerDuty pagey.ping: 01FKZOXA868SHYEE4DVNWB5P9W');
  });

  it('titles a note event by its id, and accepts null references', () => {
    const body = sample('pagerduty');
    body.event.event_type = 'incident.annotated';
    body.event.agent = null;
    body.event.data = {
      id: 'P2LA89X',
      type: 'incident_note',
      incident: { id: 'Q2KVX9T4ZJ8N1R', type: 'incident_reference' },
      content: 'Containment requested',
      priority: null,
      service: null,
    };
    expect(parseSourcePayload('pagerduty', JSON.stringify(body)).title).toBe(
      'PagerDuty incident.annotated: P2LA89X',
    );
  });

  it('names every invalid field of the event', () => {
    const body = sample('pagerduty');
    delete body.event.id;
    body.event.occurred_at = 'yesterday';
    body.event.data.number = 'one';
    body.event.data.service = { summary: 'Citrix SOC' };
    body.event.data.assignees = 'SOC On-Call';
    expect(payloadError('pagerduty', body).fields).toEqual([
      { field: 'event.id', message: 'is required' },
      { field: 'event.occurred_at', message: 'must be an ISO 8601 date-time' },
      { field: 'event.data.number', message: 'must be a number' },
      { field: 'event.data.service.id', message: 'is required' },
      { field: 'event.data.assignees', message: 'must be an array' },
    ]);
    expect(fieldNames(payloadError('pagerduty', { messages: [] }))).toEqual(['event']);
  });
});

describe('Standard Webhooks action request', () => {
  it('reads the sample: the webhook-id is the delivery key, the action the title', () => {
    const event = parseSourcePayload('standard', sampleText('standard'), {
      'webhook-id': 'msg_2f1c0d',
    });
    expect(event).toEqual({
      source: 'standard',
      fields: sample('standard'),
      deliveryKey: 'msg_2f1c0d',
      title: 'Standard Webhooks request for session.logoff',
    });
  });

  it('names the webhook-id header when it is missing or unusable as a key', () => {
    for (const headers of [{}, { 'webhook-id': '' }, { 'webhook-id': 'a\nb' }]) {
      const error = (() => {
        try {
          parseSourcePayload('standard', sampleText('standard'), headers);
        } catch (caught) {
          return caught;
        }
        throw new Error('parsed');
      })();
      expect(error).toBeInstanceOf(SourcePayloadError);
      expect(fieldNames(error as SourcePayloadError)).toEqual(['(header webhook-id)']);
    }
  });

  it('names an unknown action and a target that is no object, and a requestedBy too long', () => {
    const error = payloadError('standard', {
      ...sample('standard'),
      action: 'user.delete',
      target: 'alice',
      requestedBy: 'x'.repeat(201),
    });
    expect(fieldNames(error)).toEqual(['action', 'target', 'requestedBy']);
  });
});
