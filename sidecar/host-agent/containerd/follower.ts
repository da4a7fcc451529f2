import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { ProcFs } from '../../sources/proc/index.ts';
import { IDENTIFIER, TASK_DIR, readBundle, readSmallFile, type BundleContainer } from './bundle.ts';

/**
 * Follows the running containers of a containerd through its state dir, with no client library and no call
 * into containerd: a task exists while its OCI bundle `<state>/io.containerd.runtime.v2.task/<ns>/<id>/` does,
 * and runs while the process named by its `init.pid` is alive in a cgroup that names the container's id (a pid
 * reused after the task exited is not taken for the container).
 *
 * Execs (`kubectl exec`) are seen by inotify on each followed bundle: the shim writes `<exec id>.pid` there.
 * Starts and stops are seen by inotify on the task dir and its namespace dirs (`fs.watch`), and by a rescan
 * every `rescanMs` that catches whatever the notifications missed (a queue overflow, a namespace created while
 * we were not watching it, a task that exited but was not yet deleted). A task whose bundle is still being
 * written (no init.pid yet) is looked at again soon. `rescan()` is for a hint from outside, e.g. an exec seen
 * by the proc connector in a cgroup of no known container.
 *
 * The state dir is written by containerd, but what it holds is shaped by the pods' specs: names are checked
 * against containerd's identifier rule, the number of namespaces and containers read per scan is capped, and a
 * bundle that cannot be used is counted and skipped, not fatal.
 */
export interface ContainerdFollowerOptions {
  /** containerd's state dir (`state` in its config; `/run/containerd` by default) */
  state: string;
  proc: Pick<ProcFs, 'cgroup'>;
  /** only these containerd namespaces (the kubelet's is `k8s.io`); all when absent */
  namespaces?: readonly string[];
  /** sandboxes (pause containers) are followed too when true; by default they are not reported */
  includeSandboxes?: boolean;
  rescanMs?: number;
  /** how soon a task without init.pid yet is looked at again */
  pendingMs?: number;
  maxNamespaces?: number;
  maxContainers?: number;
}

export interface ContainerdFollowerStats {
  scans: number;
  /** bundles that could not be read or used (bad init.pid, unreadable or oversized config.json, bad names) */
  skipped: number;
  /** entries beyond maxNamespaces / maxContainers in one scan */
  capped: number;
  /** annotation values dropped (wrong type or too long) */
  droppedAnnotations: number;
  /** inotify watches that could not be set or ended with an error (the rescan still covers them) */
  watchErrors: number;
}

export interface ContainerdFollowerEvents {
  onStart(container: BundleContainer): void;
  onStop(container: BundleContainer, why: 'exited' | 'deleted'): void;
  /**
   * A process started in the container by the runtime (`kubectl exec`, `crictl exec`, `ctr tasks exec`): the shim
   * writes `<exec id>.pid` into the bundle. `pid` is absent when the file was gone (or unreadable) when looked at.
   * The process may still be runc's init then: its command is there once it has exec'd (read it on a later tick).
   */
  onExec?(container: BundleContainer, exec: { id: string; pid?: number }): void;
  /** a bundle skipped (once per bundle and reason) */
  onSkip?(where: string, detail: string): void;
}

export interface ContainerdFollower {
  running(): BundleContainer[];
  /** looks at the state dir now */
  rescan(): void;
  readonly stats: Readonly<ContainerdFollowerStats>;
  close(): void;
}

