// Watcher overhead and fork-storm behaviour, with the real CLI (dist/cli.mjs) as a separate process.
// Overhead: the pod case. A PID + network namespace of its own (unshare --pid --net --mount-proc, lo up) holds
// N idle `sleep`s, a Node helper with 1,000 loopback TCP sockets (500 connections) and the watcher in pod mode
// (it watches every process of the namespace but its own), so the numbers do not move with whatever else the
// host runs. Measured over 30 s from /proc/<pid>/stat (CPU % of one core) and VmRSS. Baseline: a minimal
// full-scan poller (stat + cmdline + exe of every PID and the tcp tables, every 100 ms) in the same kind of
// namespace over the same workload. N = 100, then 1,000.
// Fork storm: the watcher in its own PID namespace (unshare --pid --mount-proc: the pod case), while a
// shell starts ~1,000 short processes a second for 10 s; the watcher's RSS before/after and its PID-gap
// count come from its own API on 127.0.0.1.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuTicks, rssMiB } from './lib/proc-usage.ts';
import { figure, report } from './lib/report.ts';

const REPO = resolve(import.meta.dirname, '..');
// SEALWATCH_BENCH_CLI: another build's cli.mjs, to compare two versions on the same machine state
const CLI = process.env.SEALWATCH_BENCH_CLI ?? join(REPO, 'dist/cli.mjs');
// outside /tmp: the namespaces below get empty /tmp, /var/tmp and /dev/shm of their own, as a pod's app has (the
// watcher's setuid scan walks them; the host's /tmp, crowded by test runs, is not what a sidecar sees)
const dir = mkdtempSync(join(existsSync('/run') ? '/run' : tmpdir(), 'sw-load-'));
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SOCKETS = `
const net = require('node:net');
const server = net.createServer((s) => { s.on('error', () => {}); });
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  for (let i = 0; i < 500; i++) net.connect(port, '127.0.0.1').on('error', () => {});
});
setInterval(() => {}, 1e6);
`;

const BASELINE = `
const fs = require('node:fs');
setInterval(() => {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(p)) continue;
    try { fs.readFileSync('/proc/' + p + '/stat', 'latin1'); fs.readFileSync('/proc/' + p + '/cmdline'); fs.readlinkSync('/proc/' + p + '/exe'); } catch {}
  }
  for (const t of ['tcp', 'tcp6', 'udp', 'udp6']) { try { fs.readFileSync('/proc/net/' + t, 'latin1'); } catch {} }
}, 100);
`;
writeFileSync(join(dir, 'sockets.cjs'), SOCKETS);
writeFileSync(join(dir, 'baseline.cjs'), BASELINE);

async function measure(pid: number, seconds: number): Promise<{ cpu: number; rss: number }> {
  await sleepMs(8000); // warm-up: first full read of every process, exe hashes, the JIT compiling the hot paths
  const t0 = cpuTicks(pid);
  await sleepMs(seconds * 1000);
  const cpu = ((cpuTicks(pid) - t0) / 100 / seconds) * 100;
  return { cpu, rss: rssMiB(pid) };
}

function workload(n: number): string {
  return `i=0; while [ $i -lt ${n} ]; do sleep 600 & i=$((i+1)); done; ${process.execPath} ${join(dir, 'sockets.cjs')} &`;
}

