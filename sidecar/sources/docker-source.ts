import type { DockerClient } from '../../shared/docker/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { followContainerChanges, streamBreakObservation, type ContainerChange } from './docker-event.ts';
import type { Observation, Source } from './types.ts';

/**
 * Docker engine events of one container: exec into it (`exec_start` with the command), restart, OOM, die.
 * Push-based: a stream fills a buffer that the loop drains every tick. The stream is the container's own
 * (`createDockerSource`: `--container`, or the app container of a pod when the socket is given) or the host
 * agent's engine-wide one, which hands each container its changes (`containerEventSource`). A stream that ends
 * (engine restart, dropped connection) is subscribed again and reported as `container-events-interrupted`.
 */
export interface ContainerEventSource extends Source {
  /** A change of the container, from whichever stream carries it. */
  accept(change: ContainerChange): void;
  /** The stream ended (and is subscribed again): what happened meanwhile may be missing. */
  interrupted(reason: string): void;
}

export function containerEventSource(input: {
  containerId: string;
  /** every change of the container (start, stop, observations), as it arrives (`--container`: the follower) */
  onChange?: (change: ContainerChange) => void;
  /** observations someone else reports (`--container`: the follower reports a restart once it re-anchored) */
  omit?: ReadonlyArray<Extract<ContainerChange, { kind: 'observe' }>['action']>;
}): ContainerEventSource {
  const buffer: Observation[] = [];
  const short = input.containerId.slice(0, 12);
  return {
    name: 'docker',
    poll: () => buffer.splice(0),
    accept(change) {
      input.onChange?.(change);
      if (change.kind !== 'observe' || input.omit?.includes(change.action)) return;
      buffer.push({ type: 'docker', action: change.action, container: short, detail: change.detail });
    },
    interrupted: (reason) => void buffer.push(streamBreakObservation(short, reason)),
  };
}

export interface DockerSource extends Source {
  readonly skipped: number;
  /** times the engine's event stream ended and was subscribed again */
  readonly interruptions: number;
  /** Ends the stream (the run is over). */
  stop(): Promise<void>;
}

/** The events of one container through a stream of its own (engine-side filters `type=container`, `container=<id>`). */
export function createDockerSource(input: {
  docker: DockerClient;
  containerId: string;
  logger: Logger;
  signal: AbortSignal;
  onChange?: (change: ContainerChange) => void;
  omit?: ReadonlyArray<Extract<ContainerChange, { kind: 'observe' }>['action']>;
  /** first wait before subscribing again after the stream ended (ms, default 1000; doubles up to 30 s) */
  retryMs?: number;
}): DockerSource {
  const events = containerEventSource(input);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  input.signal.addEventListener('abort', abort, { once: true });
  const short = input.containerId.slice(0, 12);
  const stream = followContainerChanges(
    input.docker,
    {
      filters: { type: ['container'], container: [input.containerId] },
      signal: controller.signal,
      firstRetryMs: input.retryMs,
      onBreak: (reason, retryMs) => {
        input.logger.warn(`Docker event stream of ${short} ended (${reason}); subscribing again in ${retryMs} ms`);
        events.interrupted(reason);
      },
    },
    (change) => events.accept(change),
  );
  return {
    name: events.name,
    poll: (now) => events.poll(now),
    get skipped() {
      return stream.skipped;
    },
    get interruptions() {
      return stream.interruptions;
    },
    async stop() {
      input.signal.removeEventListener('abort', abort);
      controller.abort();
      await stream.done;
    },
  };
}
