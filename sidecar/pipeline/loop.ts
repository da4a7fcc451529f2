import type { Logger } from '../../shared/logging/index.ts';
import type { WatchMetrics } from '../api/metrics.ts';

/**
 * The one loop: a tick every `tickMs` until the signal aborts, the duration ends or the target is gone, plus a
 * first and a last tick. Every mode runs its pipelines with it (the host agent ticks all of its containers' in
 * one tick). A tick that throws is logged and counted, and the loop goes on: not even the first tick can end the
 * watcher.
 */
export interface LoopOptions {
  /** One pass over every pipeline of the process. */
  tick(nowMs: number): void;
  tickMs: number;
  signal: AbortSignal;
  logger: Logger;
  metrics: WatchMetrics;
  /** what the loop's gauges show after each tick */
  gauges(): { processesWatched: number; outputs: readonly { name: string; queued: number }[] };
  /** the run ends after this long (ms) */
  durationMs?: number;
  /** the run also ends once one of these settles (the watched command exited, the followed container was removed) */
  until?: ReadonlyArray<Promise<unknown>>;
  /** The proc connector's exec snapshots: a tick EXEC_TICK_MS after one (one per burst), not up to a period later. */
  wake?: { onSnapshot(listener: () => void): () => void };
  /** After the first tick, before the period starts; `end()` ends the run (the target was stopped). */
  started?(end: () => void): void | Promise<void>;
}

/** Delay of the extra tick after an exec snapshot (batches a burst of execs into one tick). */
export const EXEC_TICK_MS = 5;

export async function runLoop(options: LoopOptions): Promise<void> {
  const { logger, metrics } = options;
  const tick = (): void => {
    const end = metrics.tickSeconds.startTimer();
    try {
      options.tick(Date.now());
    } catch (error) {
      metrics.tickFailures.inc();
      logger.error('tick failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    const gauges = options.gauges();
    metrics.ticks.inc();
    metrics.processesWatched.set(gauges.processesWatched);
    for (const s of gauges.outputs) metrics.outputQueue.set({ output: s.name }, s.queued);
    end();
  };

  let endRun: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    endRun = resolve;
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
    if (options.durationMs !== undefined) setTimeout(resolve, options.durationMs).unref();
    for (const until of options.until ?? [])
      void until.then(
        () => resolve(),
        () => resolve(),
      );
  });

  tick();
  await options.started?.(endRun);
  const timer = setInterval(tick, options.tickMs);
  let soon: NodeJS.Timeout | undefined;
  const stopWaking = options.wake?.onSnapshot(() => {
    soon ??= setTimeout(() => {
      soon = undefined;
      tick();
    }, EXEC_TICK_MS);
  });
  await done;
  clearInterval(timer);
  stopWaking?.();
  clearTimeout(soon);
  tick();
}
