import { describe, expect, it } from 'vitest';
import { ActionRequestSchema, declarationOf, workflowFor } from '../../../lib/actions/schema.ts';
import { ADMINISTRATOR_CATALOG } from '../../../lib/administrators/catalog.ts';
import { DEFAULT_APPROVAL_REQUIRED } from '../../../lib/guardrails/config.ts';

describe('admin.restore', () => {
  it('needs a second person by default: giving administrator rights back escalates privilege', () => {
    expect(DEFAULT_APPROVAL_REQUIRED).toContain('admin.restore');
    expect(declarationOf('admin.restore')).toMatchObject({
      product: 'administrators',
      approval: 'always',
      destructive: false,
      limits: { perRequest: 1 },
      targetFields: ['admin'],
      citrix: { operation: 'restore' },
    });
    expect(workflowFor('admin.restore')).toBe('admin-action');
  });

  it('takes the same target as admin.revoke, and no mode', () => {
    expect(ADMINISTRATOR_CATALOG['admin.restore'].target).toBe(
      ADMINISTRATOR_CATALOG['admin.revoke'].target,
    );
    const request = ActionRequestSchema.safeParse({
      action: 'admin.restore',
      target: { admin: 'mallory@example.com' },
      reason: 'Account recovered',
    });
    expect(request.success).toBe(true);
    const withMode = ActionRequestSchema.safeParse({
      action: 'admin.restore',
      target: { admin: 'mallory@example.com' },
      options: { mode: 'strip' },
      reason: 'Account recovered',
    });
    expect(withMode.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['options']);
  });

  it('undoes only a strip: a deleted administrator must be invited again', () => {
    expect(ADMINISTRATOR_CATALOG['admin.revoke'].undoneBy).toEqual({
      action: 'admin.restore',
      modes: ['strip'],
    });
    expect(ADMINISTRATOR_CATALOG['admin.revoke'].reversal).toMatch(
      /Mode `delete`: cannot be undone; invite the administrator again/,
    );
  });
});
