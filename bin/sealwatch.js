#!/usr/bin/env node
// The `sealwatch` command. dist/cli.mjs is built from cli/ by `npm run build` (run by `npm ci` too).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('sealwatch: dist/cli.mjs is missing; run `npm run build` in the sealwatch folder\n');
  process.exit(3);
}
await import(built.href);
