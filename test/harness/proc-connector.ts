import { describe, it } from 'vitest';
import { openProcConnector } from '../../sidecar/sources/proc-connector/index.ts';

/**
 * Tests of the kernel proc connector need the host's PID and network namespaces and CAP_NET_ADMIN. Without them
 * they skip with one line saying why; with SEALWATCH_REQUIRE_PROC_CONNECTOR=1 (set by .ci/run) a connector that
 * cannot be opened is a failure.
 */
let cached: Promise<string | undefined> | undefined;

/** Why the connector cannot be opened here, or undefined when it can. */
export function procConnectorUnavailable(): Promise<string | undefined> {
  cached ??= openProcConnector({ onEvents: () => undefined, onError: () => undefined }).then(
    (stream) => {
      stream.close();
      return undefined;
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  return cached;
}

export const procConnectorRequired = (): boolean => process.env.SEALWATCH_REQUIRE_PROC_CONNECTOR === '1';

/** `describe` for a suite that needs the kernel proc connector (call with top-level await). */
export async function describeKernel(name: string, fn: () => void): Promise<void> {
  const why = await procConnectorUnavailable();
  if (why === undefined) {
    describe(name, fn);
    return;
  }
  if (procConnectorRequired()) {
    describe(name, () => {
      it('needs the kernel proc connector', () => {
        throw new Error(
          `SEALWATCH_REQUIRE_PROC_CONNECTOR=1 but the proc connector cannot be opened here (${why}); run as root in the host's PID and network namespaces`,
        );
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: the kernel proc connector cannot be opened here: ${why})`, fn);
}
