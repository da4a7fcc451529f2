// Host mode (kernel proc connector + /proc) against sidecar mode (/proc polling only) on the same workload:
// catch rate of processes that live 1 ms, 10 ms and 100 ms, detection latency (exec → process-start
// observation in the watcher's tracker, p50/p99), and CPU and RSS of each watcher.
// Each mode runs the watcher's own process tracker (default 100 ms tick) in a worker process of its own, so
// CPU and RSS are its alone. The reference (every exec of the workload and its kernel timestamp) comes from a
// separate proc connector in this process; exec timestamps and observation times are both CLOCK_MONOTONIC.
// Needs the host PID and network namespaces and CAP_NET_ADMIN (root on the host); skips otherwise.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../shared/logging/index.ts';
import { createProcConnector, openProcConnector, type ProcEvent } from '../sidecar/sources/proc-connector/index.ts';
import { createHashCache, createProcessTracker, treeScope } from '../sidecar/sources/index.ts';
import { createProcFs } from '../sidecar/sources/proc/index.ts';
import { figure, percentile, report } from './lib/report.ts';

type Mode = 'host' | 'sidecar';
interface WorkerResult {
  /** pid, observation time (hrtime ns), and whether the program's exe link was read (full details) */
  observed: [number, string, boolean][];
  cpuMs: number;
  wallMs: number;
  rssMiB: number;
  execSource: string;
}

