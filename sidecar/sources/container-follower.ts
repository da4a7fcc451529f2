import type { DockerClient } from '../../shared/docker/index.ts';
import { EnvironmentError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { ContainerChange } from './docker-event.ts';
import type { ProcFs } from './proc/index.ts';
import type { ProcessTracker } from './process-tracker.ts';
import type { ContainerScope } from './scope.ts';
import type { Observation, Source } from './types.ts';

/**
 * `--container` across restarts. A restart (`docker restart`, a restart policy after a crash or an OOM
 * kill, `docker stop` + `docker start`) gives the container new host PIDs and a new init. Membership by
 * cgroup follows on its own (the id stays); the network namespace is read through the init, so the
 * scope is re-anchored on the new one. The engine is asked (inspect) whenever the container's event
 * stream says something happened to it (start, die, restart, oom, destroy), and, should the stream have
 * missed it, when the init is gone (at most every `recheckMs`; while stopped, every 5 × `recheckMs`). The engine's answer, not the event, sets
 * the state: events can arrive after the inspect that already saw their effect.
 *
 * - a new init: `container-restart` (init pid old → new), watching goes on;
 * - not running: `stopped` (the reason goes to /readyz), the sockets are not read until it starts again;
 * - gone from the engine: `container-removed`, and `removed` resolves (the run ends).
 */
export interface ContainerState {
  id: string;
  name: string;
  state: 'running' | 'stopped' | 'removed';
  /** the container's init (host PID) while it runs */
  initPid?: number;
  /** restarts followed since the watcher started */
  restarts: number;
  /** why it is not running */
  reason?: string;
}

export interface ContainerFollower extends Source {
  state(): ContainerState;
  /** A change from the container's Docker event stream. */
  onChange(change: ContainerChange): void;
  /** Resolves once the container is gone from the engine. */
  readonly removed: Promise<void>;
}

export function createContainerFollower(input: {
  docker: DockerClient;
  proc: ProcFs;
  tracker: ProcessTracker;
  scope: ContainerScope;
  container: { id: string; name: string };
  initPid: number;
  logger: Logger;
  /** the init is gone and no event came: ask the engine at most this often (ms, default 1000) */
  recheckMs?: number;
}): ContainerFollower {
  const { docker, proc, tracker, scope, container, logger } = input;
  const recheckMs = input.recheckMs ?? 1000;
  const short = container.id.slice(0, 12);
  let state: ContainerState['state'] = 'running';
  let initPid = input.initPid;
  let initStart = proc.stat(initPid)?.startTicks;
  let restarts = 0;
  let reason: string | undefined;
  let exitCode: string | undefined;
  /** an event asked for an inspect (done at the next poll, even when one is running: then after it) */
  let asked = false;
  let inflight: Promise<void> | undefined;
  let lastInspect = 0;
  let warned = false;
  const pending: Observation[] = [];
  let markRemoved: () => void = () => undefined;
  const removed = new Promise<void>((resolve) => (markRemoved = resolve));

  const anchorAlive = (): boolean =>
    initStart !== undefined &&
    (tracker.processes().get(initPid)?.startTicks === initStart || proc.stat(initPid)?.startTicks === initStart);

  const inspect = async (): Promise<void> => {
    let info;
    try {
      info = await docker.inspectContainer(container.id);
      warned = false;
    } catch (error) {
      if (error instanceof EnvironmentError && error.code === 'NOT_FOUND') return gone();
      if (!warned) logger.warn(`container ${container.name}: cannot ask the engine about it: ${String(error)}`);
      warned = true;
      return;
    }
    if (state === 'removed') return;
    const pid = info.State.Running ? info.State.Pid : 0;
    if (pid <= 0) {
      // stopped, or restarting (a restart policy waiting): no init to read the sockets through
      if (state === 'running') logger.warn(`container ${container.name} is not running (${info.State.Status})`);
      state = 'stopped';
      reason = `container ${container.name} is ${info.State.Status}${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}`;
      scope.reanchor(undefined);
      return;
    }
    const start = proc.stat(pid)?.startTicks;
    // the engine has not yet noticed that its init died (the die event or the recheck asks again)
    if (start === undefined) return;
    if (state === 'running' && pid === initPid && start === initStart) return;
    const previous = initPid;
    initPid = pid;
    initStart = start;
    state = 'running';
    reason = undefined;
    exitCode = undefined;
    restarts++;
    scope.reanchor(pid);
    logger.info(`container ${container.name} restarted: init pid ${previous} → ${pid}; following it`);
    pending.push({
      type: 'docker',
      action: 'restart',
      container: short,
      detail: `init pid ${previous} → ${pid}`,
      initPid: pid,
      previousInitPid: previous,
    });
  };

  const gone = (): void => {
    if (state === 'removed') return;
    state = 'removed';
    reason = `container ${container.name} was removed`;
    scope.reanchor(undefined);
    logger.warn(`${reason}: nothing left to watch`);
    pending.push({ type: 'docker', action: 'removed', container: short });
    markRemoved();
  };

  const run = (nowMs: number): void => {
    asked = false;
    lastInspect = nowMs;
    inflight = inspect().finally(() => (inflight = undefined));
  };

  return {
    name: 'container',
    removed,
    state: () => ({
      id: container.id,
      name: container.name,
      state,
      initPid: state === 'running' ? initPid : undefined,
      restarts,
      reason,
    }),
    onChange(change) {
      if (change.kind === 'observe' && change.action === 'exec') return;
      if (change.kind === 'observe' && change.action === 'die') exitCode = change.detail;
      asked = true;
    },
    poll(nowMs) {
      if (state !== 'removed' && inflight === undefined) {
        if (asked) run(nowMs);
        else if (state === 'running' && nowMs - lastInspect >= recheckMs && !anchorAlive()) run(nowMs);
        // stopped: a start is normally an event; should the stream have ended, ask now and then
        else if (state === 'stopped' && nowMs - lastInspect >= 5 * recheckMs) run(nowMs);
      }
      return pending.splice(0);
    },
  };
}
