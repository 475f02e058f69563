import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AdministratorReportDependencies } from '../../lib/administrators/report.ts';
import { IN_LAMBDA, useEmfCapture } from '../support/emf.ts';

/** The report's failures are alarmed (ReportFailures, service only): every one, whatever its cause. */
const emf = useEmfCapture();
const context = { awsRequestId: 'r', functionName: 'report-administrators' } as Context;

const dependencies = (
  listAdministrators: AdministratorReportDependencies['directory']['listAdministrators'],
): AdministratorReportDependencies => ({
  directory: {
    listAdministrators,
    getAccess: async () => {
      throw new Error('no administrator to read');
    },
  },
  snapshots: { latest: async () => undefined, save: async () => {}, markPublished: async () => {} },
  publisher: { publish: async () => {} },
  pendingInvitationMaxDays: 30,
});

/** The handler as a Lambda loads it, after the metrics module (so they share its instance). */
async function reportHandler(deps: AdministratorReportDependencies) {
  await emf.load({ ...IN_LAMBDA, ADMIN_REPORT_PENDING_DAYS: undefined });
  const { createReportAdministratorsHandler } = await import(
    '../../functions/report-administrators.ts'
  );
  return createReportAdministratorsHandler(() => deps);
}

const reportFailures = () => emf.emitted().filter(({ name }) => name === 'ReportFailures');

describe('report-administrators', () => {
  it('records a failed run as a report failure with the service dimension only, and still fails', async () => {
    const handler = await reportHandler(
      dependencies(async () => {
        throw new Error('Citrix Cloud is unavailable');
      }),
    );

    await expect(handler({ source: 'schedule' }, context)).rejects.toThrow(
      'Citrix Cloud is unavailable',
    );

    expect(reportFailures()).toEqual([
      {
        namespace: 'CitrixResponse',
        name: 'ReportFailures',
        unit: 'Count',
        dimensions: { service: 'citrix-response' },
        value: 1,
      },
    ]);
  });

  it('records a run refused for its input as a report failure too (no report was made)', async () => {
    const handler = await reportHandler(dependencies(async () => []));

    await expect(handler({ source: 'cron' }, context)).rejects.toMatchObject({
      name: 'InvalidTaskInputError',
    });

    expect(reportFailures()).toHaveLength(1);
  });

  it('records nothing as failed when the report runs', async () => {
    const handler = await reportHandler(dependencies(async () => []));

    const report = await handler({ source: 'schedule' }, context);

    expect(report.administratorCount).toBe(0);
    expect(reportFailures()).toEqual([]);
  });
});
