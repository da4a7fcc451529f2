import type { DockerClient, DockerEvent } from '../../shared/docker/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { classifyContainerEvent, DockerContainerEvent, type ContainerChange } from '../host-agent/docker-event.ts';
import type { Observation, Source } from './types.ts';

/**
 * Docker engine events of one container (`--container`, or the app container of a pod when the
 * socket is given): exec into it (`exec_start` with the command), restart, OOM, die. Push-based: the
 * engine stream fills a buffer that the loop drains every tick. A stream that ends (engine restart,
 * dropped connection) is subscribed again and reported as `container-events-interrupted`. Records are validated twice at the
 * edge (the adapter's `DockerEvent`, then the container-event shape); a misfit is skipped and counted.
 */
export interface DockerSource extends Source {
  readonly skipped: number;
  /** times the engine's event stream ended and was subscribed again */
  readonly interruptions: number;
  /** Ends the stream (the run is over). */
  close(): Promise<void>;
}

export function createDockerSource(input: {
  docker: DockerClient;
  containerId: string;
  logger: Logger;
  signal: AbortSignal;
  /** every change of the container (start, stop, observations), as it arrives (`--container`: the follower) */
  onChange?: (change: ContainerChange) => void;
  /** observations someone else reports (`--container`: the follower reports a restart once it re-anchored) */
  omit?: ReadonlyArray<Extract<ContainerChange, { kind: 'observe' }>['action']>;
  /** first wait before subscribing again after the stream ended (ms, default 1000; doubles up to 30 s) */
  retryMs?: number;
}): DockerSource {
  const buffer: Observation[] = [];
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  input.signal.addEventListener('abort', abort, { once: true });
  const short = input.containerId.slice(0, 12);
  const firstRetryMs = input.retryMs ?? 1000;
  let skipped = 0;
  let interruptions = 0;
  // replay from here on each (re)subscription; events at or before the last one delivered are not shown twice
  let since = Math.floor(Date.now() / 1000);
  let lastNano = 0;
  const onEvent = (event: DockerEvent): void => {
    if (event.timeNano !== undefined) {
      if (event.timeNano <= lastNano) return;
      lastNano = event.timeNano;
      since = Math.floor(event.timeNano / 1e9);
    }
    const parsed = DockerContainerEvent.safeParse(event);
    if (!parsed.success) {
      skipped++;
      return;
    }
    for (const change of classifyContainerEvent(parsed.data)) {
      input.onChange?.(change);
      if (change.kind !== 'observe' || input.omit?.includes(change.action)) continue;
      buffer.push({ type: 'docker', action: change.action, container: short, detail: change.detail });
    }
  };
  /**
   * The stream ends when the engine restarts or the connection drops. Subscribe again (backing off while the
   * engine is away) from the last event's time, so the engine replays what it still holds; say so in an event,
   * since what happened while the engine was down (or beyond its replay buffer) is not known.
   */
  const follow = async (): Promise<void> => {
    let retryMs = firstRetryMs;
    while (!controller.signal.aborted) {
      const subscribed = Date.now();
      let reason = 'the engine closed the stream';
      try {
        await input.docker.events(
          {
            since,
            filters: { type: ['container'], container: [input.containerId] },
            signal: controller.signal,
            onSkipped: () => skipped++,
          },
          onEvent,
        );
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      if (controller.signal.aborted) return;
      if (Date.now() - subscribed > 60_000) retryMs = firstRetryMs;
      interruptions++;
      input.logger.warn(`Docker event stream of ${short} ended (${reason}); subscribing again in ${retryMs} ms`);
      buffer.push({
        type: 'docker',
        action: 'events-interrupted',
        container: short,
        detail: `${reason}; execs, restarts and OOM kills while the stream was down may be missing`,
      });
      await sleep(retryMs, controller.signal);
      retryMs = Math.min(retryMs * 2, 30_000);
    }
  };
  const running = follow();
  return {
    name: 'docker',
    get skipped() {
      return skipped;
    },
    get interruptions() {
      return interruptions;
    },
    poll: () => buffer.splice(0),
    async close() {
      input.signal.removeEventListener('abort', abort);
      controller.abort();
      await running;
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
