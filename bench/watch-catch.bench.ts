// Catch rate by process lifetime and detection latency of the watcher's process source.
// Workload: a real shell starting `sleep` processes of a fixed lifetime one after another; the
// watcher's incremental tracker (tree scope, default 100 ms tick) runs in this process. Baseline: one
// full `ps -e`-style scan per tick (stat + cmdline + exe of every PID) over the same workload.
// Latency: exec of a program copied to /tmp → alert event created by the full pipeline
// (normalize → rules); start time taken just before spawn. Baseline: a real `ps -e`
// every tick looking for the same program.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../shared/logging/index.ts';
import { allRules, createRuleEngine } from '../sidecar/evaluate/index.ts';
import { normalize } from '../sidecar/normalize/index.ts';
import { createHashCache, createProcessTracker, treeScope } from '../sidecar/sources/index.ts';
import { createProcFs } from '../sidecar/sources/proc/index.ts';
import { figure, percentile, report } from './lib/report.ts';

const TICK = 100;
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'sw-bench-'));

function fullScan(match: (pid: number, args: string) => boolean): Set<number> {
  const hit = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      readFileSync(`/proc/${name}/stat`, 'latin1');
      const args = readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0/g, ' ');
      readlinkSync(`/proc/${name}/exe`);
      if (match(Number(name), args)) hit.add(Number(name));
    } catch {
      // gone
    }
  }
  return hit;
}

async function catchRate(lifetimeMs: number, count: number): Promise<{ ours: number; baseline: number }> {
  const pidFile = join(dir, `pids-${lifetimeMs}`);
  const secs = (lifetimeMs / 1000).toFixed(3);
  // a small random pause between processes so starts do not line up with ticks
  const script = `i=0; while [ $i -lt ${count} ]; do sleep ${secs} & echo $! >> ${pidFile}; wait; i=$((i+1)); done`;
  const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  const proc = createProcFs('/proc');
  const tracker = createProcessTracker({
    proc,
    scope: treeScope(child.pid!, child.pid),
    hashes: createHashCache(proc),
    logger: silentLogger(),
    countGaps: false,
  });
  const ours = new Set<number>();
  const base = new Set<number>();
  const needle = `sleep ${secs}`;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    for (const o of tracker.tick(Date.now())) {
      if (o.type === 'process-start' && o.process.name === 'sleep') ours.add(o.process.pid);
    }
    for (const pid of fullScan((_p, args) => args.trim() === needle)) base.add(pid);
    await sleepMs(TICK);
  }
  const launched = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  const rate = (seen: Set<number>) => (100 * launched.filter((p) => seen.has(p)).length) / launched.length;
  return { ours: rate(ours), baseline: rate(base) };
}

async function latency(samples: number): Promise<{ ours: number[]; baseline: number[] }> {
  const exe = join(dir, 'payload');
  copyFileSync('/bin/sleep', exe);
  const proc = createProcFs('/proc');
  const engine = createRuleEngine(allRules());
  /** A free-running ticker (as in the watcher) and payloads started at random phases of it. */
  const run = async (tick: () => number[]): Promise<number[]> => {
    const seenAt = new Map<number, number>();
    const timer = setInterval(() => {
      for (const pid of tick()) if (!seenAt.has(pid)) seenAt.set(pid, Date.now());
    }, TICK);
    const out: number[] = [];
    try {
      for (let i = 0; i < samples; i++) {
        await sleepMs(50 + Math.random() * TICK * 2);
        // exec follows spawn within a millisecond or two; /proc start times are too coarse (btime is whole seconds)
        const startMs = Date.now();
        const child = spawn(exe, ['0.5'], { stdio: 'ignore' });
        await new Promise((r) => child.once('exit', r));
        const at = seenAt.get(child.pid!);
        if (at !== undefined) out.push(at - startMs);
      }
    } finally {
      clearInterval(timer);
    }
    return out;
  };
  const tracker = createProcessTracker({
    proc,
    scope: treeScope(process.pid),
    hashes: createHashCache(proc),
    logger: silentLogger(),
    countGaps: false,
  });
  const ours = await run(() => {
    const pids: number[] = [];
    for (const o of tracker.tick(Date.now())) {
      const hits = engine.evaluate(normalize(o, { mode: 'monitor' }));
      if (o.type === 'process-start' && hits.some((h) => h.rule.id === 'exec-from-tmp')) pids.push(o.process.pid);
    }
    return pids;
  });
  const baseline = await run(() => {
    const ps = spawnSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout;
    return ps
      .split('\n')
      .filter((l) => l.includes(exe))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  });
  return { ours, baseline };
}

try {
  for (const [lifetime, count] of [
    [200, 60],
    [100, 60],
    [50, 80],
    [20, 100],
  ] as const) {
    const r = await catchRate(lifetime, count);
    report(`catch rate, processes living ${lifetime} ms (tick ${TICK} ms)`, r.ours, r.baseline, '%', 'higher');
  }
  figure('catch rate goal', 99, '%', '>= 99% at >= 200 ms');
  const l = await latency(25);
  report('detection latency p50 (exec → alert event)', percentile(l.ours, 50), percentile(l.baseline, 50), 'ms');
  report('detection latency p99 (exec → alert event)', percentile(l.ours, 99), percentile(l.baseline, 99), 'ms');
  figure('latency goal', 150, 'ms', 'p50 <= 150 ms, p99 <= 400 ms');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
