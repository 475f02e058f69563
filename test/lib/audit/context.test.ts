import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '../../../lib/audit/audit-log.ts';
import {
  auditCitrixCall,
  auditEvent,
  currentAuditActionId,
  MAX_ENTRIES_PER_RUN,
  runWithAudit,
  unwrapAuditRun,
} from '../../../lib/audit/context.ts';
import { createAuditTable } from '../../../lib/audit/local-table.ts';
import { CitrixUnavailableError } from '../../../lib/citrix/errors.ts';
import { CitrixHttpClient } from '../../../lib/citrix/http.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { useLoopbackServers } from '../../support/loopback-server.ts';

const NOW = new Date('2026-11-23T03:00:00.000Z');
const fixedNow = () => NOW;
const startLoopback = useLoopbackServers();

describe('runWithAudit', () => {
  it('returns the result with the entries collected for the action', async () => {
    const run = await runWithAudit(
      'act_1',
      async () => {
        expect(currentAuditActionId()).toBe('act_1');
        auditEvent('decision', 'Accepted', { decision: 'accepted', reasons: ['rule 1'] });
        await delay(1);
        auditEvent('target_outcome', 'Session s-1 logged off', {
          target: 's-1',
          outcome: 'succeeded',
        });
        return 42;
      },
      fixedNow,
    );
    expect(run).toEqual({
      ok: true,
      result: 42,
      dropped: 0,
      entries: [
        {
          actionId: 'act_1',
          at: NOW.toISOString(),
          type: 'decision',
          summary: 'Accepted',
          details: { decision: 'accepted', reasons: ['rule 1'] },
        },
        {
          actionId: 'act_1',
          at: NOW.toISOString(),
          type: 'target_outcome',
          summary: 'Session s-1 logged off',
          details: { target: 's-1', outcome: 'succeeded' },
        },
      ],
    });
    expect(unwrapAuditRun(run)).toBe(42);
  });

  it('keeps the entries of a task that threw, and rethrows the same error on unwrap', async () => {
    const failure = new CitrixUnavailableError({ status: 503, method: 'GET', path: '/x' });
    const run = await runWithAudit('act_2', async () => {
      auditEvent('citrix_call', 'GET /x → 503 (3 ms)');
      throw failure;
    });
    expect(run.ok).toBe(false);
    expect(run.entries.map((e) => e.summary)).toEqual(['GET /x → 503 (3 ms)']);
    expect(() => unwrapAuditRun(run)).toThrow(failure);
  });

  it('collects a synchronous throw too', async () => {
    const run = await runWithAudit('act_3', () => {
      auditEvent('decision', 'Refused', { decision: 'refused' });
      throw new TypeError('bug');
    });
    expect(run).toMatchObject({ ok: false, error: expect.any(TypeError) });
    expect(run.entries).toHaveLength(1);
  });

  it('does nothing outside a run, and ignores entries added after the run settled', async () => {
    auditEvent('decision', 'lost', { decision: 'accepted' });
    auditCitrixCall({ method: 'GET', path: '/lost', status: 200, attempt: 1, durationMs: 1 });
    expect(currentAuditActionId()).toBeUndefined();

    let late: Promise<void> | undefined;
    const run = await runWithAudit('act_4', async () => {
      auditEvent('decision', 'in time', { decision: 'accepted' });
      // Work the task did not await: it must not change what was already handed back.
      late = delay(5).then(() => auditEvent('decision', 'too late', { decision: 'expired' }));
    });
    await late;
    expect(run.entries.map((e) => e.summary)).toEqual(['in time']);
  });

  it('gives each concurrent task its own collector', async () => {
    const task = (actionId: string, steps: number[]) =>
      runWithAudit(actionId, async () => {
        for (const [index, wait] of steps.entries()) {
          await delay(wait);
          auditEvent('citrix_call', `${actionId} step ${index}`);
          // A sync hook from deep inside the task (as the Citrix clients call onCall).
          auditCitrixCall({
            method: 'GET',
            path: `/${actionId}/${index}`,
            status: 200,
            attempt: 1,
            durationMs: wait,
          });
        }
        return actionId;
      });
    const runs = await Promise.all([
      task('act_a', [5, 1, 7, 0]),
      task('act_b', [0, 6, 1, 3]),
      task('act_c', [2, 2, 2, 2]),
    ]);
    for (const run of runs) {
      const actionId = unwrapAuditRun(run);
      expect(run.entries).toHaveLength(8);
      expect(run.entries.every((e) => e.actionId === actionId)).toBe(true);
      expect(run.entries.filter((e) => e.details === undefined).map((e) => e.summary)).toEqual(
        [0, 1, 2, 3].map((i) => `${actionId} step ${i}`),
      );
      expect(run.entries.filter((e) => e.details).map((e) => e.details?.path)).toEqual(
        [0, 1, 2, 3].map((i) => `/${actionId}/${i}`),
      );
    }
  });

  it('keeps a nested run apart from the outer one', async () => {
    let inner: Awaited<ReturnType<typeof runWithAudit>> | undefined;
    const outer = await runWithAudit('act_outer', async () => {
      auditEvent('decision', 'outer before', { decision: 'accepted' });
      inner = await runWithAudit('act_inner', async () => {
        auditEvent('decision', 'inner', { decision: 'planned' });
      });
      auditEvent('decision', 'outer after', { decision: 'accepted' });
    });
    expect(outer.entries.map((e) => e.summary)).toEqual(['outer before', 'outer after']);
    expect(inner?.entries.map((e) => `${e.actionId}:${e.summary}`)).toEqual(['act_inner:inner']);
  });

  it('bounds the entries of one run and counts the ones dropped', async () => {
    const run = await runWithAudit('act_many', async () => {
      for (let i = 0; i < MAX_ENTRIES_PER_RUN + 5; i += 1) auditEvent('citrix_call', `call ${i}`);
    });
    expect(run.entries).toHaveLength(MAX_ENTRIES_PER_RUN);
    expect(run.dropped).toBe(5);
    expect(run.entries.at(-1)?.summary).toBe(`call ${MAX_ENTRIES_PER_RUN - 1}`);
  });
});

