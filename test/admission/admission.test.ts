import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import jsonpatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runAdmission, type RunningAdmission } from '../../admission/index.ts';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { describeDocker } from '../harness/docker.ts';
import { k8sSchemaProblems } from '../harness/k8s-schema.ts';
import { startSealedRegistry, type SealedRegistry } from '../harness/sealed-registry.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { readEventsFile, waitFor } from '../harness/wait.ts';

/**
 * The admission webhook end to end with real parts: images sealed by the real seal step in a real
 * docker-registry on 127.0.0.1 (basic auth; a bearer one for imagePullSecrets), AdmissionReview v1 over
 * real TLS whose serving certificate comes from the shipped gen-certs.sh (the test trusts only its CA),
 * patched pods applied with an independent JSONPatch library and validated against the Kubernetes schemas.
 * The one fake: fake-kube-api, a stand-in for the API server's GET secret (no API server runs here).
 */
interface Review {
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
    patchType?: string;
    patch?: string;
  };
}

function post(port: number, ca: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

/** GET /metrics over TLS: each sample by its name and its labels in name order. */
function scrapeMetrics(port: number, ca: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if (res.statusCode !== 200 || !/^text\/plain/.test(res.headers['content-type'] ?? '')) {
          reject(new Error(`/metrics: HTTP ${res.statusCode} ${res.headers['content-type']}`));
          return;
        }
        const samples = new Map<string, number>();
        for (const line of text.split('\n')) {
          const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
          if (!m) continue;
          const labels = (m[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
          samples.set(labels.length ? `${m[1]}{${labels.sort().join(',')}}` : m[1]!, Number(m[3]));
        }
        resolve(samples);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let uidCounter = 0;
function review(kind: string, object: unknown, namespace = 'default', group = kind === 'Pod' ? '' : 'apps') {
  uidCounter++;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(uidCounter).padStart(12, '0')}`,
      kind: { group, version: 'v1', kind },
      resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'dev@example.com' },
      object,
    },
  };
}

const pod = (
  name: string,
  image: string,
  extra: Record<string, unknown> = {},
  labels: Record<string, string> = {},
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name, ...labels } },
  spec: { containers: [{ name: 'app', image }], ...extra },
});
const template = (image: string, init?: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: {
    ...(init !== undefined ? { initContainers: [{ name: 'init', image: init }] } : {}),
    containers: [{ name: 'app', image }],
  },
});

describeDocker('sealwatch admission (real registry, real TLS)', () => {
  let fixture: SealedRegistry;
  let bearer: TestRegistry;
  let admission: RunningAdmission;
  let dir: string;
  let ca: string;
  let eventsFile: string;
  let fakeApi: Server;
  const apiRequests: string[] = [];

  beforeAll(async () => {
    fixture = await startSealedRegistry('basic');
    bearer = await startRegistry('bearer');
    await bearer.push(fixture.localTags.sealed, 'private/app:sealed');
    dir = mkdtempSync(join(tmpdir(), 'sealwatch-admission-tls-'));
    execFileSync('sh', [join(REPO_ROOT, 'deploy/kubernetes/overlays/admission/gen-certs.sh'), dir, 'IP:127.0.0.1'], {
      stdio: 'pipe',
    });
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    eventsFile = join(dir, 'events.jsonl');

    // fake-kube-api: answers GET /api/v1/namespaces/NS/secrets/NAME for one pull Secret, over TLS, with a token
    const pullSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: 'bearer-pull', namespace: 'payments' },
      data: {
        '.dockerconfigjson': Buffer.from(
          JSON.stringify({
            auths: { [bearer.host]: { username: bearer.username, password: bearer.password } },
          }),
        ).toString('base64'),
      },
    };
    fakeApi = createHttpsServer(
      { cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) },
      (req, res) => {
        apiRequests.push(`${req.headers.authorization ?? ''} ${req.url ?? ''}`);
        if (
          req.headers.authorization !== 'Bearer sa-token' ||
          req.url !== '/api/v1/namespaces/payments/secrets/bearer-pull'
        ) {
          res.writeHead(404).end('{}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pullSecret));
      },
    );
    await new Promise<void>((r) => fakeApi.listen(0, '127.0.0.1', r));
    const apiPort = (fakeApi.address() as { port: number }).port;

    const config = {
      defaultMode: 'enforce',
      registryAuth: [fixture.dockerConfig],
      pullSecretsFromApi: true,
      budgetSeconds: 8,
      registryTimeoutSeconds: 3,
      rules: [
        { name: 'canary', selector: { matchLabels: { track: 'canary' } }, mode: 'off' },
        { name: 'team-audit', namespaces: ['team-*'], mode: 'audit' },
        { name: 'strict', namespaces: ['strict'], mode: 'enforce', gates: { requireTests: ['integration'] } },
      ],
      exemptImages: ['sealwatch/sealwatch:*'],
      inject: { image: 'sealwatch/sealwatch:0.1.0' },
    };
    writeFileSync(join(dir, 'policy.yaml'), stringify(config));
    admission = await runAdmission(
      {
        configFile: join(dir, 'policy.yaml'),
        pub: [fixture.keys.pubPath],
        tlsCert: join(dir, 'tls.crt'),
        tlsKey: join(dir, 'tls.key'),
        host: '127.0.0.1',
        port: 0,
        outputs: [`file://${eventsFile}`],
        version: '0.1.0-test',
      },
      {
        logger: silentLogger(),
        env: {},
        cwd: '/',
        stdout: new PassThrough(),
        kubernetesApi: { url: `https://127.0.0.1:${apiPort}`, token: 'sa-token', ca },
      },
    );
  }, 240_000);

  afterAll(async () => {
    await admission?.close();
    await new Promise((r) => fakeApi?.close(r));
    await bearer?.stop();
    await fixture?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const validate = async (body: unknown): Promise<Review['response']> => {
    const res = await post(admission.port, ca, '/validate', body);
    expect(res.status).toBe(200);
    const r = res.json as Review;
    expect(r.response.uid).toBe((body as { request: { uid: string } }).request.uid);
    return r.response;
  };

  it('admits a Pod whose image carries a valid seal by a trusted key', async () => {
    const r = await validate(review('Pod', pod('web', fixture.refs.sealed)));
    expect(r).toEqual({ uid: r.uid, allowed: true });
  });

  it('refuses an unsealed image with one line saying why and what to do', async () => {
    const r = await validate(review('Pod', pod('web', fixture.refs.unsealed)));
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(403);
    expect(r.status?.message).toBe(
      `sealwatch refused Pod/web in default (default: enforce): image ${fixture.refs.unsealed}: not sealed (no dev.sealwatch.seal label) (seal it in CI (sealwatch seal) and deploy the sealed tag or digest)`,
    );
  });

  it('refuses a tampered image (a layer added after sealing), with the reason', async () => {
    const r = await validate(
      review('Deployment', { metadata: { name: 'web' }, spec: { template: template(fixture.refs.tampered) } }),
    );
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toBe(
      `sealwatch refused Deployment/web in default (default: enforce): image ${fixture.refs.tampered}: 1 layer(s) were added on top of the seal layer after sealing (deploy the image exactly as sealed, or seal the new build)`,
    );
  });

  it('checks the pod templates of StatefulSet, DaemonSet, Job and CronJob, init containers included', async () => {
    const t = template(fixture.refs.sealed, fixture.refs.unsealed);
    for (const [kind, group, object] of [
      ['StatefulSet', 'apps', { metadata: { name: 'db' }, spec: { template: t } }],
      ['DaemonSet', 'apps', { metadata: { name: 'node' }, spec: { template: t } }],
      ['Job', 'batch', { metadata: { name: 'once' }, spec: { template: t } }],
      ['CronJob', 'batch', { metadata: { name: 'nightly' }, spec: { jobTemplate: { spec: { template: t } } } }],
    ] as const) {
      const r = await validate(review(kind, object, 'default', group));
      expect(r.allowed, kind).toBe(false);
      expect(r.status?.message).toContain(`refused ${kind}/${(object.metadata as { name: string }).name} in default`);
      expect(r.status?.message).toContain(`image ${fixture.refs.unsealed}: not sealed`);
    }
    const ok = await validate(
      review(
        'Job',
        { metadata: { name: 'ok' }, spec: { template: template(fixture.refs.sealed) } },
        'default',
        'batch',
      ),
    );
    expect(ok.allowed).toBe(true);
  });

  it('audit mode admits with a warning and writes an event; a label selector can turn the check off', async () => {
    const r = await validate(review('Pod', pod('api', fixture.refs.unsealed), 'team-payments'));
    expect(r.allowed).toBe(true);
    expect(r.warnings).toEqual([
      `sealwatch rule team-audit (audit): image ${fixture.refs.unsealed}: not sealed (no dev.sealwatch.seal label) (seal it in CI (sealwatch seal) and deploy the sealed tag or digest)`,
    ]);
    const event = await waitFor('the audit event', () =>
      readEventsFile(eventsFile).find((e) => e.orchestrator?.namespace === 'team-payments'),
    );
    expect(event).toMatchObject({
      event: { action: 'admission-allowed-unverified', dataset: 'sealwatch.admission' },
      sealwatch: { mode: 'audit', outcome: 'alerted', seal: { status: 'unsealed' } },
      container: { image: { name: fixture.refs.unsealed } },
      orchestrator: { resource: { name: 'api', type: 'pod' } },
    });
    const canary = await validate(review('Pod', pod('canary', fixture.refs.unsealed, {}, { track: 'canary' })));
    expect(canary).toEqual({ uid: canary.uid, allowed: true });
    const exempt = await validate(review('Pod', pod('dns', fixture.refs.unsealed), 'kube-system'));
    expect(exempt.allowed).toBe(true);
  });

  it('refuses a sealed image that fails a policy gate (a required test suite failed)', async () => {
    const r = await validate(review('Pod', pod('pay', fixture.refs.failedTests), 'strict'));
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toBe(
      `sealwatch refused Pod/pay in strict (rule strict: enforce): image ${fixture.refs.failedTests}: sealed, but policy gate --require-tests integration failed: suites matching "integration" failed (integration: 1 failed, 0 errored)`,
    );
    expect((await validate(review('Pod', pod('pay', fixture.refs.sealed), 'strict'))).allowed).toBe(true);
  });

  it('caches verdicts by digest: the same image again, by tag or digest, reads nothing from the registry', async () => {
    const cold = admission.verifier.stats.cold;
    const byDigest = `${fixture.refs.sealed.replace(/:sealed$/, '')}@${fixture.digests.sealed}`;
    for (const image of [fixture.refs.sealed, byDigest, fixture.refs.unsealed, fixture.refs.tampered]) {
      const r = await validate(review('Pod', pod('again', image)));
      expect(r.allowed).toBe(image === fixture.refs.sealed || image === byDigest);
    }
    expect(admission.verifier.stats.cold).toBe(cold);
  });

  it('reads a private registry (bearer tokens) with the pod imagePullSecrets, fetched from the API', async () => {
    const image = `${bearer.host}/private/app:sealed`;
    const without = await validate(review('Pod', pod('pay', image), 'payments'));
    expect(without.allowed).toBe(false);
    expect(without.status?.message).toContain(`registry ${bearer.url}: token endpoint refused (HTTP 401)`);
    const r = await validate(
      review('Pod', pod('pay', image, { imagePullSecrets: [{ name: 'bearer-pull' }] }), 'payments'),
    );
    expect(r.allowed).toBe(true);
    expect(apiRequests).toContain('Bearer sa-token /api/v1/namespaces/payments/secrets/bearer-pull');
    expect(bearer.tokens?.requests).toContainEqual({
      service: 'sealwatch-test-registry',
      scope: 'repository:private/app:pull',
      authorized: true,
    });
  });

  it('answers within its budget when a registry cannot be reached, refusing in enforce mode', async () => {
    const r = await validate(review('Pod', pod('gone', '127.0.0.1:9/nowhere/app:1')));
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toMatch(
      /^sealwatch refused Pod\/gone in default \(default: enforce\): registry http:\/\/127\.0\.0\.1:9: nowhere\/app:1: cannot connect \(.+\)$/,
    );
  });

  it('answers a body that is not an AdmissionReview with 400 and one line', async () => {
    const res = await post(admission.port, ca, '/validate', { kind: 'Pod' });
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^not an AdmissionReview v1: /);
    const broken = await post(admission.port, ca, '/mutate', '{"apiVersion": ');
    expect(broken.status).toBe(400);
  });

  it('/metrics counts each answer by webhook and decision, times it, and says where verdicts came from', async () => {
    const before = await scrapeMetrics(admission.port, ca);
    expect(before.get('sealwatch_build_info{node_version="' + process.version + '",version="0.1.0-test"}')).toBe(1);
    // every series is there from the start, so an alert on errors has one to watch
    expect(before.get('sealwatch_admission_reviews_total{decision="error",webhook="validate"}')).toBe(0);
    expect(before.get(`sealwatch_output_events_delivered_total{output="file://${eventsFile}"}`)).toBeGreaterThan(0);

    expect((await validate(review('Pod', pod('m1', fixture.refs.sealed)))).allowed).toBe(true);
    expect((await validate(review('Pod', pod('m2', fixture.refs.unsealed)))).allowed).toBe(false);
    expect((await post(admission.port, ca, '/validate', { kind: 'Pod' })).status).toBe(400);
    expect((await post(admission.port, ca, '/mutate', '{"apiVersion": ')).status).toBe(400);
    expect((await post(admission.port, ca, '/mutate', review('Pod', pod('m3', fixture.refs.sealed)))).status).toBe(200);
    const after = await scrapeMetrics(admission.port, ca);
    const delta = (series: string): number => (after.get(series) ?? NaN) - (before.get(series) ?? 0);
    expect({
      validateAllowed: delta('sealwatch_admission_reviews_total{decision="allowed",webhook="validate"}'),
      validateDenied: delta('sealwatch_admission_reviews_total{decision="denied",webhook="validate"}'),
      validateInvalid: delta('sealwatch_admission_reviews_total{decision="invalid",webhook="validate"}'),
      mutateInvalid: delta('sealwatch_admission_reviews_total{decision="invalid",webhook="mutate"}'),
      mutateAllowed: delta('sealwatch_admission_reviews_total{decision="allowed",webhook="mutate"}'),
      validateTimed: delta('sealwatch_admission_review_duration_seconds_count{webhook="validate"}'),
      mutateTimed: delta('sealwatch_admission_review_duration_seconds_count{webhook="mutate"}'),
      // both images were checked before: their verdicts come from the cache, the registry is not read
      fromCache: delta('sealwatch_admission_image_checks_total{source="cache"}'),
      fromRegistry: delta('sealwatch_admission_image_checks_total{source="registry"}'),
    }).toEqual({
      validateAllowed: 1,
      validateDenied: 1,
      validateInvalid: 1,
      mutateInvalid: 1,
      mutateAllowed: 1,
      validateTimed: 3,
      mutateTimed: 2,
      fromCache: 2,
      fromRegistry: 0,
    });
    // the unreachable registry of the test before is counted as a registry error
    expect(after.get('sealwatch_admission_registry_errors_total')).toBeGreaterThanOrEqual(1);
    expect(after.get('sealwatch_admission_review_duration_seconds_sum{webhook="validate"}')).toBeGreaterThan(
      before.get('sealwatch_admission_review_duration_seconds_sum{webhook="validate"}') ?? 0,
    );
  });

  describe('mutating: sidecar injection', () => {
    const mutate = async (object: unknown) => {
      const res = await post(admission.port, ca, '/mutate', review('Pod', object));
      expect(res.status).toBe(200);
      const r = (res.json as Review).response;
      expect(r.allowed).toBe(true);
      return r.patch === undefined
        ? []
        : (JSON.parse(Buffer.from(r.patch, 'base64').toString()) as jsonpatch.Operation[]);
    };

    it('injects the sidecar into an opted-in pod; the patched pod applies cleanly and validates; never twice', async () => {
      const original = pod(
        'shop',
        fixture.refs.sealed,
        { volumes: [{ name: 'data', emptyDir: {} }] },
        { 'sealwatch.dev/inject': 'true' },
      );
      const patch = await mutate(original);
      expect(jsonpatch.validate(patch, original)).toBeUndefined();
      const patched = jsonpatch.applyPatch(structuredClone(original), patch, true, false).newDocument;
      expect(await k8sSchemaProblems(patched)).toEqual([]);
      const spec = patched.spec as unknown as {
        shareProcessNamespace?: boolean;
        containers: { name: string }[];
        volumes: { name: string }[];
      };
      expect(spec.shareProcessNamespace).toBe(true);
      const sidecar = spec.containers.find((c) => c.name === 'sealwatch');
      expect(sidecar).toMatchObject({
        image: 'sealwatch/sealwatch:0.1.0',
        envFrom: [{ configMapRef: { name: 'sealwatch-sidecar' } }],
        securityContext: {
          capabilities: { drop: ['ALL'], add: ['SYS_PTRACE', 'KILL'] },
          allowPrivilegeEscalation: false,
        },
      });
      expect(spec.volumes.map((v) => v.name)).toEqual(['data', 'sealwatch-trust', 'sealwatch-spool']);
      expect((patched.metadata as unknown as { annotations: Record<string, string> }).annotations).toEqual({
        'sealwatch.dev/injected': '0.1.0-test',
      });
      // the webhook may be called again on the patched pod (reinvocationPolicy): nothing more
      expect(await mutate(patched)).toEqual([]);
      // the validating webhook runs after the mutating one: the app image is sealed, the sidecar image exempt
      expect((await validate(review('Pod', patched))).allowed).toBe(true);
    });

    it('leaves pods that did not opt in, or already carry a sealwatch container, alone', async () => {
      expect(await mutate(pod('plain', fixture.refs.sealed))).toEqual([]);
      const manual = pod('manual', fixture.refs.sealed, {}, { 'sealwatch.dev/inject': 'true' });
      (manual.spec.containers as { name: string; image: string }[]).push({ name: 'sealwatch', image: 'x' });
      expect(await mutate(manual)).toEqual([]);
      const byAnnotation = {
        ...pod('annotated', fixture.refs.sealed),
        metadata: { name: 'annotated', annotations: { 'sealwatch.dev/inject': 'true' } },
      };
      const patch = await mutate(byAnnotation);
      const patched = jsonpatch.applyPatch(structuredClone(byAnnotation), patch, true, false).newDocument;
      expect(await k8sSchemaProblems(patched)).toEqual([]);
      expect(Object.keys((patched.metadata as unknown as { annotations: Record<string, string> }).annotations)).toEqual(
        ['sealwatch.dev/inject', 'sealwatch.dev/injected'],
      );
    });
  });

  describe('verify --image and audit image, straight from the registry (no engine)', () => {
    const env = () => ({ REG_PW: fixture.registry.password });
    const creds = () => ['--username', fixture.registry.username, '--password-env', 'REG_PW'];

    it('verifies the sealed image by tag and by digest; names the digest', async () => {
      const byTag = await runCliCaptured(
        ['verify', '--image', fixture.refs.sealed, '--pub', fixture.keys.pubPath, ...creds()],
        { cwd: '/', env: env() },
      );
      expect(byTag.code, byTag.stderr).toBe(0);
      expect(byTag.stdout).toContain(`verified: ${fixture.refs.sealed}\n  digest:     ${fixture.digests.sealed}\n`);
      const pinned = `${fixture.refs.sealed.replace(/:sealed$/, '')}@${fixture.digests.sealed}`;
      const byDigest = await runCliCaptured(
        ['verify', '--image', pinned, '--pub', fixture.keys.pubPath, '--registry-auth', fixture.dockerConfig, '--json'],
        { cwd: '/' },
      );
      expect(byDigest.code, byDigest.stderr).toBe(0);
      expect(JSON.parse(byDigest.stdout)).toMatchObject({ valid: true, digest: fixture.digests.sealed });
    });

    it('refuses the unsealed and the tampered image with one line, exit 1', async () => {
      const unsealed = await runCliCaptured(
        ['verify', '--image', fixture.refs.unsealed, '--pub', fixture.keys.pubPath, ...creds()],
        { cwd: '/', env: env() },
      );
      expect(unsealed.code).toBe(1);
      expect(unsealed.stderr.trim()).toBe(
        `sealwatch: ${fixture.refs.unsealed}: not sealed (no dev.sealwatch.seal label)`,
      );
      const tampered = await runCliCaptured(
        ['verify', '--image', fixture.refs.tampered, '--pub', fixture.keys.pubPath, ...creds()],
        { cwd: '/', env: env() },
      );
      expect(tampered.code).toBe(1);
      expect(tampered.stderr.trim()).toBe(
        `sealwatch: ${fixture.refs.tampered}: 1 layer(s) were added on top of the seal layer after sealing`,
      );
    });

    it('audit image tells the story of a registry image after verifying it', async () => {
      const story = await runCliCaptured(
        ['audit', 'image', fixture.refs.failedTests, '--pub', fixture.keys.pubPath, ...creds(), '--json'],
        { cwd: '/', env: env() },
      );
      expect(story.code, story.stderr).toBe(0);
      const json = JSON.parse(story.stdout) as { verified: boolean; tests?: { failed: number } };
      expect(json.verified).toBe(true);
      const tampered = await runCliCaptured(
        ['audit', 'image', fixture.refs.tampered, '--pub', fixture.keys.pubPath, ...creds()],
        { cwd: '/', env: env() },
      );
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toContain('1 layer(s) were added on top of the seal layer after sealing');
    });
  });
});
