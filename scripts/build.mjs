// Builds the CLI into dist/cli.mjs (our code only; dependencies stay in node_modules).
// Usage: node scripts/build.mjs            (also run by `npm ci`/`npm install` through "prepare")
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
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

// The reading threads of `audit report` (audit/report/read-parallel.ts starts them from this file, READ_THREAD_BUNDLE;
// run from the sources, it compiles read-thread.ts itself).
await build({
  ...common,
  entryPoints: ['audit/report/read-thread.ts'],
  outfile: 'dist/audit-report-thread.cjs',
  format: 'cjs',
  bundle: true,
  packages: 'external',
});

// The event schema check of `audit report`, compiled ahead of time (audit/report/event-check.ts loads it from here,
// PREBUILT_EVENT_CHECK): ajv's standalone code for the JSON Schema of the zod Event schema, taken as input (unknown
// fields allowed, as zod's parse allows them). test/audit/report-event-check.test.ts checks this file against zod.
{
  const schemaModule = 'dist/.event-schema.mjs';
  await build({
    ...common,
    stdin: {
      contents: `import { z } from 'zod'; import { Event } from './shared/events/index.ts';
        export default z.toJSONSchema(Event, { io: 'input', unrepresentable: 'any' });`,
      resolveDir: '.',
      loader: 'ts',
    },
    outfile: schemaModule,
    sourcemap: false,
    bundle: true,
    packages: 'external',
  });
  const { default: schema } = await import(pathToFileURL(schemaModule).href);
  rmSync(schemaModule);
  const require = createRequire(import.meta.url);
  const { Ajv2020 } = require('ajv/dist/2020.js');
  const standaloneCode = require('ajv/dist/standalone/index.js').default;
  const ajv = new Ajv2020({
    strict: false,
    allErrors: false,
    validateFormats: false,
    validateSchema: false,
    code: { source: true },
  });
  writeFileSync('dist/audit-event-check.cjs', standaloneCode(ajv, ajv.compile(schema)));
}

// The GitHub Action bundle (dist/action/index.mjs, committed; config in scripts/action-bundle.mjs).
// Only on request, so `npm ci` and the test setup never overwrite the committed file that
// test/seal/action-bundle.test.ts compares with a fresh build:  node scripts/build.mjs --action
if (process.argv.includes('--action')) await build(actionBuild);
