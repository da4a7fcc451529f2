import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawExecRead, SocketThreadData, ThreadCommand, ThreadMessage } from './messages.ts';
import type { ProcEvent } from './wire.ts';

/**
 * Opens the kernel proc connector in its socket thread (socket-thread.ts) and subscribes. This file and the
 * thread are the only users of the `netlink` package.
 */

/** The socket side, behind a small interface so the snapshot logic is testable on its own. */
export interface ProcEventStream {
  /** scheduling of the socket thread: 'SCHED_FIFO 1', 'nice -20' or 'normal' (no CAP_SYS_NICE) */
  readonly priority: string;
  close(): void;
}

export interface ProcEventHandlers {
  onEvents(events: ProcEvent[], skipped: number, reads?: ReadonlyMap<number, RawExecRead>): void;
  onError(error: Error): void;
  procRoot?: string;
}

/** A socket thread that has neither failed nor had its listen request acked by then is given up (a bound on a hang). */
const THREAD_START_MS = 15_000;

/** The socket thread as scripts/build.mjs writes it into dist/ (beside cli.mjs). */
export const SOCKET_THREAD_BUNDLE = 'proc-connector-thread.cjs';

/**
 * Where the socket thread's code is. Run from the bundle (dist/cli.mjs or one of its dist/chunks/), it is the
 * file scripts/build.mjs made of socket-thread.ts; run from the sources (tests, benches under tsx), socket-thread.ts
 * is compiled here by esbuild (a development dependency, present wherever the sources are) with the same options.
 */
async function socketThreadCode(): Promise<{ file: string } | { code: string }> {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) {
    const dist = basename(dirname(here)) === 'chunks' ? dirname(dirname(here)) : dirname(here);
    return { file: join(dist, SOCKET_THREAD_BUNDLE) };
  }
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(dirname(here), 'socket-thread.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text };
}

/**
 * Opens the connector (in a worker thread) and subscribes. Resolves with the stream, or rejects with the reason it
 * is not available here (not Linux, the addon does not load, EPERM outside the host namespaces, ...). With
 * `procRoot`, each exec event comes with what the socket thread read of the process at once (`reads`, by tgid).
 */
export async function openProcConnector(handlers: ProcEventHandlers): Promise<ProcEventStream> {
  if (process.platform !== 'linux') throw new Error(`the proc connector needs Linux (this is ${process.platform})`);
  const [{ Worker }, { createRequire }, thread] = await Promise.all([
    import('node:worker_threads'),
    import('node:module'),
    socketThreadCode(),
  ]);
  const workerData: SocketThreadData = {
    netlink: createRequire(import.meta.url).resolve('netlink'),
    procRoot: handlers.procRoot,
  };
  // the loader hooks of a test runner or tsx are not for this thread (plain JavaScript either way)
  const worker =
    'file' in thread
      ? new Worker(thread.file, { workerData, execArgv: [] })
      : new Worker(thread.code, { eval: true, workerData, execArgv: [] });
  // The kernel acks the listen request with a PROC_EVENT_NONE whose data is an errno (0 = ok); a missing
  // ack or a non-zero one means we will never get events (e.g. not in the initial PID namespace).
  let settled = false;
  let closed = false;
  let priority = 'normal';
  const acked = new Promise<void>((resolve, reject) => {
    // the thread times the kernel's ack itself (socket-thread.ts); this only bounds a thread that never starts
    const timer = setTimeout(
      () => fail(`the proc connector thread did not start within ${THREAD_START_MS / 1000} s`),
      THREAD_START_MS,
    );
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(message));
    };
    worker.on('message', (m: ThreadMessage) => {
      switch (m.type) {
        case 'failed':
          return fail(m.message);
        case 'error':
          return handlers.onError(new Error(m.message));
        case 'sent':
        case 'priority':
          priority = m.priority;
          return;
        case 'truncated':
          return handlers.onEvents([], 1);
        case 'events': {
          if (!settled) {
            const ack = m.events.find((e) => e.what === 'ack');
            if (ack?.what === 'ack') {
              settled = true;
              clearTimeout(timer);
              if (ack.code === 0) resolve();
              else reject(new Error(`the proc connector refused to listen (errno ${ack.code})`));
            }
          }
          const reads = m.reads.length === 0 ? undefined : new Map(m.reads.map((r) => [r.tgid, r] as const));
          if (!closed) handlers.onEvents(m.events, m.skipped, reads);
        }
      }
    });
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`the proc connector thread ended (exit ${code})`));
  });
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  /**
   * The thread closes its socket and ends by itself; it is terminated only if it has not within a second (a
   * thread stopped from outside while the addon's socket is open is what an orderly close avoids).
   */
  const close = (): Promise<void> => {
    if (!closed) {
      closed = true;
      worker.postMessage({ type: 'close' } satisfies ThreadCommand);
      const bound = setTimeout(() => void worker.terminate(), 1000);
      bound.unref();
      void ended.then(() => clearTimeout(bound));
    }
    return ended;
  };
  try {
    await acked;
  } catch (error) {
    await close();
    throw error;
  }
  return {
    get priority() {
      return priority;
    },
    close: () => void close(),
  };
}
