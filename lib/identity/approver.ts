import { looksLike, nameSkeleton } from './lookalikes.ts';
import { InvalidPersonNameError, normalizeName } from './names.ts';
import type { Person } from './principal.ts';
import type { Requester } from './requester.ts';

/** Why a person may not approve an action. */
export const APPROVAL_REFUSALS = {
  self_approval: 'The requester cannot approve their own action',
  lookalike_approver:
    "The approver's name looks like the requester's: a second person with a distinguishable name must approve",
  requester_unknown:
    'The action names no requester, so self-approval cannot be ruled out; it can only be rejected',
} as const;
export type ApprovalRefusal = keyof typeof APPROVAL_REFUSALS;

export class ApprovalRefusedError extends Error {
  override name = 'ApprovalRefusedError';
  readonly code: ApprovalRefusal;

  constructor(code: ApprovalRefusal) {
    super(APPROVAL_REFUSALS[code]);
    this.code = code;
  }
}

/** A recorded name as compared; one that cannot be normalized is compared by what it looks like. */
function comparable(name: string): string {
  try {
    return normalizeName(name);
  } catch (error) {
    if (!(error instanceof InvalidPersonNameError)) throw error;
    return nameSkeleton(name);
  }
}

/**
 * Refuses an approver who is the requester: the same authenticated principal, or one shown under
 * the same name (one person under two permission sets, or in two accounts), or one whose name
 * would be taken for the requester's (`soc.lеad` with a Cyrillic `е`). An action recorded before
 * requesters were authenticated has only its typed `requestedBy` to compare, and one without even
 * that cannot be approved. Rejecting is never refused: anyone may stop an action.
 */
export function checkApprover(
  record: { readonly requester?: Requester | undefined; readonly requestedBy?: string | undefined },
  approver: Person,
): void {
  const requesterName = record.requester?.name ?? record.requestedBy;
  if (requesterName === undefined) throw new ApprovalRefusedError('requester_unknown');
  if (record.requester?.key === approver.key) throw new ApprovalRefusedError('self_approval');
  if (comparable(requesterName) === comparable(approver.name)) {
    throw new ApprovalRefusedError('self_approval');
  }
  if (looksLike(requesterName, approver.name)) {
    throw new ApprovalRefusedError('lookalike_approver');
  }
}
