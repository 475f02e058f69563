import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `vitest: N passed, N failed, N skipped`, which CI reads to
 * tell a run that tested something from one that tested nothing. Errors outside any test (a
 * failing hook such as the secret scan's afterAll, a file that does not load, an unhandled
 * rejection) are counted too, so the line never says `0 failed` for a red run.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
  ): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    let errors = unhandledErrors.length;
    for (const testModule of testModules) {
      errors += testModule.errors().length;
      for (const testCase of testModule.children.allTests()) {
        const state = testCase.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
    }
    console.log(
      `vitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` +
        (errors > 0 ? `, ${errors} errors outside tests` : ''),
    );
  }
}
