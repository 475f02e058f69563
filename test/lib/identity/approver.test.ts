import { describe, expect, it } from 'vitest';
import { ApprovalRefusedError, checkApprover } from '../../../lib/identity/approver.ts';
import { type Person, personFromIdentity } from '../../../lib/identity/principal.ts';
import type { Requester } from '../../../lib/identity/requester.ts';
import { iamUser } from '../../support/signed-request.ts';

const person = (name: string): Person => personFromIdentity(iamUser(name));

/** The refusal `checkApprover` answers with, or `allowed`. */
function verdict(
  record: { requester?: Requester; requestedBy?: string },
  approver: Person,
): string {
  try {
    checkApprover(record, approver);
    return 'allowed';
  } catch (error) {
    if (!(error instanceof ApprovalRefusedError)) throw error;
    return error.code;
  }
}

describe('checkApprover', () => {
  const requester = person('Soc.Lead@Example.com');

  it('lets a second, distinguishable person approve', () => {
    expect(verdict({ requester }, person('it.oncall@example.com'))).toBe('allowed');
  });

  it('refuses the requester, however the name is spelled', () => {
    expect(verdict({ requester }, requester)).toBe('self_approval');
    expect(verdict({ requester }, person('SOC.LEAD@example.com'))).toBe('self_approval');
  });

  it.each([
    ['a Cyrillic е', 'soc.l\u0435ad@example.com'],
    ['an accent', 'soc.léad@example.com'],
    ['fullwidth letters', 'ｓｏｃ.lead@example.com'.replace('ｓｏｃ', 'ѕос')],
  ])("refuses another principal whose name has %s in place of the requester's", (_, name) => {
    expect(verdict({ requester }, person(name))).toBe('lookalike_approver');
  });

  it('compares an older record by the name it typed, and refuses one without any', () => {
    expect(verdict({ requestedBy: 'soc.lead@example.com ' }, requester)).toBe('self_approval');
    expect(verdict({ requestedBy: 'soc.lead@exam\u200bple.com' }, requester)).toBe('self_approval');
    expect(verdict({}, requester)).toBe('requester_unknown');
  });

  it('never takes a source or a sweep for a person of another name', () => {
    const source: Requester = {
      kind: 'source',
      key: 'source:standard',
      name: 'standard: soc.lead@example.com',
    };
    expect(verdict({ requester: source }, requester)).toBe('allowed');
    const sweep: Requester = { kind: 'sweep', key: 'sweep:stale-sessions', name: 'stale-sessions' };
    expect(verdict({ requester: sweep }, requester)).toBe('allowed');
  });
});
