// /proc scanning: a full scan (stat + cmdline + exe of every process, every tick) against the incremental
// scan the watcher uses (list /proc every tick, read details only for PIDs not seen before), at 100 and
// 1,000 processes. Processes are real `sleep`s started by this script and killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { medianMs, report } from './lib/report.ts';

function details(pid: string): void {
  try {
    readFileSync(`/proc/${pid}/stat`, 'latin1');
    readFileSync(`/proc/${pid}/cmdline`);
    readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // the process ended between list and read, or is not ours to read
  }
}

function listPids(): string[] {
  return readdirSync('/proc').filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57);
}

function fullScan(): void {
  for (const pid of listPids()) details(pid);
}

function incrementalScanner(): () => void {
  const seen = new Set<string>();
  return () => {
    const now = listPids();
    const alive = new Set(now);
    for (const pid of now) {
      if (!seen.has(pid)) {
        details(pid);
        seen.add(pid);
      }
    }
    for (const pid of seen) if (!alive.has(pid)) seen.delete(pid);
  };
}

async function withProcesses(count: number, fn: () => Promise<void>): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < count; i++) children.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 300));
    await fn();
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

for (const extra of [100, 1000]) {
  await withProcesses(extra, async () => {
    const total = listPids().length;
    const incremental = incrementalScanner();
    incremental(); // the first tick reads everything once; steady-state ticks are what a watcher pays
    const ours = await medianMs(50, incremental);
    const baseline = await medianMs(50, fullScan);
    report(`proc scan per tick, ${extra} extra processes (${total} in /proc)`, ours, baseline, 'ms');
  });
}
