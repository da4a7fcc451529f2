// Seal and verify on a ~100 MB image of 10,000 files (FROM scratch, built here).
// - seal (the real pipeline: docker save → streamed inventory with sha256 of executables → sign →
//   rewrite → docker load) against the floor `docker save IMAGE | sha256sum`, same run (goal ≤ 1.5);
// - the read-only part of seal (save + inventory, no load) against the same floor;
// - verify from the label and the seal layer (goal ≤ 100 ms once the image is local), against a
//   bare `inspect` of the image through the same engine adapter.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSeal } from '../action/run.ts';
import { openImagePass } from '../action/stamp/index.ts';
import { SealInputs } from '../action/inputs.ts';
import { createDockerClient } from '../shared/docker/index.ts';
import { verifyImageSeal } from '../shared/seal/index.ts';
import { generateKeyPairFiles } from '../shared/signing/index.ts';
import { figure, medianMs, report } from './lib/report.ts';

const IMAGE = 'sealwatch-bench/seal:100m-10k';
const SEALED = 'sealwatch-bench/seal:100m-10k-sealed';
const FILES = 10_000;
const FILE_BYTES = 10_000; // 10,000 × 10 kB ≈ 100 MB

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

function buildImage(): void {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-bench-'));
  try {
    for (let i = 0; i < FILES; i++) {
      const sub = join(dir, 'rootfs', 'data', String(i % 100));
      if (i < 100) mkdirSync(sub, { recursive: true });
      const file = join(sub, `f${i}.bin`);
      writeFileSync(file, randomBytes(FILE_BYTES));
      if (i % 10 === 0) chmodSync(file, 0o755); // 1,000 "executables" to hash
    }
    mkdirSync(join(dir, 'rootfs', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/app"]\n');
    sh(`DOCKER_BUILDKIT=0 docker build -q -t ${IMAGE} ${dir}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

buildImage();
const sizeMiB = Number(sh(`docker image inspect -f '{{.Size}}' ${IMAGE}`).trim()) / 1024 / 1024;
console.log(`image: ${IMAGE}, ${sizeMiB.toFixed(0)} MiB, ${FILES} files`);

const docker = createDockerClient();
const keyDir = mkdtempSync(join(tmpdir(), 'sealwatch-bench-key-'));
const keys = generateKeyPairFiles(keyDir);
const inputs = SealInputs.parse({ image: IMAGE, key: keys.privateKeyPath, tag: SEALED });
const deps = {
  docker,
  env: {},
  cwd: keyDir,
  git: {},
  now: () => new Date(),
  toolVersion: 'bench',
};

try {
  const floor = await medianMs(3, () => sh(`docker save ${IMAGE} | sha256sum`));
  const readOnly = await medianMs(3, async () => {
    const pass = await openImagePass(docker, IMAGE, { load: false });
    await pass.read();
    await pass.abort('bench: read only');
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const rssBefore = process.memoryUsage().rss;
  const seal = await medianMs(3, () => runSeal(inputs, deps));
  clearInterval(sampler);
  report('seal 100 MB / 10k files (save+inventory+sign+load) vs docker save | sha256sum', seal, floor, 'ms');
  figure(
    'seal peak RSS growth while sealing a ~100 MB image',
    (peakRss - rssBefore) / 1024 / 1024,
    'MiB',
    'well under the image size (streamed)',
  );
  report('seal read pass only (save+inventory, no load) vs docker save | sha256sum', readOnly, floor, 'ms');

  const pub = keys.publicKeyPath;
  const { readFileSync } = await import('node:fs');
  const trusted = [readFileSync(pub, 'utf8')];
  await verifyImageSeal(docker, SEALED, trusted); // warm
  const verify = await medianMs(7, () => verifyImageSeal(docker, SEALED, trusted));
  const inspect = await medianMs(7, () => docker.inspectImage(SEALED));
  report('verify from label + seal layer vs engine inspect alone', verify, inspect, 'ms');
  figure('verify time', verify, 'ms', '≤ 100 ms after the image is local');
} finally {
  spawnSync('docker', ['rmi', '-f', SEALED], { stdio: 'ignore' });
  rmSync(keyDir, { recursive: true, force: true });
}