const TICK = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function worker(mode: Mode): Promise<void> {
  const proc = createProcFs('/proc');
  const connector = mode === 'host' ? await createProcConnector({ proc, logger: silentLogger() }) : undefined;
  const view = connector?.view() ?? proc;
  let tracker: ReturnType<typeof createProcessTracker> | undefined;
  const observed = new Map<number, { at: bigint; full: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  let cpu0 = process.cpuUsage();
  let wall0 = Date.now();
  let peakRss = 0;
  const tick = (): void => {
    for (const o of tracker?.tick(Date.now()) ?? [])
      if (o.type === 'process-start' && !observed.has(o.process.pid))
        observed.set(o.process.pid, {
          at: process.hrtime.bigint(),
          full: o.process.exe !== undefined && o.process.args.length > 0,
        });
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  process.on('message', (msg: { start?: number; stop?: boolean }) => {
    if (msg.start !== undefined) {
      tracker = createProcessTracker({
        proc: view,
        scope: treeScope(msg.start),
        hashes: createHashCache(view),
        logger: silentLogger(),
        countGaps: false,
      });
      cpu0 = process.cpuUsage();
      wall0 = Date.now();
      tick();
      timer = setInterval(tick, TICK);
      // Like the host agent: an exec snapshot triggers a tick 5 ms later (one per burst).
      let soon: NodeJS.Timeout | undefined;
      connector?.onSnapshot(() => {
        soon ??= setTimeout(() => {
          soon = undefined;
          tick();
        }, 5);
      });
      process.send!('started');
    }
    if (msg.stop) {
      clearInterval(timer);
      tick();
      const cpu = process.cpuUsage(cpu0);
      const result: WorkerResult = {
        observed: [...observed].map(([pid, o]) => [pid, o.at.toString(), o.full]),
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: Date.now() - wall0,
        rssMiB: peakRss / 1048576,
        execSource: connector?.mode ?? 'proc-poll',
      };
      connector?.close();
      process.send!(result, () => process.exit(0));
    }
  });
  process.send!('ready');
}

/** Runs the workload once with one watcher mode; returns catch rate, latencies and the worker's cost. */
async function measure(
  mode: Mode,
  command: string,
  count: number,
): Promise<{
  caught: number;
  partial: number;
  execs: number;
  latencies: number[];
  cpuPercent: number;
  rssMiB: number;
  source: string;
}> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['worker', mode], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  await next<string>();

  // The reference: every fork of the workload shell and every exec of its children, with kernel timestamps.
  let shellPid = -1;
  const children = new Set<number>();
  const execs = new Map<number, bigint>();
  const reference = await createProcConnector({ proc: createProcFs('/proc'), logger: silentLogger() });
  reference.onEvent((e: ProcEvent) => {
    if (e.what === 'fork' && e.parentTgid === shellPid && e.childPid === e.childTgid) children.add(e.childTgid);
    if (e.what === 'exec' && children.has(e.tgid)) execs.set(e.tgid, e.timestampNs);
  });

  // Wait for the worker's first look at the shell, then run `count` processes one after another.
  const script = `read go; i=0; while [ $i -lt ${count} ]; do ${command}; i=$((i+1)); done`;
  const shell = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
  shellPid = shell.pid!;
  child.send({ start: shellPid });
  await next<string>();
  await sleep(2 * TICK);
  shell.stdin.end('go\n');
  await new Promise((resolve) => shell.once('exit', resolve));
  await sleep(3 * TICK);
  const started = next<WorkerResult>();
  child.send({ stop: true });
  const result = await started;
  reference.close();

  const observed = new Map(result.observed.map(([pid, ns, full]) => [pid, { at: BigInt(ns), full }]));
  const latencies: number[] = [];
  let caught = 0;
  let partial = 0;
  for (const [pid, execNs] of execs) {
    const o = observed.get(pid);
    if (o === undefined) continue;
    if (!o.full) {
      partial++;
      continue;
    }
    caught++;
    latencies.push(Number(o.at - execNs) / 1e6);
  }
  return {
    caught,
    partial,
    execs: execs.size,
    latencies,
    cpuPercent: (result.cpuMs / result.wallMs) * 100,
    rssMiB: result.rssMiB,
    source: result.execSource,
  };
}

async function main(): Promise<void> {
  const available = await openProcConnector({ onEvents: () => undefined, onError: () => undefined }).then(
    (s) => (s.close(), true),
    (e: unknown) => {
      console.log(`host-vs-sidecar: skipped (proc connector unavailable here: ${String(e)})`);
      return false;
    },
  );
  if (!available) return;
  const workloads = [
    { name: '1ms', command: '/bin/true', count: 300 },
    { name: '10ms', command: 'sleep 0.01', count: 200 },
    { name: '100ms', command: 'sleep 0.1', count: 50 },
  ];
  const cost = {
    host: { cpu: [] as number[], rss: [] as number[] },
    sidecar: { cpu: [] as number[], rss: [] as number[] },
  };
  const lat = { host: [] as number[], sidecar: [] as number[] };
  for (const w of workloads) {
    const host = await measure('host', w.command, w.count);
    const side = await measure('sidecar', w.command, w.count);
    if (host.source !== 'proc-connector') console.log(`host-vs-sidecar: host worker fell back to ${host.source}`);
    // Every exec reaches the kernel connector; a 1 ms process may have exited before its /proc entries are read,
    // so "caught" below counts processes that reached the tracker with their details (exe link and argv read);
    // those that reached it with only what a zombie keeps (comm, ppid, uids) are counted apart.
    figure(
      `host-vs-sidecar ${w.name}: execs reported by the kernel connector (reference socket)`,
      (100 * host.execs) / w.count,
      '%',
      '100%',
    );
    report(
      `host-vs-sidecar catch rate ${w.name} processes (${host.execs} execs; ours = host mode, baseline = sidecar mode)`,
      (100 * host.caught) / Math.max(1, host.execs),
      (100 * side.caught) / Math.max(1, side.execs),
      '%',
      'higher',
    );
    figure(
      `host-vs-sidecar ${w.name}: host mode, exec seen but only the zombie's comm/ppid/uids read (exe and argv gone)`,
      (100 * host.partial) / Math.max(1, host.execs),
      '%',
    );
    for (const m of ['host', 'sidecar'] as const) {
      const r = m === 'host' ? host : side;
      cost[m].cpu.push(r.cpuPercent);
      cost[m].rss.push(r.rssMiB);
      lat[m].push(...r.latencies);
    }
  }
  for (const p of [50, 99])
    report(
      `host-vs-sidecar detection latency p${p} (exec → tracker, caught processes)`,
      percentile(lat.host, p),
      percentile(lat.sidecar, p),
      'ms',
    );
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  report(
    'host-vs-sidecar watcher CPU during the workloads (% of one core)',
    avg(cost.host.cpu),
    avg(cost.sidecar.cpu),
    '%',
  );
  report('host-vs-sidecar watcher peak RSS', Math.max(...cost.host.rss), Math.max(...cost.sidecar.rss), 'MiB');
  figure('host-vs-sidecar catch-rate goal in host mode', 100, '%', '100% of execs seen by the kernel connector');
}

if (process.argv[2] === 'worker') await worker(process.argv[3] as Mode);
else await main();
