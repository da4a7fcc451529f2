import { z } from 'zod';
import { followEvents, type DockerClient, type FollowEventsOptions } from '../../shared/docker/index.ts';
import type { Observation } from './types.ts';

/**
 * A container event from the Docker engine's event stream (engine input: validated here, a record
 * that does not fit is skipped and counted). Only the fields the watcher uses.
 */
export const DockerContainerEvent = z.object({
  Type: z.literal('container'),
  Action: z.string().max(4096),
  Actor: z.object({
    ID: z.string().regex(/^[0-9a-f]{64}$/),
    Attributes: z.record(z.string(), z.string()).optional(),
  }),
  time: z.number().optional(),
});
export type DockerContainerEvent = z.infer<typeof DockerContainerEvent>;

export type ContainerChange =
  | { kind: 'start'; id: string }
  | { kind: 'stop'; id: string; action: 'die' | 'destroy' }
  | { kind: 'observe'; id: string; action: 'exec' | 'restart' | 'oom' | 'die'; detail?: string };

/** What an event means: a container to start or stop watching (host agent), or an observation. */
export function classifyContainerEvent(event: DockerContainerEvent): ContainerChange[] {
  const id = event.Actor.ID;
  // exec_start carries the command after a colon: "exec_start: sh -c id"
  const [action = '', ...rest] = event.Action.split(':');
  const detail = rest.join(':').trim() || undefined;
  switch (action) {
    case 'start':
      return [{ kind: 'start', id }];
    case 'die':
      return [
        { kind: 'observe', id, action: 'die', detail: event.Actor.Attributes?.exitCode },
        { kind: 'stop', id, action: 'die' },
      ];
    case 'destroy':
      return [{ kind: 'stop', id, action: 'destroy' }];
    case 'exec_start':
      return [{ kind: 'observe', id, action: 'exec', detail }];
    case 'restart':
      return [{ kind: 'observe', id, action: 'restart' }];
    case 'oom':
      return [{ kind: 'observe', id, action: 'oom' }];
    default:
      return [];
  }
}

/** What an engine event record means (see classifyContainerEvent), or undefined when it does not fit (count it). */
export function containerChangesOf(record: unknown): ContainerChange[] | undefined {
  const parsed = DockerContainerEvent.safeParse(record);
  return parsed.success ? classifyContainerEvent(parsed.data) : undefined;
}

export interface ContainerChangeStream {
  /** resolves when the signal aborts */
  readonly done: Promise<void>;
  /** records that did not parse or fit */
  readonly skipped: number;
  /** times the stream ended and was subscribed again */
  readonly interruptions: number;
}

/**
 * The engine's container events as changes (`followEvents` kept open across breaks, each record validated and
 * classified; a misfit is counted in `skipped`). Serves the sidecar's Docker source (one container) and the
 * host agent (every container).
 */
export function followContainerChanges(
  docker: Pick<DockerClient, 'events'>,
  options: Omit<FollowEventsOptions, 'onSkipped'>,
  onChange: (change: ContainerChange) => void,
): ContainerChangeStream {
  let skipped = 0;
  let interruptions = 0;
  const done = followEvents(
    docker,
    {
      ...options,
      onSkipped: () => skipped++,
      onBreak: (reason, retryMs) => {
        interruptions++;
        options.onBreak(reason, retryMs);
      },
    },
    (event) => {
      const changes = containerChangesOf(event);
      if (!changes) skipped++;
      else for (const change of changes) onChange(change);
    },
  );
  return {
    done,
    get skipped() {
      return skipped;
    },
    get interruptions() {
      return interruptions;
    },
  };
}

/** The event stream of the engine broke: for one container (12-hex id), what may be missing. */
export function streamBreakObservation(container: string, reason: string): Observation {
  return {
    type: 'docker',
    action: 'events-interrupted',
    container,
    detail: `${reason}; execs, restarts and OOM kills while the stream was down may be missing`,
  };
}
