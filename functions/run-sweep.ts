import type { Context } from 'aws-lambda';
import { audited } from '../lib/audit/audited.ts';
import { awsIdempotentAcceptor } from '../lib/runtime/clients/acceptor.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { logger } from '../lib/runtime/logger.ts';
import { once } from '../lib/runtime/once.ts';
import type { Acceptance, IdempotentAcceptor } from '../lib/sources/intake.ts';
import { loadSweeps, type SweepsFile } from '../lib/sweeps/config.ts';
import {
  RunSweepEventSchema,
  SweepDisabledError,
  sweepAcceptance,
  sweepNamed,
} from '../lib/sweeps/run.ts';

export interface RunSweepDependencies {
  readonly sweeps: SweepsFile;
  readonly acceptor: IdempotentAcceptor;
}

/**
 * Starts one run of a sweep: EventBridge Scheduler invokes it with `{ sweep, scheduledAt }`.
 * The run is accepted once per scheduled time (a retried delivery starts nothing new); what it
 * finds, and whether it acts, is the workflow's to decide like any action's.
 */
export const createRunSweepHandler =
  (getDependencies: () => RunSweepDependencies) =>
  async (event: unknown, context: Context): Promise<Acceptance & { sweep: string }> => {
    const parsed = RunSweepEventSchema.parse(event);
    const { sweeps, acceptor } = getDependencies();
    const sweep = sweepNamed(sweeps, parsed.sweep);
    if (!sweep.enabled) {
      throw new SweepDisabledError(`Sweep "${sweep.name}" is disabled; it does not run`);
    }
    const acceptance = await acceptor(sweepAcceptance(sweep, parsed), context);
    logger.info('sweep run accepted', { sweep: sweep.name, ...acceptance });
    return { sweep: sweep.name, ...acceptance };
  };

// The sweeps file is copied beside the bundle at synth, where it was validated.
const bundledSweeps = once(() =>
  loadSweeps(process.env.SWEEPS_FILE ?? new URL('./sweeps.json', import.meta.url)),
);

export const handler = audited(
  createRunSweepHandler(() => ({ sweeps: bundledSweeps(), acceptor: awsIdempotentAcceptor() })),
  awsAuditLog,
);
