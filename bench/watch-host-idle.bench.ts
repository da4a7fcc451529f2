// The host agent's idle cost: `sealwatch watch --docker` (the real CLI, dist/cli.mjs, a process of its own, the
// kernel proc connector on) while C containers each hold P idle processes and S listening sockets with S idle
// connections, and nothing happens. Measured over 30 s after a 10 s warm-up, from /proc/<pid>/stat (CPU % of
// one core, every thread of the agent) and VmRSS. Ours and the baseline run one after the other, twice, and the
// median of each is reported.
// Baseline: SEALWATCH_BENCH_BASELINE_CLI, another build's cli.mjs (e.g. one built from the commit before a change,
// to measure before and after on the same machine state); without it, a minimal full-scan poller (stat, cmdline
// and exe of every PID, and the socket tables of each container's init, every 100 ms).
// Needs Docker and root in the host's PID and network namespaces; skips otherwise. The agent watches every
// container of the engine: other containers running meanwhile add to both sides (the line says how many).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startContainer, type TestContainer } from '../test/harness/containers.ts';
import { dockerAvailable } from '../test/harness/docker.ts';
import { buildAppImage } from '../test/harness/images.ts';
import { procConnectorUnavailable } from '../test/harness/proc-connector.ts';
import { cpuTicks, rssMiB } from './lib/proc-usage.ts';
import { figure, report } from './lib/report.ts';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist/cli.mjs');
const BASELINE_CLI = process.env.SEALWATCH_BENCH_BASELINE_CLI;
const CONTAINERS = 8;
const PROCESSES = 30;
const SOCKETS = 10;
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const POLLER = `
const fs = require('node:fs');
const inits = process.argv.slice(2);
setInterval(() => {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(p)) continue;
    try { fs.readFileSync('/proc/' + p + '/stat', 'latin1'); fs.readFileSync('/proc/' + p + '/cmdline'); fs.readlinkSync('/proc/' + p + '/exe'); } catch {}
  }
  for (const pid of inits) for (const t of ['tcp', 'tcp6', 'udp', 'udp6']) { try { fs.readFileSync('/proc/' + pid + '/net/' + t, 'latin1'); } catch {} }
}, 100);
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One watcher process: 10 s warm-up, then 30 s measured. */
async function measure(child: ChildProcess, port?: number): Promise<{ cpu: number; rss: number; watched: string }> {
  await sleepMs(10_000);
  const t0 = cpuTicks(child.pid!);
  await sleepMs(30_000);
  const cpu = ((cpuTicks(child.pid!) - t0) / 100 / 30) * 100;
  const rss = rssMiB(child.pid!);
  let watched = '';
  if (port !== undefined) {
    const status = (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as {
      containers: unknown[];
      processesWatched: number;
      execSource: string;
    };
    watched = `${status.containers.length} containers, ${status.processesWatched} processes, ${status.execSource}`;
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { cpu, rss, watched };
}

async function agent(cli: string, dir: string): Promise<{ cpu: number; rss: number; watched: string }> {
  const port = 19900 + Math.floor(Math.random() * 90);
  const child = spawn(
    process.execPath,
    [cli, 'watch', '--docker', '--listen', `127.0.0.1:${port}`, '--output', `file://${join(dir, 'events.jsonl')}`],
    { stdio: 'ignore' },
  );
  return measure(child, port);
}

async function poller(dir: string, inits: number[]): Promise<{ cpu: number; rss: number; watched: string }> {
  const script = join(dir, 'poller.cjs');
  writeFileSync(script, POLLER);
  return measure(spawn(process.execPath, [script, ...inits.map(String)], { stdio: 'ignore' }));
}

const why = !dockerAvailable() ? 'no Docker engine answers' : await procConnectorUnavailable();
if (why !== undefined) {
  console.log(`watch-host-idle: skipped (${why})`);
} else {
  execFileSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (BASELINE_CLI !== undefined && !existsSync(BASELINE_CLI)) throw new Error(`no ${BASELINE_CLI}`);
  const image = await buildAppImage({ repository: 'sealwatch-bench/host-idle-app' });
  // idle sleeps, listeners, and one idle connection to each listener, in a network namespace of its own
  const workload =
    `i=0; while [ $i -lt ${PROCESSES} ]; do sleep 3600 & i=$((i+1)); done; ` +
    `p=0; while [ $p -lt ${SOCKETS} ]; do nc -lk -p $((8000+p)) > /dev/null & p=$((p+1)); done; sleep 1; ` +
    `p=0; while [ $p -lt ${SOCKETS} ]; do sleep 3600 | nc 127.0.0.1 $((8000+p)) & p=$((p+1)); done; wait`;
  const containers: TestContainer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sw-host-idle-'));
  try {
    for (let i = 0; i < CONTAINERS; i++) containers.push(await startContainer({ image, cmd: ['sh', '-c', workload] }));
    const inits = await Promise.all(containers.map((c) => c.hostPid()));
    const ours: Awaited<ReturnType<typeof agent>>[] = [];
    const base: Awaited<ReturnType<typeof agent>>[] = [];
    for (let round = 0; round < 2; round++) {
      ours.push(await agent(CLI, dir));
      base.push(BASELINE_CLI ? await agent(BASELINE_CLI, dir) : await poller(dir, inits));
    }
    const what = `${CONTAINERS} containers x (${PROCESSES} idle processes + ${SOCKETS} listeners + ${SOCKETS} idle connections)`;
    const baseName = BASELINE_CLI ? `baseline = ${BASELINE_CLI}` : 'baseline = full-scan poller';
    report(
      `host agent idle CPU, ${what} (${baseName})`,
      median(ours.map((r) => r.cpu)),
      median(base.map((r) => r.cpu)),
      '% of one core',
    );
    report(`host agent idle RSS (${baseName})`, median(ours.map((r) => r.rss)), median(base.map((r) => r.rss)), 'MiB');
    figure(
      `host agent idle: runs of ours`,
      ours.length,
      `(${ours.map((r) => `${r.cpu.toFixed(2)}%: ${r.watched}`).join('; ')})`,
    );
    figure(
      `host agent idle: runs of the baseline`,
      base.length,
      `(${base.map((r) => `${r.cpu.toFixed(2)}%${r.watched ? `: ${r.watched}` : ''}`).join('; ')})`,
    );
  } finally {
    await Promise.all(containers.map((c) => c.remove()));
    rmSync(dir, { recursive: true, force: true });
  }
}
