import { execFileSync } from 'node:child_process';
import { dockerAvailable } from './docker.ts';
import { removeAllTestContainers } from './containers.ts';

/**
 * Once per test run: build dist/ so tests that run the real `sealwatch` binary test the current source,
 * and clear test containers left by a crashed run. The returned teardown removes every test container,
 * so none is left behind even when a test file failed before its own cleanup.
 */
export default async function setup(): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (dockerAvailable()) await removeAllTestContainers();
  return async () => {
    if (dockerAvailable()) {
      const left = await removeAllTestContainers();
      if (left > 0) console.warn(`test harness: removed ${left} container(s) left running by tests`);
    }
  };
}
