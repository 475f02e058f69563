import * as z from 'zod';
import { SweepNameSchema } from '../actions/declaration.ts';
import { type ActionRequest, ActionRequestSchema } from '../actions/schema.ts';
import type { AcceptanceRequest } from '../sources/intake.ts';
import { runbookRequestOf, type Sweep, type SweepsFile, sweepReason } from './config.ts';

/**
 * One run of a sweep is one action: its request is built here from the sweep's declaration, and
 * goes through the same acceptance, guardrails and workflow as any request. The run's target is
 * the sweep (what it looks for); the workflow finds the targets when it resolves them.
 */

/** What EventBridge Scheduler sends (the input each schedule is given), and `npm run sweep`. */
export const RunSweepEventSchema = z.strictObject({
  sweep: SweepNameSchema,
  /** `<aws.scheduler.scheduled-time>`: with the name, the run's idempotency key. */
  scheduledAt: z.iso.datetime({ offset: true }),
  /** `npm run sweep -- <name> --dry-run`: plan only, and leave the grace-period findings alone. */
  dryRun: z.boolean().optional(),
});
export type RunSweepEvent = z.infer<typeof RunSweepEventSchema>;

export class SweepNotFoundError extends Error {
  override name = 'SweepNotFoundError';
}

/** A disabled sweep has no schedule; a run asked for anyway (an old schedule) does nothing. */
export class SweepDisabledError extends Error {
  override name = 'SweepDisabledError';
}

export function sweepNamed(sweeps: SweepsFile, name: string): Sweep {
  const sweep = sweeps.sweeps.find((candidate) => candidate.name === name);
  if (sweep === undefined) {
    const known = sweeps.sweeps.map((candidate) => candidate.name).join(', ') || 'none';
    throw new SweepNotFoundError(`No sweep is named "${name}" (declared: ${known})`);
  }
  return sweep;
}

/** The action request of one run: report mode (or `--dry-run`) plans; enforce mode acts. */
export function sweepAcceptance(sweep: Sweep, event: RunSweepEvent): AcceptanceRequest {
  const forcedDryRun = event.dryRun === true;
  const dryRun = sweep.mode === 'report' || forcedDryRun;
  // A runbook sweep's run is a runbook run: checked again here, against the runbooks deployed now.
  const request =
    'runbook' in sweep
      ? ActionRequestSchema.parse(runbookRequestOf(sweep, dryRun))
      : ({
          action: sweep.action,
          target: {
            sweep: sweep.name,
            maxTargets: sweep.maxTargets,
            observe: !forcedDryRun,
            find: sweep.find,
          },
          reason: sweepReason(sweep),
          requestedBy: sweep.name,
          dryRun,
          urgency: 'normal',
          ...(sweep.ticket === undefined ? {} : { ticket: sweep.ticket }),
          ...(sweep.callback === undefined ? {} : { callback: sweep.callback }),
        } as unknown as ActionRequest);
  return {
    // A retried schedule delivery starts nothing new; each dry run of the same time is its own.
    idempotencyKey: `sweep:${sweep.name}:${event.scheduledAt}${forcedDryRun ? ':dry-run' : ''}`,
    request,
    source: { name: 'sweep', title: sweep.name },
    // The sweep asks, as itself: a person can approve what it holds, but never as the sweep.
    requester: { kind: 'sweep', key: `sweep:${sweep.name}`, name: sweep.name },
  };
}
