import { auditSummary, type RequestAuditDetails } from './audit-log.ts';

/**
 * The audit entries of an accepted request, from the API or a source: who asked, with what, and
 * that it was accepted. They are written before the workflow starts and carry the time the
 * request arrived, so the timeline (sorted by time) opens with them. Valid whatever the request
 * said: a summary too long for the audit log would fail the request after it was accepted.
 */
export function acceptedEntries(actionId: string, request: RequestAuditDetails, receivedAt: Date) {
  const at = receivedAt.toISOString();
  return [
    {
      actionId,
      at,
      type: 'request' as const,
      summary: auditSummary(`Request from ${request.source}: ${request.identity}`),
      details: request,
    },
    {
      actionId,
      at,
      type: 'decision' as const,
      summary: 'Accepted',
      details: { decision: 'accepted' },
    },
  ];
}
