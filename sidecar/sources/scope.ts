import { containerIdFromCgroup, type ProcFs, type ProcStat } from './proc/index.ts';

/**
 * Which processes are watched. Decided once per new PID (details are read only for new PIDs).
 * - pod: every process in the (shared) PID namespace except the watcher itself;
 * - container: processes whose cgroup names the container id (host PIDs, found via Docker);
 * - tree: a process tree started by us (`-- COMMAND`): descendants of the root, or its session (the root can be
 *   given once the command is started, so the pipeline is ready before the command runs).
 */
export type Scope = PodScope | ContainerScope | TreeScope;

interface ScopeRule {
  includes(stat: ProcStat, isWatched: (pid: number) => boolean): boolean;
  /** A PID whose /proc/<pid>/net shows the watched network namespace. */
  netAnchor(): number | 'self' | undefined;
}

export interface PodScope extends ScopeRule {
  readonly kind: 'pod';
}

export interface TreeScope extends ScopeRule {
  readonly kind: 'tree';
}

/**
 * With `proc`, processes of the watcher's own container are left out too (the image's HEALTHCHECK, a
 * `docker exec` into the sidecar: not the app), known by a cgroup equal to the watcher's own; unless PID 1
 * of the namespace shares it (the watcher runs inside the app's container: the cgroup tells nothing).
 */
export function podScope(selfPid: number, proc?: ProcFs): PodScope {
  let own: string | null | undefined;
  const ownCgroup = (): string | null => {
    if (own !== undefined) return own;
    const mine = proc?.cgroup(selfPid);
    own = mine === undefined || mine === proc?.cgroup(1) ? null : mine;
    return own;
  };
  return {
    kind: 'pod',
    includes: (stat) =>
      stat.pid !== selfPid &&
      stat.ppid !== selfPid &&
      (proc === undefined || ownCgroup() === null || proc.cgroup(stat.pid) !== ownCgroup()),
    netAnchor: () => 'self',
  };
}

/**
 * `--container`: membership is by cgroup (the container id survives a restart, so the processes of a
 * restarted container are watched as they appear); the network namespace is read through the
 * container's init, which a restart replaces: `reanchor` moves to the new one (undefined while the
 * container is not running, so no socket table of an unrelated process is read).
 */
export interface ContainerScope extends ScopeRule {
  readonly kind: 'container';
  initPid(): number | undefined;
  reanchor(initPid: number | undefined): void;
}

export function containerScope(proc: ProcFs, containerId: string, initPid: number): ContainerScope {
  let anchor: number | undefined = initPid;
  return {
    kind: 'container',
    includes: (stat) => containerIdFromCgroup(proc.cgroup(stat.pid) ?? '') === containerId,
    netAnchor: () => anchor,
    initPid: () => anchor,
    reanchor: (pid) => {
      anchor = pid;
    },
  };
}

export function treeScope(
  rootPid: number | (() => number | undefined),
  rootSession?: number | (() => number | undefined),
): TreeScope {
  const root = typeof rootPid === 'function' ? rootPid : () => rootPid;
  const session = typeof rootSession === 'function' ? rootSession : () => rootSession;
  return {
    kind: 'tree',
    includes: (stat, isWatched) => {
      const s = session();
      return stat.pid === root() || isWatched(stat.ppid) || (s !== undefined && stat.session === s);
    },
    netAnchor: () => root(),
  };
}

/** Pod mode: the container id of the neighbours, from their cgroup (the first one that names one not the watcher's). */
export function podContainerIdOf(proc: ProcFs, selfPid: number): string | undefined {
  const own = containerIdFromCgroup(proc.cgroup(selfPid) ?? '');
  for (const pid of proc.listPids()) {
    if (pid === selfPid) continue;
    const id = containerIdFromCgroup(proc.cgroup(pid) ?? '');
    if (id !== undefined && id !== own) return id;
  }
  return undefined;
}
