import type { Logger } from '../../../shared/logging/index.ts';
import type { ProcFs } from '../proc/index.ts';
import { openProcConnector, type ProcEventStream } from './open-socket.ts';
import { createSnapshotStore, type ProcConnectorStats } from './snapshot-store.ts';
import { snapshotView } from './snapshot-view.ts';
import type { ProcEvent } from './wire.ts';

/**
 * The kernel proc connector (host mode): a netlink socket (NETLINK_CONNECTOR, group CN_IDX_PROC) on which the
 * kernel reports every fork, exec, uid change, ptrace and exit, so no short-lived process is missed the way a
 * /proc poller misses it. Works only in the host's PID and network namespaces, with CAP_NET_ADMIN; elsewhere
 * it reports why and the caller polls /proc instead.
 *
 * It plugs into the watcher's one pipeline instead of running a parallel one: `view()` is a `ProcFs` for the
 * process tracker. On each exec the socket thread (socket-thread.ts, real-time priority when allowed) reads the
 * new process's /proc entries at once (a snapshot, snapshot-store.ts); the view (snapshot-view.ts) lists those
 * PIDs on the tracker's next tick even if they are already gone, and answers from the snapshot what /proc no
 * longer has. The tracker, scopes, rules and outputs are unchanged.
 */
export interface ProcConnector {
  /** 'proc-connector' when kernel events flow, else 'proc-poll' (with `reason`). */
  readonly mode: 'proc-connector' | 'proc-poll';
  readonly reason: string | undefined;
  /** scheduling of the connector's socket thread; undefined when polling */
  readonly readerPriority: string | undefined;
  readonly stats: ProcConnectorStats;
  /** A ProcFs for one process tracker: /proc plus every exec'd PID since this view's last listing. */
  view(): ProcFs;
  /**
   * Called after each exec snapshot of an interesting process (a watcher can tick at once instead of waiting
   * for its next period: lower detection latency); returns an unsubscribe function.
   */
  onSnapshot(listener: (pid: number) => void): () => void;
  /** Subscribes to raw events (e.g. for uid changes or benchmarks); returns an unsubscribe function. */
  onEvent(listener: (event: ProcEvent, receivedAtMs: number) => void): () => void;
  close(): void;
}

export interface ProcConnectorOptions {
  proc: ProcFs;
  logger: Logger;
  /** Snapshots older than this are forgotten (default 30 s). */
  retainMs?: number;
  /** Set false to skip the kernel socket (e.g. `--no-proc-connector`): polling only. */
  enabled?: boolean;
  /** The socket opener; default `openProcConnector` (a test passes a failing one to exercise the fallback). */
  open?: typeof openProcConnector;
  /**
   * Which exec'd processes are worth a snapshot, decided from their cgroup text (host agent: only
   * processes in a container). Default: all. Saves the reads for host processes nobody watches.
   */
  interesting?: (cgroup: string | undefined) => boolean;
  now?: () => number;
}

/** Opens the connector when it can, else falls back to plain polling of `proc`; never throws for that. */
export async function createProcConnector(options: ProcConnectorOptions): Promise<ProcConnector> {
  const { proc, logger } = options;
  const store = createSnapshotStore({
    proc,
    retainMs: options.retainMs ?? 30_000,
    interesting: options.interesting,
    now: options.now ?? Date.now,
  });
  let stream: ProcEventStream | undefined;
  let reason: string | undefined;
  if (options.enabled === false) reason = 'disabled by configuration';
  else {
    try {
      stream = await (options.open ?? openProcConnector)({
        onEvents: (events, skipped, reads) => store.onEvents(events, skipped, reads),
        procRoot: proc.root,
        onError: (error) => {
          store.stats.errors++;
          logger.warn('proc connector socket error (events may have been dropped)', { error: error.message });
        },
      });
    } catch (error) {
      reason = `kernel proc connector unavailable: ${error instanceof Error ? error.message : String(error)}`;
      logger.warn(`${reason}; falling back to /proc polling (short-lived processes can be missed)`);
    }
  }
  return {
    get mode() {
      return stream === undefined ? 'proc-poll' : 'proc-connector';
    },
    reason,
    get readerPriority() {
      return stream?.priority;
    },
    stats: store.stats,
    view: () => (stream === undefined ? proc : snapshotView(proc, store)),
    onEvent: (listener) => store.onEvent(listener),
    onSnapshot: (listener) => store.onSnapshot(listener),
    close() {
      stream?.close();
      stream = undefined;
      store.clear();
    },
  };
}
