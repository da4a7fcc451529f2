import { readFileSync } from 'node:fs';

/** CPU time a process (all its threads) has used so far, in clock ticks (utime + stime of /proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** A process's resident memory now (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m?.[1] ?? 0) / 1024;
}
