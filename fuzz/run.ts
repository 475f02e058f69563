// `npm run fuzz`: FUZZ_RUNS (default 10,000) generated requests per route through the local stack;
// FUZZ_SEED repeats a run, FUZZ_ROUTES (comma-separated) picks routes, FUZZ_HEAP_LIMIT_MB moves
// the heap bound. Exits 1 on any violation. Logs are silenced before any module creates the
// logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { DEFAULT_HEAP_LIMIT_MB, formatReport, runFuzz } = await import('./harness.ts');
const { FUZZ_ROUTES } = await import('./cases.ts');

const positive = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive whole number, not "${raw}"`);
    process.exit(2);
  }
  return value;
};
const runs = positive('FUZZ_RUNS', 10_000);
const seed = positive('FUZZ_SEED', Date.now() % 1_000_000_000);
const heapLimitMb = positive('FUZZ_HEAP_LIMIT_MB', DEFAULT_HEAP_LIMIT_MB);
const named = process.env.FUZZ_ROUTES?.split(',')
  .map((route) => route.trim())
  .filter(Boolean);
const unknown = named?.filter((route) => !(FUZZ_ROUTES as readonly string[]).includes(route)) ?? [];
if (unknown.length > 0) {
  console.error(`FUZZ_ROUTES: unknown ${unknown.join(', ')} (expected ${FUZZ_ROUTES.join(', ')})`);
  process.exit(2);
}
const routes = (named as (typeof FUZZ_ROUTES)[number][] | undefined) ?? FUZZ_ROUTES;

console.log(
  `Fuzzing ${routes.length} routes × ${runs} cases (FUZZ_SEED=${seed}) against the local stack`,
);
const began = Date.now();
const report = await runFuzz({
  runs,
  seed,
  routes,
  heapLimitMb,
  onRoute: (stats) =>
    console.log(
      `  ${stats.route}: ${stats.cases} cases in ${(stats.durationMs / 1000).toFixed(1)} s`,
    ),
});
console.log(`\n${formatReport(report)}\n`);
console.log(
  report.gcExposed
    ? `Heap bound: ${report.heapLimitMb} MB of heapUsed after a GC.`
    : 'Heap not measured: run with node --expose-gc (npm run fuzz does).',
);
console.log(`Total: ${((Date.now() - began) / 1000).toFixed(1)} s`);
if (report.violations.length > 0) {
  console.log(`\n${report.violations.length} violation(s):`);
  for (const violation of report.violations.slice(0, 50)) {
    console.log(`- ${violation.route}: ${violation.kind}: ${violation.detail}`);
  }
  process.exit(1);
}
console.log('No violations: 0 × 5xx, nothing started from invalid input, 0 Citrix calls for it.');
process.exit(0);
