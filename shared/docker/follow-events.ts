import type { DockerClient } from './client.ts';
import type { DockerEvent, DockerEventFilters } from './events.ts';

/**
 * The engine's event stream, kept open: when it ends (the engine restarts, the connection drops) it is
 * subscribed again, after `firstRetryMs` (default 1 s), doubling up to 30 s while the engine is away, and
 * back to the first wait once a stream lived a minute. Each subscription asks the engine to replay from the
 * time of the last event delivered (`since`), so what the engine still holds is not lost, and an event at or
 * before the last one delivered (by `timeNano`) is not delivered twice. What happened while the engine was down
 * (or beyond its replay buffer) is not known: `onBreak` lets the caller say so, `onResubscribe` lets it catch
 * up (e.g. list the containers again). Resolves when `signal` aborts.
 */
export interface FollowEventsOptions {
  filters?: DockerEventFilters;
  signal: AbortSignal;
  /** a record that is not JSON or does not fit `DockerEvent` */
  onSkipped?: (reason: string) => void;
  /** the stream ended (why, in words) and will be subscribed again after `retryMs` */
  onBreak: (reason: string, retryMs: number) => void;
  /** called right after each new subscription but the first */
  onResubscribe?: () => void;
  firstRetryMs?: number;
}

export async function followEvents(
  docker: Pick<DockerClient, 'events'>,
  options: FollowEventsOptions,
  onEvent: (event: DockerEvent) => void,
): Promise<void> {
  const { signal } = options;
  const firstRetryMs = options.firstRetryMs ?? 1000;
  let retryMs = firstRetryMs;
  let since = Math.floor(Date.now() / 1000);
  let lastNano = 0;
  const deliver = (event: DockerEvent): void => {
    if (event.timeNano !== undefined) {
      if (event.timeNano <= lastNano) return;
      lastNano = event.timeNano;
      since = Math.floor(event.timeNano / 1e9);
    }
    onEvent(event);
  };
  for (let attempt = 0; !signal.aborted; attempt++) {
    const subscribed = Date.now();
    const stream = docker.events({ since, filters: options.filters, signal, onSkipped: options.onSkipped }, deliver);
    if (attempt > 0) options.onResubscribe?.();
    let reason = 'the engine closed the stream';
    try {
      await stream;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (signal.aborted) return;
    if (Date.now() - subscribed > 60_000) retryMs = firstRetryMs;
    options.onBreak(reason, retryMs);
    await abortableSleep(retryMs, signal);
    retryMs = Math.min(retryMs * 2, 30_000);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
