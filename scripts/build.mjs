// Builds the CLI into dist/cli.mjs (our code only; dependencies stay in node_modules).
// Usage: node scripts/build.mjs            (also run by `npm ci`/`npm install` through "prepare")
import { build } from 'esbuild';

const common = { platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['cli/bin.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  packages: 'external',
});
