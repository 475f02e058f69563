import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeSiemEvent, valuesAt } from '../../../lib/sources/alert-routing.ts';
import { RoutingRulesError, SourceRequestError } from '../../../lib/sources/errors.ts';
import { parseSourcePayload } from '../../../lib/sources/payloads.ts';
import { loadRoutingRules, parseRoutingRules } from '../../../lib/sources/routing.ts';
import { routeServiceNowRequest } from '../../../lib/sources/servicenow.ts';
import type { RoutingDecision, SourceEvent } from '../../../lib/sources/types.ts';

const route = (extra: Record<string, unknown>) => ({
  name: 'r1',
  action: 'session.logoff',
  target: { user: 'result.user' },
  reason: 'Alert {{search_name}}',
  ...extra,
});
const rules = (routes: Record<string, unknown[]>, allowedActions: string[] = []) =>
  parseRoutingRules({ version: 1, routes, servicenow: { allowedActions } });
const table = (...routes: unknown[]) => rules({ splunk: routes });
const event = (fields: Record<string, unknown>, title = 'alert'): SourceEvent => ({
  source: 'splunk',
  fields,
  deliveryKey: 'sid-1',
  title,
});

describe('routing rules file', () => {
  it('ships a valid config/routes.json', () => {
    const shipped = loadRoutingRules(new URL('../../../config/routes.json', import.meta.url));
    expect(shipped.routes.splunk.map((r) => r.name)).toContain('impossible-travel');
    // Destructive actions are opt-in for ServiceNow.
    expect(shipped.servicenow.allowedActions).not.toContain('device.wipe');
    expect(shipped.servicenow.allowedActions).not.toContain('admin.revoke');
  });

  it.each([
    [
      { splunk: [route({ target: { deviceId: 'result.device' } })] },
      'routes.splunk[0] (route "r1").target.deviceId: session.logoff takes a target of kind sessionId or user',
    ],
    [
      { splunk: [route({ target: {} })] },
      'routes.splunk[0] (route "r1").target: must name exactly one target kind',
    ],
    [{ splunk: [route({ action: 'session.nuke' })] }, 'routes.splunk[0] (route "r1").action'],
    [{ splunk: [route({ match: { 'bad path!': 'x' } })] }, 'routes.splunk[0] (route "r1").match'],
    [
      { splunk: [route({ reason: 'hi {{not a path}}' })] },
      'placeholder {{not a path}} is not a field path',
    ],
    [{ splunk: [route({}), route({})] }, 'duplicate route name "r1"'],
    [{ splunk: [route({ options: { mode: 'delete' } })] }, 'only admin.revoke takes options'],
    [{ datadog: [] }, 'routes'],
  ])('refuses an invalid file, naming the route and the field (%#)', (routes, message) => {
    expect(() => rules(routes as Record<string, unknown[]>)).toThrow(RoutingRulesError);
    expect(() => rules(routes as Record<string, unknown[]>)).toThrow(message);
  });
});

