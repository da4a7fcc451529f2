import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

/**
 * Tests that need a Docker engine use `describeDocker`. Without an engine they skip with one line
 * saying why; with SEALWATCH_REQUIRE_DOCKER=1 (set by .ci/run) a missing engine is a failure.
 */
let cached: boolean | undefined;

export function dockerAvailable(): boolean {
  if (cached === undefined) {
    try {
      execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
      cached = true;
    } catch {
      cached = false;
    }
  }
  return cached;
}

export const dockerRequired = (): boolean => process.env.SEALWATCH_REQUIRE_DOCKER === '1';

export function describeDocker(name: string, fn: () => void): void {
  if (dockerAvailable()) {
    describe(name, fn);
    return;
  }
  if (dockerRequired()) {
    describe(name, () => {
      it('needs a Docker engine', () => {
        throw new Error(
          'SEALWATCH_REQUIRE_DOCKER=1 but no Docker engine answers; start one with scripts/start-docker.sh',
        );
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: no Docker engine answers; start one with scripts/start-docker.sh)`, fn);
}
