import { describe, expect, it } from 'vitest';
import { routeSiemEvent } from '../../../lib/sources/alert-routing.ts';
import {
  loadRoutingRules,
  parseRoutingRules,
  RoutingRulesError,
} from '../../../lib/sources/routing.ts';
import type { SourceEvent } from '../../../lib/sources/types.ts';

/**
 * Routing rules that run a runbook: a route names the runbook and where each of its inputs is in
 * the alert, checked at load; an alert that matches runs the runbook once, its inputs read from
 * the alert. The repository's runbooks are installed (test/support/runbooks.setup.ts).
 */

const route = (overrides: Record<string, unknown> = {}) => ({
  name: 'confirmed-compromise',
  match: { search_name: 'Confirmed compromise' },
  action: 'runbook.run',
  runbook: 'compromised-user',
  inputs: { user: 'result.user' },
  reason: 'Splunk {{search_name}} ({{sid}})',
  ...overrides,
});
const rules = (splunk: unknown[]) => parseRoutingRules({ version: 1, routes: { splunk } });
const problem = (splunk: unknown[]): string => {
  try {
    rules(splunk);
  } catch (error) {
    expect(error).toBeInstanceOf(RoutingRulesError);
    return (error as Error).message;
  }
  throw new Error('parsed');
};
const alert = (fields: Record<string, unknown>): SourceEvent => ({
  source: 'splunk',
  deliveryKey: 'sid-1',
  title: 'Confirmed compromise',
  fields: { search_name: 'Confirmed compromise', sid: 'sid-1', ...fields },
});

describe('a runbook route', () => {
  it('runs the runbook once for a matching alert, its inputs read from the alert', () => {
    const decision = routeSiemEvent(
      rules([route()]),
      'splunk',
      alert({ result: { user: ['alice@example.com', 'bob@example.com'] } }),
    );

    expect(decision).toEqual({
      route: 'confirmed-compromise',
      rejected: [],
      requests: [
        {
          action: 'runbook.run',
          target: { runbook: 'compromised-user' },
          inputs: { user: 'alice@example.com' },
          reason: 'Splunk Confirmed compromise (sid-1)',
          requestedBy: 'splunk: Confirmed compromise',
          dryRun: false,
        },
      ],
    });
  });

  it('ignores an alert without a required input, and rejects one the runbook cannot take', () => {
    expect(routeSiemEvent(rules([route()]), 'splunk', alert({}))).toEqual({
      ignored:
        'Route "confirmed-compromise" matched but the alert holds no user for runbook compromised-user',
    });
    expect(
      routeSiemEvent(rules([route()]), 'splunk', alert({ result: { user: 'not a user' } })),
    ).toMatchObject({
      requests: [],
      rejected: [
        {
          target: 'runbook compromised-user ({"user":"not a user"})',
          reason: expect.stringContaining(
            'inputs.user: step "logoff-sessions" target.user: must be a UPN',
          ),
        },
      ],
    });
  });

  it.each([
    [
      { runbook: 'no-such' },
      'routes.splunk[0] (route "confirmed-compromise").runbook: no runbook named "no-such"',
    ],
    [{ runbook: undefined }, '.runbook: runbook.run routes must name the runbook to run'],
    [{ inputs: {} }, '.inputs.user: is required by runbook compromised-user'],
    [
      { inputs: { user: 'result.user', device: 'result.device' } },
      '.inputs.device: is not an input of runbook compromised-user',
    ],
    [
      { target: { user: 'result.user' } },
      '.target: runbook.run routes name a runbook and inputs, not a target',
    ],
    [
      { action: 'session.logoff', target: { user: 'result.user' } },
      '.runbook: only runbook.run routes name a runbook',
    ],
  ])('is refused at load, naming the field: %j', (overrides, message) => {
    expect(problem([route(overrides)])).toContain(message);
  });

  it('never matches while disabled, as the example the shipped rules carry', () => {
    expect(
      routeSiemEvent(
        rules([route({ enabled: false })]),
        'splunk',
        alert({ result: { user: 'alice@example.com' } }),
      ),
    ).toEqual({
      ignored: 'No splunk route matches "Confirmed compromise"',
    });
    const shipped = loadRoutingRules('config/routes.json').routes.splunk.filter(
      (candidate) => candidate.action === 'runbook.run',
    );
    expect(
      shipped.map((candidate) => [candidate.name, candidate.enabled, candidate.runbook]),
    ).toEqual([['confirmed-compromise', false, 'compromised-user']]);
  });
});
