import { silentLogger } from '../../shared/logging/index.ts';
import type { ProcessInfo, ProcessTracker } from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { createFileSight, type FileSightSource } from '../../sidecar/sources/sight/file-sight.ts';
import { loadSightNative } from '../../sidecar/sources/sight/native.ts';
import type { FixtureProc } from './fixture-proc.ts';

/**
 * File sight on the real kernel (inotify, the addon) over a fixture /proc: it watches the root of the fixture process
 * `anchor`, and the poller's view of the processes is the map the test gives (and changes, tick by tick).
 */
export function fixtureFileSight(
  fx: FixtureProc,
  options: { anchor: number; poller?: ReadonlyMap<number, ProcessInfo>; maxWatches?: number; now?: () => number },
): FileSightSource {
  const load = loadSightNative();
  if (!load.ok) throw new Error(`sight addon: ${load.reason}`);
  const poller = options.poller ?? new Map<number, ProcessInfo>();
  const tracker = {
    processes: () => poller,
    tickStat: () => undefined,
    idle: () => false,
  } as unknown as ProcessTracker;
  return createFileSight({
    native: load.native,
    proc: createProcFs(fx.root),
    tracker,
    anchor: () => options.anchor,
    logger: silentLogger(),
    ...(options.maxWatches !== undefined ? { maxWatches: options.maxWatches } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
}
