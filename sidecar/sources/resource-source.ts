import { CLOCK_TICKS, type ProcFs } from './proc/index.ts';
import type { ProcessTracker } from './process-tracker.ts';
import type { Source } from './types.ts';

/**
 * Memory (RSS) and CPU of the watched processes, summed for the container, every `intervalMs`
 * (default 1 s). CPU is the delta of utime+stime over wall time, in % of one core.
 */
export function createResourceSource(options: { proc: ProcFs; tracker: ProcessTracker; intervalMs?: number }): Source {
  const { proc, tracker } = options;
  const intervalMs = options.intervalMs ?? 1000;
  let last = 0;
  let lastTicks = new Map<number, number>();
  return {
    name: 'resources',
    poll(nowMs) {
      if (nowMs - last < intervalMs) return [];
      const elapsed = last === 0 ? 0 : nowMs - last;
      last = nowMs;
      let rssKiB = 0;
      let cpuDelta = 0;
      const ticks = new Map<number, number>();
      for (const info of tracker.processes().values()) {
        if (tracker.idle(info.pid)) {
          // the tracker's rescan found it has not run: CPU time and RSS are what was read last
          ticks.set(info.pid, info.cpuTicks);
          rssKiB += info.rssKiB;
          continue;
        }
        // the tracker's rescan (same period, earlier in the same tick) has usually just read it
        const stat = tracker.tickStat(info.pid) ?? proc.stat(info.pid);
        if (!stat || stat.startTicks !== info.startTicks) continue;
        const total = stat.utime + stat.stime;
        ticks.set(info.pid, total);
        cpuDelta += total - (lastTicks.get(info.pid) ?? info.cpuTicks);
        info.cpuTicks = total;
        rssKiB += stat.rssPages * 4;
        info.rssKiB = stat.rssPages * 4;
      }
      lastTicks = ticks;
      const cpuPercent = elapsed > 0 ? ((cpuDelta / CLOCK_TICKS) * 100_000) / elapsed : 0;
      return [{ type: 'resources', processCount: ticks.size, rssKiB, cpuPercent: Math.round(cpuPercent * 10) / 10 }];
    },
  };
}
