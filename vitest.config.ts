import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // @actions/workflow-parser (inlined below) ships source maps without their sources: drop the links
      // rather than print one warning per file.
      name: 'workflow-parser-without-source-maps',
      enforce: 'pre',
      load(id) {
        if (!/\/@actions\/workflow-parser\/.*\.js$/.test(id)) return undefined;
        return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Docker-backed suites share one engine: keep files parallel but bounded on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default', './test/harness/summary-reporter.ts'],
    // GitHub's workflow parser imports its JSON schemas without `with { type: 'json' }`, which Node refuses:
    // let vite transform it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
