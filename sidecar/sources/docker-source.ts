import { followEvents, type DockerClient } from '../../shared/docker/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { containerChangesOf, streamBreakObservation, type ContainerChange } from '../host-agent/docker-event.ts';
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
  let skipped = 0;
  let interruptions = 0;
  const running = followEvents(
    input.docker,
    {
      filters: { type: ['container'], container: [input.containerId] },
      signal: controller.signal,
      onSkipped: () => skipped++,
      firstRetryMs: input.retryMs,
      onBreak: (reason, retryMs) => {
        interruptions++;
        input.logger.warn(`Docker event stream of ${short} ended (${reason}); subscribing again in ${retryMs} ms`);
        buffer.push(streamBreakObservation(short, reason));
      },
    },
    (event) => {
      const changes = containerChangesOf(event);
      if (!changes) {
        skipped++;
        return;
      }
      for (const change of changes) {
        input.onChange?.(change);
        if (change.kind !== 'observe' || input.omit?.includes(change.action)) continue;
        buffer.push({ type: 'docker', action: change.action, container: short, detail: change.detail });
      }
    },
  );
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
