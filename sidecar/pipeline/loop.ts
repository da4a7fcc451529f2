import type { Pipeline } from './pipeline.ts';
import type { Run } from './run.ts';

/**
 * The one loop: a tick every `tickMs` until the signal aborts, the duration ends or the target is gone, plus a
 * first and a last tick. Every mode runs its pipelines with it; a tick is one pass over all of them (the host agent
 * has one per container). A pipeline whose tick throws is logged and counted, the others still tick, and the loop
 * goes on: not even the first tick can end the watcher.
 */
export interface LoopOptions {
  /** the pipelines to tick (the host agent's come and go with its containers) */
  pipelines(): Iterable<Pipeline>;
  tickMs: number;
  signal: AbortSignal;
  /** the run ends after this long (ms) */
  durationMs?: number;
  /** the run also ends once one of these settles (the watched command exited, the followed container was removed) */
  until?: ReadonlyArray<Promise<unknown>>;
  /**
   * The proc connector's exec snapshots: a tick EXEC_TICK_MS after one (one per burst), not up to a period later. The
   * run's own wake hub (file sight) is followed the same way.
   */
  wake?: { onSnapshot(listener: () => void): () => void };
  /** After the first tick, before the period starts; `end()` ends the run (the target was stopped). */
  started?(end: () => void): void | Promise<void>;
}

/** Delay of the extra tick after an exec snapshot (batches a burst of execs into one tick). */
export const EXEC_TICK_MS = 5;

export async function runLoop(run: Run, options: LoopOptions): Promise<void> {
  const { logger, metrics } = run;
  const tick = (): void => {
    const end = metrics.tickSeconds.startTimer();
    const now = Date.now();
    let watched = 0;
    for (const pipeline of options.pipelines()) {
      try {
        pipeline.tick(now);
      } catch (error) {
        metrics.tickFailures.inc();
        logger.error(`tick failed for ${pipeline.target.name}`, {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
      watched += pipeline.tracker.processes().size;
    }
    run.ticks++;
    metrics.ticks.inc();
    metrics.processesWatched.set(watched);
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
  const tickSoon = (): void => {
    soon ??= setTimeout(() => {
      soon = undefined;
      tick();
    }, EXEC_TICK_MS);
  };
  const stopWaking = options.wake?.onSnapshot(tickSoon);
  // a push source (file sight) saw an exec or an open: the poller reads its process while it is there
  const stopWakingRun = run.wake.onSnapshot(tickSoon);
  await done;
  clearInterval(timer);
  stopWaking?.();
  stopWakingRun();
  clearTimeout(soon);
  tick();
}
