// Builds the CLI into dist/cli.mjs (our code only; dependencies stay in node_modules).
// Usage: node scripts/build.mjs            (also run by `npm ci`/`npm install` through "prepare")
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { actionBuild } from './action-bundle.mjs';

const common = { platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked', logLevel: 'warning' };

// Code splitting: each command loads its heavy modules with `await import()` in its action, so they
// become chunks (dist/chunks/) and `sealwatch watch` never loads sigstore, dockerode or express unless
// it needs them (startup RSS and time; see bench/watch-load.bench.ts).
rmSync('dist/chunks', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { cli: 'cli/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  packages: 'external',
});

// The kernel proc connector's socket thread: a worker entry of its own, beside cli.mjs (the code that starts it,
// sidecar/sources/proc-connector/open-socket.ts, looks for it there under this name, SOCKET_THREAD_BUNDLE;
// run from the sources, it compiles socket-thread.ts itself with the same options).
await build({
  ...common,
  entryPoints: ['sidecar/sources/proc-connector/socket-thread.ts'],
  outfile: 'dist/proc-connector-thread.cjs',
  format: 'cjs',
  bundle: true,
  packages: 'external',
});

// The GitHub Action bundle (dist/action/index.mjs, committed; config in scripts/action-bundle.mjs).
// Only on request, so `npm ci` and the test setup never overwrite the committed file that
// test/seal/action-bundle.test.ts compares with a fresh build:  node scripts/build.mjs --action
if (process.argv.includes('--action')) await build(actionBuild);
