#!/usr/bin/env node
// The `sealwatch` command. dist/cli.mjs is built from cli/ by `npm run build` (run by `npm ci` too).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('sealwatch: dist/cli.mjs is missing; run `npm run build` in the sealwatch folder\n');
  process.exit(3);
}
// Under `npx sealwatch …` the command runs as npm → sh → node. On SIGTERM npm signals the shell, which exits and
// leaves this process running (holding its port). So when npm started us and our parent goes, stop as if we got
// the SIGTERM ourselves. Only then: a `nohup sealwatch watch &` outliving its shell is meant to go on.
if (process.env.npm_command === 'exec') {
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphaned);
    process.kill(process.pid, 'SIGTERM');
  }, 250);
  orphaned.unref();
}
await import(built.href);
