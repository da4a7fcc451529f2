// Pod-mode seal identity at start-up, on a ~100 MB image of 10,000 files (busybox + random files, built here,
// sealed by the real `sealwatch seal`), running as a container: the root identity check (every sealed executable
// hashed through /proc/<pid>/root, then the walk for executables the seal does not hold) against the floor
// `sha256sum` of the same executables through the same root, same run. Two images: 1 file in 10 executable
// (10 MB to hash, the usual shape) and every file executable (100 MB, the worst case).
// Also: the longest the event loop was held during the check (the watcher must keep ticking meanwhile), and the
// same check run by the real watcher in the pod pattern, its progress read from /v1/status as it goes.
// The page cache is warm (the files were just written); dropping it would disturb everything else on the machine.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readSealFromRootfs, verifySeal } from '../shared/seal/index.ts';
import { generateKeyPairFiles, loadTrustedKeys } from '../shared/signing/index.ts';
import { createRootIdentityCheck, mountPointsOf } from '../sidecar/seal/root-identity.ts';
import { startContainer, removeTestContainers, testRunOwner } from '../test/harness/containers.ts';
import { run, runOk } from '../test/harness/exec.ts';
import { buildAppImage, buildNodeBaseImage, type ExtraFile } from '../test/harness/images.ts';
import { startWatcherInPod } from '../test/sidecar/pod-watcher.ts';
import { cli } from '../test/harness/seal.ts';
import { figure, medianMs, report } from './lib/report.ts';

const FILES = 10_000;
const FILE_BYTES = 10_000; // 10,000 × 10 kB ≈ 100 MB
const RUNS = 3;

async function sealedImage(everyNth: number, work: string, keyPath: string): Promise<string> {
  const sealed = `sealwatch-bench/pod-identity-${everyNth}:sealed`;
  if ((await run('docker', ['image', 'inspect', sealed])).code === 0) return sealed; // sealed by an earlier run's key
  const files: Record<string, ExtraFile> = {};
  for (let i = 0; i < FILES; i++) {
    files[`/data/${i % 100}/f${i}.bin`] = {
      content: randomBytes(FILE_BYTES),
      mode: i % everyNth === 0 ? 0o755 : 0o644,
    };
  }
  const image = await buildAppImage({ repository: `sealwatch-bench/pod-identity-${everyNth}`, files });
  const res = await cli(['seal', '--image', image, '--key', keyPath, '--tag', sealed], work);
  if (res.code !== 0) throw new Error(`seal: ${res.err}`);
  return sealed;
}

async function measure(label: string, image: string, pubPath: string): Promise<void> {
  const app = await startContainer({ image, cmd: ['sleep', '3600'] });
  try {
    const pid = await app.hostPid();
    const root = `/proc/${pid}/root`;
    const mounts = mountPointsOf(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
    const seal = verifySeal(readSealFromRootfs(root), { trustedKeys: loadTrustedKeys([pubPath]) });
    const executables = seal.inventory!.predicate.executables;
    const bytes = executables.reduce((n, e) => n + e.size, 0);
    let last = createRootIdentityCheck({ root, executables, mounts });
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const ours = await medianMs(RUNS, async () => {
      last = createRootIdentityCheck({ root, executables, mounts });
      const diffs = await last.start();
      if (diffs.length > 0) throw new Error(`unexpected differences: ${diffs[0]!.detail}`);
    });
    loop.disable();
    const p = last.progress();
    if (p.checked !== executables.length || !p.walkComplete) throw new Error(`incomplete: ${JSON.stringify(p)}`);
    const list = join(tmpdir(), `sw-bench-list-${process.pid}`);
    writeFileSync(list, executables.map((e) => `.${e.path}`).join('\0'));
    const floor = await medianMs(RUNS, () =>
      runOk('sh', ['-c', `cd ${root} && xargs -0 sha256sum < ${list} > /dev/null`]),
    );
    rmSync(list, { force: true });
    report(
      `pod identity at start, ${label} (${executables.length} executables, ${(bytes / 1e6).toFixed(0)} MB, ${p.walked} entries walked)`,
      ours,
      floor,
      'ms',
    );
    // the floor: the same measure over an idle event loop for as long, on this machine now (a busy machine
    // preempts the whole process for tens of ms whatever it runs)
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1000, ours)));
    idle.disable();
    report(
      `  event-loop delay p99 during the check, ${label}`,
      loop.percentile(99) / 1e6,
      idle.percentile(99) / 1e6,
      'ms',
    );
    report(`  event-loop delay max during the check, ${label}`, loop.max / 1e6, idle.max / 1e6, 'ms');
    figure(`  throughput, ${label}`, bytes / 1e6 / (ours / 1000), 'MB/s');
  } finally {
    await app.remove();
  }
}

