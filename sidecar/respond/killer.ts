import type { ProcFs } from '../sources/proc/index.ts';

/**
 * SIGKILL with a guard against PID reuse: the target must still have the start time we saw.
 * The real one signals through the kernel; tests of the respond stage can pass another.
 */
export type KillResult = { outcome: 'killed' } | { outcome: 'gone' } | { outcome: 'failed'; reason: string };

export interface Killer {
  kill(pid: number, startTicks: number | undefined): KillResult;
}

export function createKiller(proc: ProcFs, options: { protect?: readonly number[] } = {}): Killer {
  const protect = new Set(options.protect ?? []);
  return {
    kill(pid, startTicks) {
      if (protect.has(pid)) return { outcome: 'failed', reason: 'protected pid (the watcher itself)' };
      const stat = proc.stat(pid);
      if (!stat) return { outcome: 'gone' };
      if (startTicks !== undefined && stat.startTicks !== startTicks) return { outcome: 'gone' };
      try {
        process.kill(pid, 'SIGKILL');
        return { outcome: 'killed' };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') return { outcome: 'gone' };
        return { outcome: 'failed', reason: code ?? String(error) };
      }
    },
  };
}
