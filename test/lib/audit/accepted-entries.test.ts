import { describe, expect, it } from 'vitest';
import { acceptedEntries } from '../../../lib/audit/accepted-entries.ts';
import { AUDIT_SUMMARY_MAX, AuditEntrySchema, auditSummary } from '../../../lib/audit/audit-log.ts';

describe('auditSummary', () => {
  it('keeps a summary that fits, each run of control characters a space', () => {
    expect(auditSummary('Request from splunk:\n\tImpossible travel')).toBe(
      'Request from splunk: Impossible travel',
    );
  });

  it('cuts a longer one at the audit limit, marked, never inside a surrogate pair', () => {
    const cut = auditSummary(`${'a'.repeat(AUDIT_SUMMARY_MAX - 2)}😀${'b'.repeat(100)}`);
    expect(cut).toBe(`${'a'.repeat(AUDIT_SUMMARY_MAX - 2)}…`);
    expect(cut.length).toBeLessThanOrEqual(AUDIT_SUMMARY_MAX);
    expect(auditSummary('x'.repeat(5000))).toBe(`${'x'.repeat(AUDIT_SUMMARY_MAX - 1)}…`);
  });
});

describe('acceptedEntries', () => {
  it('are valid audit entries however long the identity, which the details keep whole', () => {
    const identity = `splunk delivery dlv_1 (${'Impossible travel '.repeat(60)})`;
    const entries = acceptedEntries(
      'act_00000000000000000000000000000000',
      { source: 'splunk', identity, payloadDigest: 'sha256:00' },
      new Date('2026-01-01T00:00:00Z'),
    );
    for (const entry of entries) expect(AuditEntrySchema.safeParse(entry).success).toBe(true);
    expect(entries[0]?.summary).toMatch(/^Request from splunk: splunk delivery dlv_1 .*…$/);
    expect(entries[0]?.details).toMatchObject({ identity });
  });
});
