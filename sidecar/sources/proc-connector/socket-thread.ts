import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type * as Netlink from 'netlink';
import type { RawExecRead, SocketThreadData, ThreadCommand, ThreadMessage } from './messages.ts';
import {
  CN_IDX_PROC,
  listenMessage,
  NETLINK_CONNECTOR,
  parseProcEvents,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
} from './wire.ts';

/**
 * The entry of the proc connector's socket thread (a worker of its own; see open-socket.ts for how it is started
 * from the sources and from the bundle). It owns the netlink socket, so the kernel's exec events are read, and
 * the new process's /proc entries with them, while the main thread is busy (a tick, rules, outputs): a 1 ms
 * program is gone a millisecond after its exec, and a main thread that answers a few milliseconds late reads
 * nothing. It reads in the order the kernel takes things away at exit: the exe link and argv (the memory map)
 * first, then what a zombie keeps.
 */
const port = parentPort;
const data = workerData as SocketThreadData;
if (port) run(port, data);

function run(main: NonNullable<typeof parentPort>, input: SocketThreadData): void {
  const post = (message: ThreadMessage): void => main.postMessage(message);
  const { RawNetlinkSocket: Socket } = createRequire(input.netlink)(input.netlink) as typeof Netlink;
  let socket: Netlink.RawNetlinkSocket | undefined;
  try {
    socket = new Socket(NETLINK_CONNECTOR, {
      recvBufferSize: 8 * 1024 * 1024,
      sendBufferSize: 64 * 1024,
      messagePeeking: false,
      msgBufferSize: 4096,
    });
    socket.addMembership(CN_IDX_PROC);
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    socket?.close();
    return;
  }
  const open = socket;
  const priority = createPriority(post);
  const request = (op: number): Buffer => listenMessage(open.address().port, op);
  /**
   * The kernel acks the listen request at once, or never (not in the host's PID namespace). That wait is timed
   * here, from the request, and not by the main thread from the thread's start: on a busy host the main thread
   * runs late, so its timer fired before it took the ack and the watcher fell back to polling needlessly.
   */
  let awaitingAck: NodeJS.Timeout | undefined;
  open.on('message', (buf) => {
    priority.pace();
    const { events, skipped } = parseProcEvents(buf);
    if (awaitingAck !== undefined && events.some((e) => e.what === 'ack')) {
      clearTimeout(awaitingAck);
      awaitingAck = undefined;
    }
    const reads: RawExecRead[] = [];
    if (input.procRoot !== undefined)
      for (const event of events) if (event.what === 'exec') reads.push(readProcess(input.procRoot, event.tgid));
    post({ type: 'events', events, skipped, reads });
  });
  open.on('truncatedMessage', () => post({ type: 'truncated' }));
  open.on('error', (error) => post({ type: 'error', message: error.message }));
  main.on('message', (command: ThreadCommand) => {
    if (command.type !== 'close') return;
    clearTimeout(awaitingAck);
    try {
      open.send(request(PROC_CN_MCAST_IGNORE), { port: 0 });
    } catch {
      // closing anyway
    }
    open.close();
    main.close();
  });
  open.send(request(PROC_CN_MCAST_LISTEN), { port: 0 }, (error) => {
    if (error) return post({ type: 'failed', message: error.message });
    awaitingAck = setTimeout(
      () => post({ type: 'failed', message: `no acknowledgement from the proc connector within ${ACK_WAIT_MS} ms` }),
      ACK_WAIT_MS,
    );
    post({ type: 'sent', priority: priority.current() });
  });
}

/** How long the kernel's ack of the listen request is waited for. */
const ACK_WAIT_MS = 1000;

/** What /proc still holds of an exec'd process, most perishable first. */
function readProcess(root: string, tgid: number): RawExecRead {
  const dir = `${root}/${tgid}/`;
  const r: RawExecRead = { tgid };
  r.exe = link(`${dir}exe`);
  try {
    r.cmdline = readFileSync(`${dir}cmdline`);
  } catch {
    // gone
  }
  if (r.exe !== undefined) {
    try {
      const st = statSync(`${dir}exe`);
      r.exeStat = {
        dev: st.dev,
        ino: st.ino,
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        size: st.size,
        mtimeMs: st.mtimeMs,
      };
    } catch {
      // gone
    }
  }
  r.stat = text(`${dir}stat`);
  if (r.stat === undefined) return r;
  r.cgroup = text(`${dir}cgroup`);
  r.status = text(`${dir}status`);
  r.cwd = link(`${dir}cwd`);
  try {
    const fds: [number, string][] = [];
    for (const name of readdirSync(`${dir}fd`)) {
      const target = link(`${dir}fd/${name}`);
      if (target !== undefined && /^\d+$/.test(name)) fds.push([Number(name), target]);
    }
    r.fds = fds;
  } catch {
    // gone
  }
  return r;
}

function text(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

function link(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Scheduling: a reader that wakes a millisecond late on a busy host finds a 1 ms program gone. Real-time
 * (SCHED_FIFO, lowest priority, through util-linux chrt; needs CAP_SYS_NICE) when it can, else nice -20, else
 * as is. Over 5000 execs in a second (a fork storm) it steps down to nice -20 so it cannot hog a core.
 */
function createPriority(post: (message: ThreadMessage) => void): { current(): string; pace(): void } {
  const tid = link('/proc/thread-self')?.split('/').pop();
  const nice = (): string => {
    try {
      setPriority(Number(tid), -20);
      return 'nice -20';
    } catch {
      return 'normal';
    }
  };
  let priority = 'normal';
  if (tid !== undefined) {
    try {
      execFileSync('chrt', ['-f', '-p', '1', tid], { stdio: 'ignore', timeout: 2000 });
      priority = 'SCHED_FIFO 1';
    } catch {
      priority = nice();
    }
  }
  let windowStart = Date.now();
  let inWindow = 0;
  return {
    current: () => priority,
    pace() {
      if (priority !== 'SCHED_FIFO 1' || ++inWindow < 5000) return;
      const now = Date.now();
      if (now - windowStart < 1000 && tid !== undefined) {
        try {
          execFileSync('chrt', ['-o', '-p', '0', tid], { stdio: 'ignore', timeout: 2000 });
        } catch {
          // stays as it is
        }
        priority = `${nice()} (SCHED_FIFO dropped: over 5000 execs in a second)`;
        post({ type: 'priority', priority });
      }
      windowStart = now;
      inWindow = 0;
    },
  };
}
