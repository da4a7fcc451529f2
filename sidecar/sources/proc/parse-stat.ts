/**
 * `/proc/<pid>/stat`: `pid (comm) state ppid …`. `comm` is attacker-controlled and may hold
 * spaces, newlines and parentheses, so the record is split at the LAST `)`; everything after it
 * is space-separated numbers. A record that does not parse is rejected (undefined), never guessed.
 */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** user + system time in clock ticks */
  utime: number;
  stime: number;
  /** start time in clock ticks after boot */
  startTicks: number;
  /** resident set size in pages */
  rssPages: number;
}

const INT = /^-?\d+$/;

export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return undefined;
  const pidText = text.slice(0, open);
  if (!/^\d+$/.test(pidText)) return undefined;
  const comm = text.slice(open + 2, close);
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  // after ")": state(0) ppid(1) pgrp(2) session(3) … utime(11) stime(12) … starttime(19) vsize(20) rss(21)
  if (rest.length < 22) return undefined;
  const state = rest[0] ?? '';
  if (!/^[A-Za-z]$/.test(state)) return undefined;
  const num = (i: number): number | undefined => {
    const v = rest[i];
    return v !== undefined && INT.test(v) ? Number(v) : undefined;
  };
  const ppid = num(1);
  const pgrp = num(2);
  const session = num(3);
  const utime = num(11);
  const stime = num(12);
  const startTicks = num(19);
  const rssPages = num(21);
  if (
    ppid === undefined ||
    pgrp === undefined ||
    session === undefined ||
    utime === undefined ||
    stime === undefined ||
    startTicks === undefined ||
    rssPages === undefined
  ) {
    return undefined;
  }
  return { pid: Number(pidText), comm, state, ppid, pgrp, session, utime, stime, startTicks, rssPages };
}