describe('routeSiemEvent', () => {
  const table = rules({
    splunk: [
      route({ name: 'travel', match: { search_name: { matches: '^impossible travel' } } }),
      route({
        name: 'many',
        match: { severity: { oneOf: ['high', 'critical'] }, 'tags[*]': 'soc' },
        target: { user: 'accounts[*].upn' },
        maxTargets: 2,
      }),
      route({
        name: 'from-title',
        match: { title: { contains: 'compromised account' } },
        target: { user: 'title' },
        extract: 'Compromised account:\\s*(\\S+@\\S+)',
        action: 'session.disconnect',
      }),
    ],
  });

  it('takes the first route that matches, its target from the field path and its reason template', () => {
    const decision = routeSiemEvent(
      table,
      'splunk',
      event({ search_name: 'Impossible travel detected', result: { user: 'alice@example.com' } }),
    );
    expect(decision).toEqual({
      route: 'travel',
      rejected: [],
      requests: [
        expect.objectContaining({
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          reason: 'Alert Impossible travel detected',
          requestedBy: 'splunk: alert',
        }),
      ],
    });
  });

  it('fans out over [*], deduplicates, and refuses more targets than the route allows', () => {
    const fields = (upns: string[]) => ({
      severity: 'High',
      tags: ['soc', 'x'],
      accounts: upns.map((upn) => ({ upn })),
    });
    const twice = routeSiemEvent(
      table,
      'splunk',
      event(fields(['a@example.com', 'A@example.com', 'b@example.com', 'a@example.com'])),
    );
    expect('requests' in twice && twice.requests.map((r) => r.target)).toEqual([
      { user: 'a@example.com' },
      { user: 'b@example.com' },
    ]);
    const ok = routeSiemEvent(table, 'splunk', event(fields(['a@example.com', 'b@example.com'])));
    expect('requests' in ok && ok.requests.map((r) => r.target)).toEqual([
      { user: 'a@example.com' },
      { user: 'b@example.com' },
    ]);
    const tooMany = routeSiemEvent(
      table,
      'splunk',
      event(fields(['a@example.com', 'b@example.com', 'c@example.com'])),
    );
    expect(tooMany).toEqual({
      ignored: 'Route "many" matched 3 targets at accounts[*].upn; it allows at most 2',
    });
  });

  it('extracts a target from free text with the route’s capture group', () => {
    const decision = routeSiemEvent(
      table,
      'splunk',
      event({ title: 'Compromised account: carol@example.com' }),
    );
    expect('requests' in decision && decision.requests.map((r) => [r.action, r.target])).toEqual([
      ['session.disconnect', { user: 'carol@example.com' }],
    ]);
  });

  it('ignores an alert no route matches, or whose target field is empty, and says why', () => {
    expect(
      routeSiemEvent(table, 'splunk', event({ search_name: 'Disk full' }, 'Disk full')),
    ).toEqual({
      ignored: 'No splunk route matches "Disk full"',
    });
    expect(
      routeSiemEvent(table, 'splunk', event({ search_name: 'Impossible travel', result: {} })),
    ).toEqual({
      ignored:
        'Route "travel" matched but result.user holds no user: the alert has no such field, or it is empty',
    });
  });

  it('says what the target field held when it gave no target, never the values themselves', () => {
    const travel = (user: unknown) =>
      routeSiemEvent(
        table,
        'splunk',
        event({ search_name: 'Impossible travel', result: { user } }),
      );
    expect(travel([])).toEqual({
      ignored:
        'Route "travel" matched but result.user holds no user: the alert has no such field, or it is empty',
    });
    expect(travel(['  ', ''])).toEqual({
      ignored:
        'Route "travel" matched but result.user holds no user: it holds 2 values (an empty text), none a non-empty text or a number',
    });
    expect(travel([{ upn: 'alice@example.com' }, true])).toEqual({
      ignored:
        'Route "travel" matched but result.user holds no user: it holds 2 values (an object, true or false), none a non-empty text or a number',
    });
    const extracting = rules({
      splunk: [route({ target: { user: 'result.user' }, extract: '^user=(\\S+@\\S+)$' })],
    });
    expect(
      routeSiemEvent(
        extracting,
        'splunk',
        event({ result: { user: ['alice@example.com', 'bob@example.com'] } }),
      ),
    ).toEqual({
      ignored:
        'Route "r1" matched but result.user holds no user: it holds 2 values (a text), none matching the route\'s extract',
    });
  });

  it('rejects a target the action cannot take, without dropping the others', () => {
    const decision = routeSiemEvent(
      table,
      'splunk',
      event({ search_name: 'Impossible travel', result: { user: 'not a user' } }),
    );
    expect(decision).toMatchObject({ requests: [], rejected: [{ target: 'not a user' }] });
  });
});