/**
 * The same check as the pod's watcher runs it (dist/cli.mjs beside the app, no Docker socket): `/v1/status`
 * `seal.identity` polled while it runs, its progress printed, and the time the watcher itself measured.
 */
async function measureInPod(label: string, image: string, keysDir: string): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'sw-bench-identity-pod-'));
  const app = await startContainer({ image, cmd: ['sleep', '3600'] });
  try {
    const { watcher } = await startWatcherInPod(app, {
      nodeImage: await buildNodeBaseImage(),
      out,
      args: ['--pub', '/keys/sealwatch.pub', '--mode', 'monitor'],
      mounts: [{ host: keysDir, container: '/keys', readonly: true }],
    });
    const samples: string[] = [];
    let last: Record<string, number | string | boolean> | undefined;
    const end = Date.now() + 300_000;
    while (Date.now() < end) {
      const r = await run('docker', ['exec', app.id, 'wget', '-qO-', 'http://127.0.0.1:9464/v1/status']);
      const identity =
        r.code === 0 ? (JSON.parse(r.stdout) as { seal?: { identity?: typeof last } }).seal?.identity : undefined;
      if (identity) {
        last = identity;
        samples.push(
          `${String(identity.checked)}/${String(identity.executables)} (${(Number(identity.bytesHashed) / 1e6).toFixed(0)} MB)`,
        );
        if (identity.state === 'done') break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (last?.state !== 'done') throw new Error(`the watcher's identity check did not finish: ${JSON.stringify(last)}`);
    console.log(`  /v1/status seal.identity while it ran, ${label}: ${samples.join(' → ')}`);
    figure(`pod identity in the watcher (its own elapsedMs), ${label}`, Number(last.elapsedMs), 'ms');
    await watcher.remove();
  } finally {
    await app.remove();
    rmSync(out, { recursive: true, force: true });
  }
}

const owner = testRunOwner();
// the key is kept between runs with the sealed images it made (built once: 200 MB of random files)
const keys = join(tmpdir(), 'sealwatch-bench-pod-identity-key');
const work = mkdtempSync(join(tmpdir(), 'sw-bench-identity-'));
try {
  mkdirSync(keys, { recursive: true });
  if (!existsSync(join(keys, 'sealwatch.key'))) {
    await run('docker', ['rmi', 'sealwatch-bench/pod-identity-10:sealed', 'sealwatch-bench/pod-identity-1:sealed']);
    generateKeyPairFiles(keys);
  }
  const keyPath = join(keys, 'sealwatch.key');
  const pubPath = join(keys, 'sealwatch.pub');
  const usual = await sealedImage(10, work, keyPath);
  const worst = await sealedImage(1, work, keyPath);
  await measure('1 file in 10 executable', usual, pubPath);
  await measure('every file executable', worst, pubPath);
  await measureInPod('every file executable', worst, keys);
  // context for the figures above: on 2 shared cores, a load far over 2 stretches every wall-clock time
  figure('load average (1 min) at the end of the bench', loadavg()[0]!, 'runnable processes');
} finally {
  rmSync(work, { recursive: true, force: true });
  await removeTestContainers(owner);
}
