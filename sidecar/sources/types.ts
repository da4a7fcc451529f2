import type { NetSocket } from './proc/index.ts';

/**
 * What the sources observe, before normalization into events. One union, one `type` each;
 * sources never build events (normalize/ does) and never judge (evaluate/ does).
 */
export interface ProcessInfo {
  pid: number;
  /** pid in the innermost PID namespace (what the app itself sees) */
  nsPid: number;
  ppid: number;
  session: number;
  comm: string;
  /** argv[0] basename, else comm */
  name: string;
  args: string[];
  /** resolved exe path without the " (deleted)" suffix */
  exe?: string;
  exeDeleted: boolean;
  exeMemfd: boolean;
  exeSetuid: boolean;
  sha256?: string;
  cwd?: string;
  uid: number;
  euid: number;
  gid: number;
  user?: string;
  tracerPid: number;
  startTicks: number;
  /** ISO start time */
  start?: string;
  /** what fd 0 / fd 1 point to: tty, socket, pipe, file, null, none */
  stdin: FdKind;
  stdout: FdKind;
  rssKiB: number;
  cpuTicks: number;
}

export type FdKind = 'tty' | 'socket' | 'pipe' | 'file' | 'null' | 'none' | 'other';

export interface ParentInfo {
  pid: number;
  name?: string;
  exe?: string;
  args?: string[];
  euid?: number;
  /** the parent is the watcher itself (`watch -- COMMAND` starts the command): its command line is never read */
  watcher?: boolean;
}

export type Observation =
  | { type: 'process-start'; process: ProcessInfo; parent?: ParentInfo }
  | { type: 'process-exit'; process: ProcessInfo }
  | { type: 'process-uid-change'; process: ProcessInfo; fromEuid: number; toEuid: number }
  | { type: 'process-traced'; process: ProcessInfo; tracerPid: number }
  | { type: 'file-open'; process: ProcessInfo; path: string; fd: number; write: boolean }
  | { type: 'setuid-file'; path: string; mode: number }
  | FileSight
  | { type: 'connection'; socket: NetSocket; direction: 'listening' | 'ingress' | 'egress'; process?: ProcessInfo }
  | {
      /**
       * A connection the kernel reported closed (connection sight): it may have lived a millisecond. The kernel no
       * longer knows which process held it (the socket's uid is in `socket.uid`); `process` is set only when it was known.
       */
      type: 'connection-closed';
      socket: NetSocket;
      direction: 'ingress' | 'egress';
      /** TCP: the bytes the connection carried, as the kernel counted them */
      bytes?: { sent?: number; received?: number };
      process?: ProcessInfo;
      /** the name of the socket's uid, as the watched processes of that uid carry it (their root's /etc/passwd) */
      user?: string;
    }
  | {
      /** kernel notifications a sight source lost (its queue or the kernel's was full): what was not seen, counted */
      type: 'sight-lost';
      kind: 'connections' | 'files';
      count: number;
      detail: string;
    }
  | { type: 'resources'; processCount: number; rssKiB: number; cpuPercent: number }
  | { type: 'pid-gap'; missed: number; totalMissed: number }
  | {
      type: 'docker';
      action: 'exec' | 'restart' | 'oom' | 'die' | 'start' | 'removed' | 'events-interrupted';
      container: string;
      /** exec: the command; die: the exit code; restart, removed, events-interrupted: what happened, in words */
      detail?: string;
      /** restart (`--container`): the container's new init and the one it replaced (host PIDs) */
      initPid?: number;
      previousInitPid?: number;
    }
  | {
      type: 'seal';
      status: 'verified' | 'unsealed' | 'invalid' | 'unknown';
      detail?: string;
      identity?: string;
      keyHint?: string;
      source?: string;
    };

/**
 * One source, polled by the pipeline's tick; push-based sources buffer until polled. A source is made by a factory
 * in this folder and listed for the modes it serves in sidecar/pipeline/modes.ts (the one place to add it).
 */
export interface Source {
  /** how the per-mode lists and the tests name it */
  readonly name: string;
  poll(nowMs: number): Observation[];
  /** Ends what the source holds open (an event stream, a socket, a watch); called once when the pipeline closes. */
  stop?(): Promise<void>;
}

/**
 * What file sight (sources/sight/) saw happen to a file of the watched root, as the kernel reported it (inotify through
 * `/proc/<pid>/root`), with the process when it could still be found.
 * - `exec`: an executable was opened: run (or read: inotify does not tell them apart), by `process` when found;
 * - `open`: a watched file (a sensitive one) was opened;
 * - `write`: a file below a watched directory was written, created, moved in or had its mode changed;
 * - `drift`: an executable file was written or made executable that is not in the sealed inventory (`drift` says how).
 */
export interface FileSight {
  type: 'file-sight';
  kind: 'exec' | 'open' | 'write' | 'drift';
  /** the path inside the watched root */
  path: string;
  /** the inotify event: open, close-write, create, moved-to, attrib */
  change: 'open' | 'close-write' | 'create' | 'moved-to' | 'attrib';
  /** the process that did it, when it was still there to be read */
  process?: ProcessInfo;
  /** exec of a multi-call binary (busybox) by a process already gone: which applet ran is not known */
  multiCall?: boolean;
  /** drift: why the file is not the sealed one (not in the inventory, or another hash) */
  drift?: string;
  sha256?: string;
  /** file mode (drift) */
  mode?: number;
}