describe('routeServiceNowRequest', () => {
  const table = rules({}, ['session.logoff']);
  const request = (fields: Record<string, unknown>): SourceEvent => ({
    source: 'servicenow',
    fields: { sys_id: 'a'.repeat(32), number: 'INC0001', ...fields },
    deliveryKey: 'k',
    title: 'ServiceNow INC0001',
  });

  it('takes the action the ticket names when the rules allow it', () => {
    expect(
      routeServiceNowRequest(
        table,
        request({
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          short_description: 'Stolen laptop',
        }),
      ),
    ).toEqual({
      route: 'servicenow',
      rejected: [],
      requests: [
        expect.objectContaining({
          action: 'session.logoff',
          reason: 'ServiceNow INC0001: Stolen laptop',
          ticket: 'INC0001',
          requestedBy: 'servicenow',
        }),
      ],
    });
  });

  it('shows who ServiceNow says asked after its own name: the source asks, never the analyst', () => {
    expect(
      routeServiceNowRequest(
        table,
        request({
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          requested_by: ' soc.analyst@example.com ',
        }),
      ),
    ).toMatchObject({
      requests: [expect.objectContaining({ requestedBy: 'servicenow: soc.analyst@example.com' })],
    });
  });

  it('ignores an action the rules do not allow, and refuses an invalid target with the fields', () => {
    expect(
      routeServiceNowRequest(table, request({ action: 'device.wipe', target: { user: 'x' } })),
    ).toEqual({
      ignored: 'ServiceNow may not request device.wipe (routing rules: servicenow.allowedActions)',
    });
    expect(() =>
      routeServiceNowRequest(
        table,
        request({ action: 'session.logoff', target: { user: 'no upn' } }),
      ),
    ).toThrow(SourceRequestError);
  });

  /** The error a request is refused with, or undefined when it is routed. */
  const refusal = (
    rules: ReturnType<typeof parseRoutingRules>,
    fields: Record<string, unknown>,
  ) => {
    try {
      routeServiceNowRequest(rules, request(fields));
    } catch (error) {
      return error as SourceRequestError;
    }
    return undefined;
  };
  const INLINE_WIPE = {
    name: 'wipe-everything',
    inputs: { user: { description: 'who' } },
    steps: [{ id: 'wipe', action: 'device.wipe', target: { user: '{{inputs.user}}' } }],
  };

  it('runs a deployed runbook by name when the rules allow runbook.run', () => {
    const allowed = rules({}, ['runbook.run']);
    expect(
      routeServiceNowRequest(
        allowed,
        request({
          action: 'runbook.run',
          target: { runbook: 'compromised-user' },
          inputs: { user: 'alice@example.com' },
        }),
      ),
    ).toMatchObject({
      requests: [{ action: 'runbook.run', target: { runbook: 'compromised-user' } }],
    });
  });

  it.each([
    ['allows runbook.run', ['runbook.run']],
    ['does not allow runbook.run', ['session.logoff']],
  ])(
    'refuses an inline runbook definition, naming target.definition, when the rules %s',
    (_, allowedActions) => {
      // Its steps could name any action (here device.wipe, which ServiceNow may not request).
      const error = refusal(rules({}, allowedActions), {
        action: 'runbook.run',
        target: { definition: INLINE_WIPE },
        inputs: { user: 'alice@example.com' },
      });

      expect(error).toBeInstanceOf(SourceRequestError);
      expect(error?.source).toBe('servicenow');
      expect(error?.issues.map((issue) => issue.path.join('.'))).toEqual(['target.definition']);
      expect(error?.issues[0]?.message).toMatch(/deployed with the stack, by name/);
    },
  );

  it('refuses a definition beside a runbook name, or under another action', () => {
    const allowed = rules({}, ['runbook.run', 'session.logoff']);
    for (const fields of [
      { action: 'runbook.run', target: { runbook: 'compromised-user', definition: INLINE_WIPE } },
      { action: 'session.logoff', target: { user: 'alice@example.com', definition: INLINE_WIPE } },
    ]) {
      expect(refusal(allowed, fields)?.issues.map((issue) => issue.path.join('.'))).toEqual([
        'target.definition',
      ]);
    }
  });
});

describe('valuesAt', () => {
  it('reads nested fields, indexes and fan-outs, skipping what is missing', () => {
    const fields = { a: { b: [{ c: 1 }, { c: 2 }, {}] }, list: ['x', 'y'] };
    expect(valuesAt(fields, 'a.b[*].c')).toEqual([1, 2]);
    expect(valuesAt(fields, 'a.b[1].c')).toEqual([2]);
    expect(valuesAt(fields, 'list[0]')).toEqual(['x']);
    expect(valuesAt(fields, 'a.missing.c')).toEqual([]);
  });
});

describe('route warnings', () => {
  it('passes a route’s warning to its session actions, and refuses one on other actions', () => {
    const warned = rules({
      splunk: [
        route({
          name: 'warned',
          notify: { title: 'Security', text: 'Your session will end', graceSeconds: 30 },
        }),
      ],
    });
    const decision = routeSiemEvent(warned, 'splunk', event({ result: { user: 'a@example.com' } }));
    expect('requests' in decision && decision.requests[0]).toMatchObject({
      notify: { title: 'Security', graceSeconds: 30 },
    });
    expect(() =>
      rules({
        splunk: [
          route({
            action: 'device.wipe',
            notify: { title: 'x', text: 'y' },
          }),
        ],
      }),
    ).toThrow('only session actions warn users');
  });
});

