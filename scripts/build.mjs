// Builds the CLI into dist/cli.mjs (our code only; dependencies stay in node_modules).
// Usage: node scripts/build.mjs            (also run by `npm ci`/`npm install` through "prepare")
import { build } from 'esbuild';
import { actionBuild } from './action-bundle.mjs';

const common = { platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['cli/bin.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  packages: 'external',
});

// The GitHub Action bundle (dist/action/index.mjs, committed; config in scripts/action-bundle.mjs).
// Only on request, so `npm ci` and the test setup never overwrite the committed file that
// test/seal/action-bundle.test.ts compares with a fresh build:  node scripts/build.mjs --action
if (process.argv.includes('--action')) await build(actionBuild);
