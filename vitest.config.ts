import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Every test file fails if a secret the tests use is written anywhere (stdout, console).
    setupFiles: ['./test/support/secret-scan.setup.ts', './test/support/runbooks.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Workflow and end-to-end tests run real HTTP servers on loopback; two workers match the 2-core CI machine.
    maxWorkers: 2,
    env: {
      // Every log line is written, so the secret scan sees it; the scan then drops it. A few
      // thousand lines over the run: no measurable cost.
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_SERVICE_NAME: 'citrix-response-test',
      AWS_REGION: 'us-east-1',
    },
  },
});
