import { describe, expect, it } from 'vitest';
import {
  loadRoutingRules,
  parseRoutingRules,
  RoutingRulesError,
  routeServiceNowRequest,
  routeSiemEvent,
  ServiceNowRequestError,
  valuesAt,
} from '../../../lib/sources/routing.ts';
import type { SourceEvent } from '../../../lib/sources/types.ts';

const route = (extra: Record<string, unknown>) => ({
  name: 'r1',
  action: 'session.logoff',
  target: { user: 'result.user' },
  reason: 'Alert {{search_name}}',
  ...extra,
});
const rules = (routes: Record<string, unknown[]>, allowedActions: string[] = []) =>
  parseRoutingRules({ version: 1, routes, servicenow: { allowedActions } });
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
      ignored: 'Route "travel" matched but result.user holds no user',
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
    ).toThrow(ServiceNowRequestError);
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
