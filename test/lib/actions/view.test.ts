import { describe, expect, it } from 'vitest';
import { type ActionRecord, ActionRecordSchema } from '../../../lib/actions/schema.ts';
import { ActionViewSchema, toActionView } from '../../../lib/actions/view.ts';

const AT = '2025-06-01T10:00:00.000Z';
const SYS_ID = '9d385017c611228701d22104cc95c371';

function record(overrides: Partial<ActionRecord> = {}): ActionRecord {
  return ActionRecordSchema.parse({
    actionId: 'act_0123456789abcdef0123456789abcdef',
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: 'Compromised account',
    dryRun: false,
    status: 'succeeded',
    createdAt: AT,
    updatedAt: AT,
    results: {},
    expiresAt: 1_800_000_000,
    approvalTaskToken: 'task-token-must-stay-private',
    ...overrides,
  });
}

describe('toActionView: who asked', () => {
  it('shows a ServiceNow source with its delivery, title and incident, and the callback by name', () => {
    const view = toActionView(
      record({
        source: {
          name: 'servicenow',
          deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
          title: 'ServiceNow INC0010042',
          serviceNowIncident: { sysId: SYS_ID, number: 'INC0010042' },
        },
        callback: 'soar',
      }),
    );

    expect(view.source).toEqual({
      name: 'servicenow',
      deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
      title: 'ServiceNow INC0010042',
      serviceNowIncident: { sysId: SYS_ID, number: 'INC0010042' },
    });
    expect(view.callback).toBe('soar');
    expect(ActionViewSchema.safeParse(view).success).toBe(true);
  });

  it('shows an alert source by its title, and an API request by name alone', () => {
    const splunk = toActionView(
      record({
        source: { name: 'splunk', deliveryId: 'dlv_1', title: 'Impossible travel' },
      }),
    );
    const api = toActionView(record({ source: { name: 'api' } }));

    expect(splunk.source).toEqual({
      name: 'splunk',
      deliveryId: 'dlv_1',
      title: 'Impossible travel',
    });
    expect(api.source).toEqual({ name: 'api' });
    expect(api).not.toHaveProperty('callback');
  });

  it('copies only the fields the view names, whatever else a record holds', () => {
    // A record read back from DynamoDB is not re-parsed: it may carry fields the schema strips.
    const stored = {
      ...record({ callback: 'soar' }),
      source: {
        name: 'pagerduty',
        title: 'PagerDuty incident.triggered: Suspicious login',
        signingSecret: 'whsec-leak-check',
        payload: { raw: 'delivery-body-leak-check' },
        serviceNowIncident: { sysId: SYS_ID, internal: 'incident-leak-check' },
      },
    } as unknown as ActionRecord;

    const view = toActionView(stored);
    const text = JSON.stringify(view);

    expect(view.source).toEqual({
      name: 'pagerduty',
      title: 'PagerDuty incident.triggered: Suspicious login',
      serviceNowIncident: { sysId: SYS_ID },
    });
    for (const secret of [
      'whsec-leak-check',
      'delivery-body-leak-check',
      'incident-leak-check',
      'task-token-must-stay-private',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(view).not.toHaveProperty('approvalTaskToken');
    expect(view).not.toHaveProperty('expiresAt');
  });

  it('omits the source and the callback of an action recorded without them', () => {
    const view = toActionView(record());

    expect(Object.keys(view)).not.toContain('source');
    expect(Object.keys(view)).not.toContain('callback');
    expect(ActionViewSchema.safeParse(view).success).toBe(true);
  });

  it('refuses a view whose callback is not a destination name (a URL never belongs there)', () => {
    const view = toActionView(record({ callback: 'soar' }));

    expect(
      ActionViewSchema.safeParse({ ...view, callback: 'https://soar.example.com/hook?token=x' })
        .success,
    ).toBe(false);
  });
});

describe('toActionView: audit entries that could not be written', () => {
  const failure = {
    at: AT,
    entries: 3,
    types: ['citrix_call' as const, 'target_outcome' as const],
    error: { name: 'AuditLogUnavailableError', message: 'Audit append: audit log unavailable' },
  };

  it('shows them, so that nobody reads a timeline with a gap as whole', () => {
    const view = toActionView({ ...record(), auditFailures: [failure] });
    expect(view.auditFailures).toEqual([failure]);
    expect(ActionViewSchema.parse(view).auditFailures).toEqual([failure]);
  });

  it('has no such field when every entry was written', () => {
    expect(toActionView(record())).not.toHaveProperty('auditFailures');
  });
});
