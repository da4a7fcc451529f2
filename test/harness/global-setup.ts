import { execFileSync } from 'node:child_process';
import { dockerAvailable } from './docker.ts';
import { removeTestContainers } from './containers.ts';

/**
 * Once per test run: build dist/ so tests that run the real `sealwatch` binary test the current source,
 * and clear test containers left by a crashed run. The returned teardown removes every test container,
 * so none is left behind even when a test file failed before its own cleanup.
 */
export default async function setup(): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  // Workers inherit this: every container of this run is labelled with this process's pid.
  const owner = String(process.pid);
  process.env.SEALWATCH_TEST_OWNER = owner;
  if (dockerAvailable()) await removeTestContainers();
  return async () => {
    if (dockerAvailable()) {
      const left = await removeTestContainers(owner);
      if (left > 0) console.warn(`test harness: removed ${left} container(s) left running by tests`);
    }
  };
}