export function createContainerdFollower(
  options: ContainerdFollowerOptions,
  events: ContainerdFollowerEvents,
): ContainerdFollower {
  const tasks = join(options.state, TASK_DIR);
  const maxNamespaces = options.maxNamespaces ?? 64;
  const maxContainers = options.maxContainers ?? 4096;
  const known = new Map<string, BundleContainer>();
  /** bundles skipped, by key, with the reason last reported */
  const skipped = new Map<string, string>();
  const watchers = new Map<string, FSWatcher>();
  const stats: ContainerdFollowerStats = { scans: 0, skipped: 0, capped: 0, droppedAnnotations: 0, watchErrors: 0 };
  let closed = false;
  let soon: NodeJS.Timeout | undefined;
  let pending = false;

  const schedule = (ms: number): void => {
    if (closed || soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      scan();
    }, ms);
  };

  const watchDir = (dir: string): void => {
    if (closed || watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, () => schedule(10));
      w.on('error', () => {
        stats.watchErrors++;
        w.close();
        watchers.delete(dir);
        schedule(10);
      });
      watchers.set(dir, w);
    } catch {
      stats.watchErrors++;
    }
  };

  const list = (dir: string, max: number): string[] => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    if (names.length > max) {
      stats.capped += names.length - max;
      names = names.sort().slice(0, max);
    }
    return names;
  };

  /** per followed container: the inotify watch on its bundle dir (for exec pid files) */
  const bundleWatchers = new Map<string, FSWatcher>();
  const watchExecs = (key: string, c: BundleContainer): void => {
    if (!events.onExec || bundleWatchers.has(key)) return;
    const seen = new Set<string>();
    try {
      const w = watch(c.bundle, { persistent: false }, (_type, name) => {
        const file = typeof name === 'string' ? name : undefined;
        const id = file?.endsWith('.pid') ? file.slice(0, -4) : undefined;
        if (id === undefined || id === 'init' || seen.has(id) || !IDENTIFIER.test(id) || !known.has(key)) return;
        if (seen.size >= 1024) seen.clear(); // bounded: an exec id is reported once while it is remembered
        seen.add(id);
        const read = readSmallFile(join(c.bundle, file!), 32);
        const pid = read.ok && /^[1-9]\d{0,9}$/.test(read.text.trim()) ? Number(read.text.trim()) : undefined;
        events.onExec!(c, pid === undefined ? { id } : { id, pid });
      });
      w.on('error', () => {
        stats.watchErrors++;
        w.close();
        bundleWatchers.delete(key);
      });
      bundleWatchers.set(key, w);
    } catch {
      stats.watchErrors++;
    }
  };
  const unwatchExecs = (key: string): void => {
    bundleWatchers.get(key)?.close();
    bundleWatchers.delete(key);
  };

  /** The init process is alive and its cgroup path names the container (not a reused pid). */
  const runs = (c: BundleContainer): boolean => options.proc.cgroup(c.pid)?.includes(c.id) === true;

  const skip = (key: string, detail: string): void => {
    if (skipped.get(key) === detail) return;
    skipped.set(key, detail);
    stats.skipped++;
    events.onSkip?.(key, detail);
  };

  function scan(): void {
    if (closed) return;
    stats.scans++;
    watchDir(tasks);
    const seen = new Set<string>();
    pending = false;
    let budget = maxContainers;
    const namespaces = list(tasks, maxNamespaces).filter(
      (ns) => IDENTIFIER.test(ns) && (options.namespaces === undefined || options.namespaces.includes(ns)),
    );
    for (const ns of namespaces) {
      const dir = join(tasks, ns);
      watchDir(dir);
      const ids = list(dir, budget);
      budget -= ids.length;
      for (const id of ids) {
        const key = `${ns}/${id}`;
        seen.add(key);
        const have = known.get(key);
        if (have) {
          if (!runs(have)) {
            known.delete(key);
            unwatchExecs(key);
            events.onStop(have, 'exited');
          }
          continue;
        }
        const read = readBundle(options.state, ns, id);
        if (!read.ok) {
          if (read.reason === 'pending') pending = true;
          else if (read.reason === 'invalid') skip(key, read.detail);
          continue;
        }
        const c = read.container;
        if (c.kind === 'sandbox' && !options.includeSandboxes) continue;
        if (!runs(c)) continue; // exited, not yet deleted (or its init.pid was reused)
        stats.droppedAnnotations += c.dropped.length;
        skipped.delete(key);
        known.set(key, c);
        watchExecs(key, c);
        events.onStart(c);
      }
    }
    for (const [key, c] of known) {
      if (seen.has(key)) continue;
      known.delete(key);
      unwatchExecs(key);
      events.onStop(c, 'deleted');
    }
    for (const key of skipped.keys()) if (!seen.has(key)) skipped.delete(key);
    for (const dir of watchers.keys()) {
      if (dir !== tasks && !namespaces.some((ns) => join(tasks, ns) === dir)) {
        watchers.get(dir)!.close();
        watchers.delete(dir);
      }
    }
    if (pending) schedule(options.pendingMs ?? 50);
  }

  scan();
  const timer = setInterval(scan, options.rescanMs ?? 2_000);
  timer.unref();

  return {
    running: () => [...known.values()],
    rescan: scan,
    stats,
    close: () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(soon);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      for (const w of bundleWatchers.values()) w.close();
      bundleWatchers.clear();
    },
  };
}
