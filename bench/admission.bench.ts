// Admission latency: an AdmissionReview v1 for a Pod over real TLS (keep-alive, as the API server calls), seals
// read from a real docker-registry on 127.0.0.1 (basic auth). Cold: every request reads the registry (manifest,
// config, seal layer; a one-entry cache and two images alternating). Cached: the verdict by digest. Baseline:
// the same round trip to /mutate for a pod that did not opt in (TLS + JSON, no registry, no seal).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { runAdmission, type RunningAdmission } from '../admission/index.ts';
import { REPO_ROOT } from '../deploy/image/build-image.ts';
import { silentLogger } from '../shared/logging/index.ts';
import { startSealedRegistry } from '../test/harness/sealed-registry.ts';
import { figure, percentile, report } from './lib/report.ts';

const fixture = await startSealedRegistry('basic');
const dir = mkdtempSync(join(tmpdir(), 'sealwatch-admission-bench-'));
execFileSync('sh', [join(REPO_ROOT, 'deploy/kubernetes/overlays/admission/gen-certs.sh'), dir, 'IP:127.0.0.1'], {
  stdio: 'pipe',
});
const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
const agent = new Agent({ keepAlive: true, ca, maxSockets: 1 });

async function start(name: string, cache: Record<string, number>): Promise<RunningAdmission> {
  writeFileSync(join(dir, `${name}.yaml`), stringify({ registryAuth: [fixture.dockerConfig], cache }));
  return runAdmission(
    {
      configFile: join(dir, `${name}.yaml`),
      pub: [fixture.keys.pubPath],
      tlsCert: join(dir, 'tls.crt'),
      tlsKey: join(dir, 'tls.key'),
      host: '127.0.0.1',
      port: 0,
      outputs: [],
      version: 'bench',
    },
    { logger: silentLogger(), env: {}, cwd: '/', stdout: new PassThrough() },
  );
}

let uid = 0;
function post(port: number, path: string, image: string): Promise<{ ms: number; allowed: boolean }> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `bench-${++uid}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'default',
      operation: 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  });
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({
            ms: Number(process.hrtime.bigint() - t0) / 1e6,
            allowed: (JSON.parse(text) as { response: { allowed: boolean } }).response.allowed,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const cold = await start('cold', { maxEntries: 1, tagTtlSeconds: 0 });
const cached = await start('cached', {});
try {
  const images = [fixture.refs.sealed, fixture.refs.failedTests];
  await post(cold.port, '/validate', images[0]!); // TLS session and token warm-up
  const coldMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await post(cold.port, '/validate', images[i % 2]!);
    if (!r.allowed) throw new Error('a sealed image was refused');
    coldMs.push(r.ms);
  }
  const before = cold.verifier.stats.cold;
  if (before < 30) throw new Error(`the cold run hit the cache (${before} registry reads for 31 requests)`);
  await post(cached.port, '/validate', fixture.refs.sealed);
  const cachedMs: number[] = [];
  const baseMs: number[] = [];
  for (let i = 0; i < 300; i++) {
    cachedMs.push((await post(cached.port, '/validate', fixture.refs.sealed)).ms);
    baseMs.push((await post(cached.port, '/mutate', fixture.refs.sealed)).ms);
  }
  if (cached.verifier.stats.cold !== 1) throw new Error('the cached run read the registry again');
  for (const p of [50, 99]) {
    report(`admission cold (registry read) p${p}`, percentile(coldMs, p), percentile(baseMs, p), 'ms');
    report(`admission cached p${p}`, percentile(cachedMs, p), percentile(baseMs, p), 'ms');
  }
  figure('admission cached p99', percentile(cachedMs, 99), 'ms', '≤ 50 ms');
} finally {
  agent.destroy();
  await cold.close();
  await cached.close();
  await fixture.stop();
  rmSync(dir, { recursive: true, force: true });
}
