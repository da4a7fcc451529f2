import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dockerAvailable } from './docker.ts';
import { removeTestContainers } from './containers.ts';

/**
 * Once per test run: build dist/ so tests that run the real `sealwatch` binary test the current source,
 * and clear test containers left by a crashed run. The returned teardown removes every test container,
 * so none is left behind even when a test file failed before its own cleanup.
 */
export default async function setup(): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  // ... and the sight addon, when its source is newer than the build (or there is none): ~1.5 s
  if (nativeStale()) execFileSync('bash', ['scripts/build-native.sh'], { stdio: ['ignore', 'ignore', 'inherit'] });
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

function nativeStale(): boolean {
  const mtime = (path: string): number => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const built = mtime('native/sight/build/Release/sight.node');
  return built === 0 || ['native/sight/sight.c', 'native/sight/binding.gyp'].some((p) => mtime(p) > built);
}