describe('fleet-scale targets', () => {
  const shipped = loadRoutingRules(new URL('../../../config/routes.json', import.meta.url));
  const sampleText = (name: string) =>
    readFileSync(new URL(`../../../docs/sources/samples/${name}.json`, import.meta.url), 'utf8');
  /** A Sentinel incident (its properties alone) with these entities, as the endpoint parses it. */
  const incident = (title: string, relatedEntities: unknown[]) =>
    parseSourcePayload(
      'sentinel',
      JSON.stringify({ title, severity: 'High', incidentNumber: 4721, relatedEntities }),
    );
  const ip = (address: string) => ({ kind: 'Ip', properties: { address } });
  const targets = (decision: RoutingDecision) =>
    'requests' in decision ? decision.requests.map((request) => request.target) : decision;

  it('takes a Sentinel Host entity as the machine Citrix knows: NTDOMAIN\\NAME', () => {
    const decision = routeSiemEvent(
      shipped,
      'sentinel',
      parseSourcePayload('sentinel', sampleText('sentinel-host')),
    );
    expect(decision).toEqual({
      route: 'compromised-host',
      rejected: [],
      requests: [
        expect.objectContaining({
          action: 'session.disconnect',
          target: { machine: 'EXAMPLE\\VDA-007' },
          reason: 'Sentinel incident 4720 (High): Malware detected on a Citrix VDA',
        }),
      ],
    });
  });

  it('takes a Host with only its DNS domain by its DNS name', () => {
    const decision = routeSiemEvent(
      shipped,
      'sentinel',
      incident('Ransomware behaviour on a session host', [
        { kind: 'Host', properties: { hostName: 'vda-012', dnsDomain: 'example.com' } },
      ]),
    );
    expect(targets(decision)).toEqual([{ machine: 'vda-012.example.com' }]);
  });

  it('takes a Sentinel account with only accountName and ntDomain as DOMAIN\\name', () => {
    const body = JSON.parse(sampleText('sentinel-host'));
    body.object.properties.title = 'Suspicious sign-in: possible account compromise';
    const decision = routeSiemEvent(
      shipped,
      'sentinel',
      parseSourcePayload('sentinel', JSON.stringify(body)),
    );
    expect(decision).toEqual({
      route: 'account-compromise',
      rejected: [],
      requests: [
        expect.objectContaining({
          action: 'session.logoff',
          target: { user: 'EXAMPLE\\carol' },
        }),
      ],
    });
    // Accounts with a UPN still go by it: the shipped sample logs off alice and bob.
    const sample = parseSourcePayload('sentinel', sampleText('sentinel'));
    expect(targets(routeSiemEvent(shipped, 'sentinel', sample))).toEqual([
      { user: 'alice@example.com' },
      { user: 'bob@example.com' },
    ]);
  });

  it('takes each Sentinel Ip entity as a client address, normalized', () => {
    const decision = routeSiemEvent(
      shipped,
      'sentinel',
      incident('Sign-in from a malicious IP', [ip('198.51.100.23'), ip('2001:DB8:0:0::7')]),
    );
    expect(decision).toMatchObject({ route: 'malicious-address', rejected: [] });
    expect(targets(decision)).toEqual([
      { clientAddress: '198.51.100.23' },
      { clientAddress: '2001:db8::7' },
    ]);
    expect('requests' in decision && decision.requests[0]?.action).toBe('session.disconnect');
  });

  it('rejects an invalid address by name, with the schema’s reason, and acts on the others', () => {
    const decision = routeSiemEvent(
      shipped,
      'sentinel',
      incident('Sign-in from a malicious IP', [
        ip('203.0.113.300'),
        ip('198.51.100.23'),
        ip('10.0.0.7/8'),
      ]),
    );
    expect(targets(decision)).toEqual([{ clientAddress: '198.51.100.23' }]);
    expect('rejected' in decision && decision.rejected).toEqual([
      {
        target: '203.0.113.300',
        reason: expect.stringMatching(/^target\.clientAddress: must be an IP address or a CIDR/),
      },
      { target: '10.0.0.7/8', reason: expect.stringMatching(/host bits zero/) },
    ]);
  });

  it('takes a Splunk multivalue field as one `users` target, in a stable order', () => {
    const decision = routeSiemEvent(
      shipped,
      'splunk',
      parseSourcePayload('splunk', sampleText('splunk-users')),
    );
    expect(decision).toEqual({
      route: 'password-spray',
      rejected: [],
      requests: [
        expect.objectContaining({
          action: 'session.disconnect',
          target: { users: ['bob@example.com', 'erin@example.com'] },
          reason: expect.stringMatching(/^Splunk alert Password spray: accounts signed in \(sid /),
        }),
      ],
    });
    // A single value is a list of one; the same names in another order are the same target.
    const one = routeSiemEvent(
      shipped,
      'splunk',
      event({ search_name: 'Password spray', result: { user: 'erin@example.com' } }),
    );
    expect(targets(one)).toEqual([{ users: ['erin@example.com'] }]);
    const reordered = routeSiemEvent(
      shipped,
      'splunk',
      event({
        search_name: 'Password spray',
        result: { user: ['Erin@example.com', 'bob@example.com', 'erin@example.com'] },
      }),
    );
    expect(targets(reordered)).toEqual([{ users: ['bob@example.com', 'Erin@example.com'] }]);
  });

  it('makes one action per value of a multivalue field routed to `user`', () => {
    const decision = routeSiemEvent(
      shipped,
      'splunk',
      event({
        search_name: 'Impossible travel',
        result: { user: ['alice@example.com'] },
      }),
    );
    expect(targets(decision)).toEqual([{ user: 'alice@example.com' }]);
    const two = routeSiemEvent(
      table(route({ target: { user: 'result.user' }, maxTargets: 2 })),
      'splunk',
      event({ result: { user: ['alice@example.com', 'bob@example.com'] } }),
    );
    expect(targets(two)).toEqual([{ user: 'alice@example.com' }, { user: 'bob@example.com' }]);
  });

  it('rejects a name in a `users` list on its own; the rest of the list goes ahead', () => {
    const decision = routeSiemEvent(
      shipped,
      'splunk',
      event({
        search_name: 'Password spray',
        result: { user: ['erin@example.com', 'not a user', 'bob@example.com'] },
      }),
    );
    expect(decision).toEqual({
      route: 'password-spray',
      requests: [
        expect.objectContaining({ target: { users: ['bob@example.com', 'erin@example.com'] } }),
      ],
      rejected: [
        {
          target: 'not a user',
          reason: 'target.users: must be a UPN (user@example.com) or DOMAIN\\user',
        },
      ],
    });
    const none = routeSiemEvent(
      shipped,
      'splunk',
      event({ search_name: 'Password spray', result: { user: ['x', 'y'] } }),
    );
    expect(none).toMatchObject({ requests: [], rejected: [{ target: 'x' }, { target: 'y' }] });
  });

  it('counts every name of a `users` list against maxTargets', () => {
    const users = Array.from({ length: 21 }, (_, i) => `user${i}@example.com`);
    expect(
      routeSiemEvent(
        shipped,
        'splunk',
        event({ search_name: 'Password spray', result: { user: users } }),
      ),
    ).toEqual({
      ignored: 'Route "password-spray" matched 21 targets at result.user; it allows at most 20',
    });
  });

  it('takes a delivery group from a field, validated by the action', () => {
    const groups = table(route({ target: { deliveryGroup: 'result.group' } }));
    expect(
      targets(routeSiemEvent(groups, 'splunk', event({ result: { group: 'Finance Desktops' } }))),
    ).toEqual([{ deliveryGroup: 'Finance Desktops' }]);
    expect(
      routeSiemEvent(groups, 'splunk', event({ result: { group: 'Finance*' } })),
    ).toMatchObject({ requests: [], rejected: [{ target: 'Finance*' }] });
  });

  it('matches a multivalue field when any of its values matches', () => {
    const apps = table(route({ match: { 'result.signin_app': 'microsoft 365' } }));
    const decision = routeSiemEvent(
      apps,
      'splunk',
      event({
        result: { user: 'alice@example.com', signin_app: ['Citrix Workspace', 'Microsoft 365'] },
      }),
    );
    expect(targets(decision)).toEqual([{ user: 'alice@example.com' }]);
  });

  it('refuses a fleet target kind the action does not take, naming the kinds it does', () => {
    expect(() =>
      table(route({ action: 'device.wipe', target: { machine: 'hosts[*].machine' } })),
    ).toThrow(
      'routes.splunk[0] (route "r1").target.machine: device.wipe takes a target of kind deviceId or user or users',
    );
    expect(() =>
      table(route({ action: 'admin.revoke', target: { users: 'result.user' } })),
    ).toThrow('admin.revoke takes a target of kind admin');
  });
});
