// `npm run faults`: every fault × every workflow it applies to, against the local stack and the
// Citrix simulator; `npm run faults -- --ci` runs the CI subset (test/faults runs the same). Prints
// the table and the wall time, and exits 1 if any case broke an invariant. Logs are silenced
// before any module creates the logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const { parseArgs } = await import('node:util');
const { allCases, CI_SUBSET } = await import('./cases.ts');
const { formatTable, runCase, startFaultStack } = await import('./harness.ts');

const { values } = parseArgs({ options: { ci: { type: 'boolean', default: false } } });
const cases = values.ci ? CI_SUBSET : allCases();
const began = Date.now();
const faultStack = await startFaultStack();
const results = [];
try {
  for (const [index, [fault, workflow]] of cases.entries()) {
    const result = await runCase(faultStack, fault, workflow);
    results.push(result);
    process.stderr.write(
      `[${index + 1}/${cases.length}] ${fault} × ${workflow}: ${result.violations.length === 0 ? 'ok' : 'FAIL'} (${result.durationMs} ms)\n`,
    );
  }
} finally {
  await faultStack.close();
}
const failed = results.filter((result) => result.violations.length > 0).length;
console.log(formatTable(results));
console.log(
  `\n${results.length} cases, ${failed} failed, wall time ${((Date.now() - began) / 1000).toFixed(1)} s`,
);
process.exitCode = failed > 0 ? 1 : 0;
