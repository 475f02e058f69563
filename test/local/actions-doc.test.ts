import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTION_TYPES } from '../../lib/actions/schema.ts';
import { guardrailsFromEnv } from '../../lib/guardrails/config.ts';
import { describeActionsInForce, renderActionsDoc } from '../../local/actions-doc.ts';

const committed = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

describe('docs/actions.md', () => {
  it('is up to date with the action catalog (regenerate with npm run docs)', () => {
    expect(committed).toBe(renderActionsDoc());
  });

  it('has one row and one section per declared action', () => {
    for (const action of ACTION_TYPES) {
      expect(committed).toContain(`| \`${action}\` |`);
      expect(committed).toContain(`### \`${action}\``);
    }
  });
});

describe('the actions npm start prints', () => {
  it('lists every action with the limits and approvals in force, not only the defaults', () => {
    const lines = describeActionsInForce(
      guardrailsFromEnv({
        GUARDRAIL_LIMITS: '{"session.logoff":{"perRequest":7}}',
        APPROVAL_REQUIRED: 'session.disconnect',
      }),
    );

    expect(lines).toHaveLength(ACTION_TYPES.length);
    expect(lines.find((line) => line.includes('session.logoff '))).toContain('7/request');
    expect(lines.find((line) => line.includes('session.disconnect'))).toContain('needs approval');
    expect(lines.find((line) => line.includes('device.wipe'))).not.toContain('needs approval');
  });

  it('shows an approval that only one mode needs', () => {
    const lines = describeActionsInForce(guardrailsFromEnv({}));

    expect(lines.find((line) => line.includes('admin.revoke'))).toContain(
      'needs approval with mode delete',
    );
  });
});
