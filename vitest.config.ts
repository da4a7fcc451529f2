import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Docker-backed suites share one engine: keep files parallel but bounded on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default', './test/harness/summary-reporter.ts'],
  },
});