/** `command` next to the workload in a fresh PID + network namespace; resolves to its host PID and a stop function. */
async function inNamespace(n: number, command: string, marker: string): Promise<{ pid: number; stop: () => void }> {
  const ns = spawn(
    'unshare',
    [
      '--pid',
      '--net',
      '--fork',
      '--mount-proc',
      '/bin/sh',
      '-c',
      `ip link set lo up; for d in /tmp /var/tmp /dev/shm; do mount -t tmpfs tmpfs $d; done; ${workload(n)} ${command} & wait`,
    ],
    { stdio: 'ignore', detached: true },
  );
  const stop = (): void => {
    try {
      process.kill(-ns.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  for (let i = 0; i < 100; i++) {
    await sleepMs(100);
    // the process itself, not the shells whose command lines also name the marker
    const found = run('pgrep', ['-f', `^${process.execPath} .*${marker}`]);
    const pid = found.stdout
      .split('\n')
      .map(Number)
      .find((p) => p > 0);
    if (pid !== undefined) return { pid, stop };
  }
  stop();
  throw new Error(`no process matching ${marker} started in the namespace`);
}

async function overhead(n: number, nodeFlags: readonly string[] = []): Promise<void> {
  const events = join(dir, `events-${n}-${nodeFlags.length}.jsonl`);
  const watcher = await inNamespace(
    n,
    `${process.execPath} ${nodeFlags.join(' ')} ${CLI} watch --output file://${events}`,
    events,
  );
  const ours = await measure(watcher.pid, 30);
  watcher.stop();
  const baseScript = join(dir, 'baseline.cjs');
  const base = await inNamespace(n, `${process.execPath} ${baseScript}`, baseScript);
  const baseline = await measure(base.pid, 30);
  base.stop();
  const how = nodeFlags.length > 0 ? ` (node ${nodeFlags.join(' ')})` : '';
  report(`overhead CPU, ${n} idle processes + 1,000 sockets${how}`, ours.cpu, baseline.cpu, '% of one core');
  report(`overhead RSS, ${n} idle processes + 1,000 sockets${how}`, ours.rss, baseline.rss, 'MiB');
}

async function forkStorm(): Promise<void> {
  const port = 19464 + Math.floor(Math.random() * 500);
  const storm =
    'n=0; while [ $n -lt 10 ]; do i=0; while [ $i -lt 1000 ]; do /bin/true & i=$((i+1)); done; wait; n=$((n+1)); sleep 0.2; done';
  const script = `${process.execPath} ${CLI} watch --listen 127.0.0.1:${port} --output file://${join(dir, 'storm.jsonl')} & W=$!; read go; (${storm}); echo stormed; read stop; kill $W; wait $W`;
  const ns = spawn('unshare', ['--pid', '--fork', '--mount-proc', '/bin/sh', '-c', script], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const lines: string[] = [];
  ns.stdout.on('data', (c: Buffer) => lines.push(...String(c).split('\n')));
  const until = async (word: string) => {
    while (!lines.includes(word)) await sleepMs(100);
  };
  const status = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as {
      watcherRssMiB: number;
      pidGaps: number;
      processesSeen: number;
      ticks: number;
    };
  let before: Awaited<ReturnType<typeof status>> | undefined;
  while (!before) {
    await sleepMs(250);
    before = await status().catch(() => undefined);
  }
  await sleepMs(1000);
  before = await status();
  const t0 = Date.now();
  ns.stdin.write('go\n');
  await until('stormed');
  const seconds = (Date.now() - t0) / 1000;
  await sleepMs(1500);
  const after = await status();
  ns.stdin.write('stop\n');
  await new Promise((r) => ns.once('exit', r));
  figure('fork storm: processes started', 10_000, `in ${seconds.toFixed(1)} s (${Math.round(10_000 / seconds)}/s)`);
  figure('fork storm: inspected by the watcher', after.processesSeen - before.processesSeen, 'processes');
  figure('fork storm: reported as PID gaps (lived between two ticks)', after.pidGaps - before.pidGaps, 'PIDs');
  report('fork storm: watcher RSS after vs before', after.watcherRssMiB, before.watcherRssMiB, 'MiB');
  figure('fork storm: watcher alive and ticking', after.ticks > before.ticks ? 1 : 0, '(1 = yes)');
}

try {
  execFileSync(process.execPath, [join(REPO, 'scripts/build.mjs')], { stdio: 'inherit' });
  const only = process.env.SEALWATCH_BENCH_ONLY;
  if (only !== 'storm') {
    await overhead(100);
    // V8's default young generation (16 MB semi-spaces) is most of the RSS above the live heap; the
    // sealwatch image can set NODE_OPTIONS=--max-semi-space-size=2 (a flag V8 reads only at startup)
    await overhead(100, ['--max-semi-space-size=2']);
    await overhead(1000);
  }
  figure('overhead goal', 2, '% of one core', '<= 2% CPU and <= 100 MB RSS at 100 processes + 1,000 sockets');
  if (only !== 'overhead') await forkStorm();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
