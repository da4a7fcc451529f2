import { execFileSync } from 'node:child_process';

/** Build dist/ once so tests that run the real `sealwatch` binary test the current source. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
