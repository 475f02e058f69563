import { describe, expect, it } from 'vitest';
import { CitrixHttpClient } from '../../../lib/citrix/http.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { IN_LAMBDA, useEmfCapture } from '../../support/emf.ts';
import { useLoopbackServers } from '../../support/loopback-server.ts';

const startLoopback = useLoopbackServers();
const emf = useEmfCapture();

describe('metrics in a Lambda', () => {
  it('writes the alarmed counts at once, with the service dimension only', async () => {
    const metrics = await emf.load(IN_LAMBDA);

    metrics.recordActionFinished('session.logoff', 'succeeded');
    metrics.recordAuditAppendFailure();
    metrics.recordReportFailure();

    expect(emf.emitted()).toEqual([
      {
        namespace: 'CitrixResponse',
        name: 'AuditAppendFailures',
        unit: 'Count',
        dimensions: { service: 'citrix-response' },
        value: 1,
      },
      {
        namespace: 'CitrixResponse',
        name: 'ReportFailures',
        unit: 'Count',
        dimensions: { service: 'citrix-response' },
        value: 1,
      },
    ]);
  });

  it('counts a 429 as a call by product and status, and as a throttle with the service only', async () => {
    const metrics = await emf.load(IN_LAMBDA);

    metrics.recordCitrixCall('daas', 429);
    // The throttle is out before the invocation ends (it may time out).
    expect(emf.emitted()).toEqual([
      expect.objectContaining({
        name: 'CitrixThrottles',
        dimensions: { service: 'citrix-response' },
      }),
    ]);
    metrics.recordCitrixCall('daas', 429);
    metrics.recordCitrixCall('daas', 200);
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([
      expect.objectContaining({ name: 'CitrixThrottles', value: 1 }),
      expect.objectContaining({ name: 'CitrixThrottles', value: 1 }),
      {
        namespace: 'CitrixResponse',
        name: 'CitrixCalls',
        unit: 'Count',
        dimensions: { service: 'citrix-response', product: 'daas', status: '429' },
        value: 2,
      },
      {
        namespace: 'CitrixResponse',
        name: 'CitrixCalls',
        unit: 'Count',
        dimensions: { service: 'citrix-response', product: 'daas', status: '200' },
        value: 1,
      },
    ]);
  });

  it('publishes one line per metric and dimension values, then nothing until more is recorded', async () => {
    const metrics = await emf.load(IN_LAMBDA);

    metrics.recordActionFinished('device.wipe', 'succeeded');
    metrics.recordActionFinished('device.wipe', 'succeeded');
    metrics.recordActionFinished('session.logoff', 'partial');
    metrics.recordTargetsFinished('device.wipe', 'succeeded', 3);
    metrics.recordTargetsFinished('device.wipe', 'failed', 0);
    metrics.recordSweepTargets('idle-sessions', 'skipped', 4);
    metrics.recordApprovalWait('admin.strip', 90);
    metrics.recordApprovalWait('admin.strip', 30.5);
    metrics.recordCitrixRetry('endpoint-management');
    metrics.publishMetrics();
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([
      expect.objectContaining({
        name: 'ActionsFinished',
        dimensions: { service: 'citrix-response', action: 'device.wipe', outcome: 'succeeded' },
        value: 2,
      }),
      expect.objectContaining({
        name: 'ActionsFinished',
        dimensions: { service: 'citrix-response', action: 'session.logoff', outcome: 'partial' },
        value: 1,
      }),
      expect.objectContaining({
        name: 'TargetsFinished',
        dimensions: { service: 'citrix-response', action: 'device.wipe', outcome: 'succeeded' },
        value: 3,
      }),
      expect.objectContaining({
        name: 'SweepTargets',
        dimensions: { service: 'citrix-response', sweep: 'idle-sessions', outcome: 'skipped' },
        value: 4,
      }),
      // A duration is a distribution: every value is kept.
      expect.objectContaining({
        name: 'ApprovalWaitSeconds',
        unit: 'Seconds',
        dimensions: { service: 'citrix-response', action: 'admin.strip' },
        value: [90, 30.5],
      }),
      expect.objectContaining({
        name: 'CitrixRetries',
        dimensions: { service: 'citrix-response', product: 'endpoint-management' },
        value: 1,
      }),
    ]);
  });

  it('publishes after an invocation that throws, with no dimension left over for the next line', async () => {
    const metrics = await emf.load(IN_LAMBDA);

    await expect(
      metrics.withMetrics(async () => {
        metrics.recordCitrixCall('cloud-administrators', 'timeout');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    metrics.recordCitrixRetry('cloud-auth');
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([
      expect.objectContaining({
        name: 'CitrixCalls',
        dimensions: {
          service: 'citrix-response',
          product: 'cloud-administrators',
          status: 'timeout',
        },
      }),
      expect.objectContaining({
        name: 'CitrixRetries',
        dimensions: { service: 'citrix-response', product: 'cloud-auth' },
      }),
    ]);
  });

  it('records a 429 from the Citrix HTTP layer as a call, a throttle (service only) and a retry', async () => {
    const metrics = await emf.load(IN_LAMBDA);
    let received = 0;
    const citrix = await startLoopback((_request, response) => {
      received += 1;
      if (received === 1) response.writeHead(429, { 'retry-after': '0' }).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const client = new CitrixHttpClient({
      baseUrl: citrix.baseUrl,
      tokens: { getToken: async () => 'token', invalidate: () => {} },
      headers: async () => ({}),
      timeoutMs: 2000,
      retry: DEFAULT_RETRY_POLICY,
      onCall: metrics.citrixCallMetrics('daas'),
    });

    await metrics.withMetrics(() => client.request({ method: 'GET', path: '/cvad/manage/me' }));

    expect(emf.emitted()).toEqual([
      {
        namespace: 'CitrixResponse',
        name: 'CitrixThrottles',
        unit: 'Count',
        dimensions: { service: 'citrix-response' },
        value: 1,
      },
      expect.objectContaining({
        name: 'CitrixCalls',
        dimensions: { service: 'citrix-response', product: 'daas', status: '429' },
        value: 1,
      }),
      expect.objectContaining({
        name: 'CitrixRetries',
        dimensions: { service: 'citrix-response', product: 'daas' },
        value: 1,
      }),
      expect.objectContaining({
        name: 'CitrixCalls',
        dimensions: { service: 'citrix-response', product: 'daas', status: '200' },
        value: 1,
      }),
    ]);
  });

  it("turns the clients' call records into calls and retries of one product", async () => {
    const metrics = await emf.load(IN_LAMBDA);
    const onCall = metrics.citrixCallMetrics('endpoint-management');

    onCall({ method: 'POST', path: '/x', status: 503, attempt: 1, durationMs: 5, retried: true });
    onCall({
      method: 'POST',
      path: '/x',
      error: 'network error: ECONNRESET',
      attempt: 2,
      durationMs: 5,
      retried: true,
    });
    onCall({
      method: 'POST',
      path: '/x',
      error: 'timeout',
      attempt: 3,
      durationMs: 5,
      retried: false,
    });
    metrics.publishMetrics();

    expect(
      emf.emitted().map(({ name, dimensions, value }) => [name, dimensions.status, value]),
    ).toEqual([
      ['CitrixCalls', '503', 1],
      ['CitrixRetries', undefined, 2],
      ['CitrixCalls', 'network-error', 1],
      ['CitrixCalls', 'timeout', 1],
    ]);
  });
});

describe('metrics outside a Lambda', () => {
  it('stay off by default (npm start and the tests run every handler in one process)', async () => {
    const metrics = await emf.load({
      AWS_LAMBDA_FUNCTION_NAME: undefined,
      POWERTOOLS_METRICS_DISABLED: undefined,
    });

    metrics.recordAuditAppendFailure();
    metrics.recordCitrixCall('daas', 429);
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([]);
  });

  it('follow POWERTOOLS_METRICS_DISABLED when it is set', async () => {
    const on = await emf.load({
      AWS_LAMBDA_FUNCTION_NAME: undefined,
      POWERTOOLS_METRICS_DISABLED: 'false',
    });
    on.recordReportFailure();
    expect(emf.emitted().map(({ name }) => name)).toEqual(['ReportFailures']);

    emf.clear();
    const off = await emf.load({
      AWS_LAMBDA_FUNCTION_NAME: 'f',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    off.recordReportFailure();
    expect(emf.emitted()).toEqual([]);
  });
});
