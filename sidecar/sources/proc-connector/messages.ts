import type { ProcEvent } from './wire.ts';

/** What the main thread and the connector's socket thread (socket-thread.ts) say to each other. */

/** The socket thread's start-up data. */
export interface SocketThreadData {
  /** the resolved path of the `netlink` package (the thread may run from a bundle or from evaluated code) */
  netlink: string;
  /** with it, each exec'd process's /proc entries are read in the thread as its event arrives */
  procRoot?: string;
}

/**
 * What the socket thread read of an exec'd process the moment its event arrived, raw (parsed on the main
 * thread with the ProcFs parsers). Anything the process no longer had is absent.
 */
export interface RawExecRead {
  tgid: number;
  exe?: string;
  cmdline?: Uint8Array;
  exeStat?: { dev: number; ino: number; mode: number; uid: number; gid: number; size: number; mtimeMs: number };
  stat?: string;
  cgroup?: string;
  status?: string;
  cwd?: string;
  fds?: [number, string][];
}

/** socket thread → main thread */
export type ThreadMessage =
  | { type: 'failed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'sent' | 'priority'; priority: string }
  | { type: 'truncated' }
  | { type: 'events'; events: ProcEvent[]; skipped: number; reads: RawExecRead[] };

/** main thread → socket thread */
export type ThreadCommand = { type: 'close' };
