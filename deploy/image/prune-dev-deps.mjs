// Removes devDependencies from an installed node_modules, offline, using package-lock.json (lockfile v2/v3).
// Used by the Dockerfile's deps stage: the build context carries the already-installed node_modules
// (there may be no registry, and the base image may have no npm), and this keeps only what runs.
// Usage: node prune-dev-deps.mjs <project dir>
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
if (lock.lockfileVersion < 2 || typeof lock.packages !== 'object') {
  process.stderr.write('prune-dev-deps: package-lock.json must be lockfile v2 or v3\n');
  process.exit(2);
}
let removed = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  // "dev": only a devDependency reaches it; "devOptional" and unmarked entries are needed at runtime.
  if (path === '' || entry.dev !== true) continue;
  rmSync(join(dir, path), { recursive: true, force: true });
  removed++;
}
process.stdout.write(`prune-dev-deps: removed ${removed} dev-only packages\n`);
