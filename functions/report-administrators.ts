import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import {
  type AdministratorReport,
  type AdministratorReportDependencies,
  runAdministratorReport,
} from '../lib/administrators/report.ts';
import { awsAdministratorReportDependencies } from '../lib/runtime/clients/report.ts';
import { logger } from '../lib/runtime/logger.ts';
import { recordReportFailure, withMetrics } from '../lib/runtime/metrics.ts';
import { InvalidTaskInputError } from '../lib/runtime/task-handler.ts';
import { traceInvocation } from '../lib/runtime/tracer.ts';

/** The payload the EventBridge schedule sends (and `npm run report` locally). */
export const ReportRequestSchema = z.strictObject({
  source: z.enum(['schedule', 'on-demand']),
  /** Overrides ADMIN_REPORT_PENDING_DAYS for this run. */
  pendingInvitationMaxDays: z.number().int().min(1).max(365).optional(),
});

export type ReportHandler = (event: unknown, context: Context) => Promise<AdministratorReport>;

/**
 * Scheduled job: snapshot the Citrix Cloud administrators and their access, compare, store,
 * publish findings (and first any the previous run saved but could not publish).
 */
export function createReportAdministratorsHandler(
  getDependencies: () => AdministratorReportDependencies,
): ReportHandler {
  const handler = middy<unknown, AdministratorReport>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceInvocation())
    .handler(async (event) => {
      const request = ReportRequestSchema.safeParse(event);
      if (!request.success) {
        const fields = request.error.issues.map(
          (i) => `${i.path.join('.') || '(input)'}: ${i.message}`,
        );
        throw new InvalidTaskInputError(
          `ReportAdministrators: invalid input (${fields.join('; ')})`,
        );
      }
      const dependencies = getDependencies();
      const report = await runAdministratorReport(
        {
          ...dependencies,
          pendingInvitationMaxDays:
            request.data.pendingInvitationMaxDays ?? dependencies.pendingInvitationMaxDays,
        },
        new Date(),
      );
      logger.info('administrator report', {
        source: request.data.source,
        administrators: report.administratorCount,
        added: report.added.length,
        becameFull: report.becameFull.length,
        accessChanged: report.accessChanged.length,
        removed: report.removed.length,
        stalePendingInvitations: report.stalePendingInvitations.length,
      });
      return report;
    });
  // A run that fails, whatever the reason, leaves administrator changes unreported: alarmed.
  // The Citrix calls it made (CitrixCalls, CitrixRetries) are published once per run.
  return (event, context) =>
    withMetrics(() =>
      handler(event, context).catch((error: unknown) => {
        recordReportFailure();
        throw error;
      }),
    );
}

export const handler = createReportAdministratorsHandler(awsAdministratorReportDependencies);
