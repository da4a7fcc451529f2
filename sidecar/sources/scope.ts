import { containerIdFromCgroup, type ProcFs, type ProcStat } from './proc/index.ts';

/**
 * Which processes are watched. Decided once per new PID (details are read only for new PIDs).
 * - pod: every process in the (shared) PID namespace except the watcher itself;
 * - container: processes whose cgroup names the container id (host PIDs, found via Docker);
 * - tree: a process tree started by us (`-- COMMAND`): descendants of the root, or its session.
 */
export interface Scope {
  readonly kind: 'pod' | 'container' | 'tree';
  includes(stat: ProcStat, isWatched: (pid: number) => boolean): boolean;
  /** A PID whose /proc/<pid>/net shows the watched network namespace. */
  netAnchor(): number | 'self' | undefined;
}

export function podScope(selfPid: number): Scope {
  return {
    kind: 'pod',
    includes: (stat) => stat.pid !== selfPid && stat.ppid !== selfPid,
    netAnchor: () => 'self',
  };
}

export function containerScope(proc: ProcFs, containerId: string, initPid: number): Scope {
  return {
    kind: 'container',
    includes: (stat) => containerIdFromCgroup(proc.cgroup(stat.pid) ?? '') === containerId,
    netAnchor: () => initPid,
  };
}

export function treeScope(rootPid: number, rootSession?: number): Scope {
  return {
    kind: 'tree',
    includes: (stat, isWatched) =>
      stat.pid === rootPid || isWatched(stat.ppid) || (rootSession !== undefined && stat.session === rootSession),
    netAnchor: () => rootPid,
  };
}
