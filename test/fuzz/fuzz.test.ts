import { describe, expect, it } from 'vitest';
import { FUZZ_ROUTES } from '../../fuzz/cases.ts';
import { formatReport, runFuzz } from '../../fuzz/harness.ts';

/**
 * `npm run fuzz`'s CI subset: the same generated requests, through the same local stack, a few
 * hundred per route (FUZZ_CI_RUNS). Fails on any 5xx, anything started by an unauthenticated or
 * malformed request, or a Citrix call while only such requests were in flight.
 */
const RUNS = Number(process.env.FUZZ_CI_RUNS ?? 200);

describe('npm run fuzz, CI subset', () => {
  it(`answers ${RUNS} generated requests per route without a 5xx, starting nothing and calling Citrix for nothing invalid`, async () => {
    const report = await runFuzz({ runs: RUNS, seed: 14 });
    const summary = formatReport(report);
    expect(report.violations, summary).toEqual([]);
    expect(report.stats.map((stats) => stats.route)).toEqual([...FUZZ_ROUTES]);
    for (const stats of report.stats) {
      expect(stats.cases, stats.route).toBe(RUNS);
      // Every route saw each kind of answer it can give: refused, and (for the sources and the
      // people's routes alike) accepted or decided.
      const statuses = Object.keys(stats.statuses).map(Number);
      expect(
        statuses.some((status) => status >= 400 && status < 500),
        stats.route,
      ).toBe(true);
      expect(
        statuses.some((status) => status < 300),
        stats.route,
      ).toBe(true);
      // Most cases ran in a batch that started nothing, so their Citrix calls were counted (on
      // approve and reject fewer: a valid decision resumes a workflow).
      expect(stats.checkedForCitrixCalls, stats.route).toBeGreaterThan(RUNS / 3);
    }
  }, 120_000);
});