describe('auditEvent', () => {
  it('cleans summaries and sanitizes details as it collects them', async () => {
    const run = await runWithAudit('act_5', async () => {
      auditEvent('request', 'Received\nfrom splunk\twith Bearer 0123456789abcdefghijkl', {
        source: 'splunk',
        identity: 'key-1',
        payloadDigest: 'sha256:00',
        ...{ taskToken: 'AAAA' },
      });
      auditEvent('notification', 'x'.repeat(800), {
        channel: 'callback',
        destination: 'https://hooks.example.com/cb?token=abc',
        status: 'delivered',
      });
      auditEvent('decision', ' \n ', { decision: 'held', by: 'alice' });
    });
    const [request, notification, decision] = run.entries;
    expect(request?.summary).toBe('Received from splunk with Bearer [redacted]');
    expect(request?.details).toEqual({
      source: 'splunk',
      identity: 'key-1',
      payloadDigest: 'sha256:00',
      taskToken: '[redacted]',
    });
    expect(notification?.summary).toHaveLength(500);
    expect(notification?.details?.destination).toBe('https://hooks.example.com/cb');
    expect(decision?.summary).toBe('decision');
  });
});

describe('auditCitrixCall', () => {
  const collect = async (...calls: Parameters<typeof auditCitrixCall>[0][]) =>
    (
      await runWithAudit(
        'act_calls',
        async () => {
          for (const call of calls) auditCitrixCall(call);
        },
        fixedNow,
      )
    ).entries;

  it('turns a call record into a citrix_call entry', async () => {
    const [entry] = await collect({
      method: 'GET',
      path: '/cvad/manage/Sessions/abc',
      status: 200,
      attempt: 1,
      durationMs: 12.4,
      transactionId: 'tx-1',
    });
    expect(entry).toEqual({
      actionId: 'act_calls',
      at: NOW.toISOString(),
      type: 'citrix_call',
      summary: 'GET /cvad/manage/Sessions/abc → 200 (12 ms)',
      details: {
        method: 'GET',
        path: '/cvad/manage/Sessions/abc',
        status: 200,
        transactionId: 'tx-1',
        durationMs: 12,
        attempt: 1,
      },
    });
  });

  it('names retries and failures, and never keeps a query string', async () => {
    const entries = await collect(
      { method: 'POST', path: '/x/logoff', status: 503, attempt: 2, durationMs: 40 },
      { method: 'POST', path: '/x/logoff', error: 'timeout', attempt: 3, durationMs: 30_000 },
      { method: 'GET', path: '/y?$filter=secret', attempt: 1, durationMs: 1 },
    );
    expect(entries.map((e) => e.summary)).toEqual([
      'POST /x/logoff → 503 (40 ms, attempt 2)',
      'POST /x/logoff → timeout (30000 ms, attempt 3)',
      'GET /y → no response (1 ms)',
    ]);
    expect(entries[1]?.details).toEqual({
      method: 'POST',
      path: '/x/logoff',
      error: 'timeout',
      durationMs: 30_000,
      attempt: 3,
    });
    expect(JSON.stringify(entries)).not.toContain('secret');
  });

  it('records every attempt of a real Citrix client as the onCall hook', async () => {
    let received = 0;
    const server = await startLoopback((_request, response) => {
      received += 1;
      if (received === 1) {
        response.writeHead(503);
        response.end();
        return;
      }
      response.writeHead(200, {
        'content-type': 'application/json',
        'citrix-transactionid': 'tx-from-citrix',
      });
      response.end('{"Id":"abc"}');
    });
    const client = new CitrixHttpClient({
      baseUrl: server.baseUrl,
      tokens: { getToken: async () => 'secret-token', invalidate: () => {} },
      headers: async () => ({}),
      timeoutMs: 2000,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1000 },
      sleep: async () => {},
      // Built once, shared by every task: the collector comes from the async context.
      onCall: auditCitrixCall,
    });
    const run = await runWithAudit('act_http', () =>
      client.request({
        method: 'GET',
        path: '/cvad/manage/Sessions/abc',
        query: { fields: 'Id' },
      }),
    );
    expect(unwrapAuditRun(run).body).toEqual({ Id: 'abc' });
    expect(run.entries.map((e) => e.details)).toEqual([
      expect.objectContaining({ path: '/cvad/manage/Sessions/abc', status: 503, attempt: 1 }),
      expect.objectContaining({
        path: '/cvad/manage/Sessions/abc',
        status: 200,
        attempt: 2,
        transactionId: 'tx-from-citrix',
      }),
    ]);
    expect(JSON.stringify(run.entries)).not.toContain('secret-token');
  });
});

describe('collected entries in the audit table', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    await createAuditTable(dynamo.client, 'audit-context-test');
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('flushes a failed run and reads it back in order, all in one millisecond', async () => {
    const log = new DynamoAuditLog(dynamo.client, 'audit-context-test');
    const run = await runWithAudit(
      'act_flush',
      async () => {
        auditEvent('decision', 'Accepted', { decision: 'accepted' });
        for (let i = 0; i < 30; i += 1) {
          auditCitrixCall({
            method: 'POST',
            path: `/s/${i}`,
            status: 204,
            attempt: 1,
            durationMs: 1,
          });
        }
        throw new Error('late failure');
      },
      fixedNow,
    );
    await log.append(run.entries);
    expect(await log.timeline('act_flush')).toEqual(run.entries);
    expect(() => unwrapAuditRun(run)).toThrow('late failure');
  });
});
