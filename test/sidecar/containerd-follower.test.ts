import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import {
  containerdIdentity,
  containerdStateDir,
  createContainerdFollower,
  pingContainerd,
  readBundle,
  LIMITS,
  TASK_DIR,
  type BundleContainer,
  type ContainerdFollower,
} from '../../sidecar/host-agent/containerd/index.ts';
import {
  describeContainerd,
  alive,
  removeStaleContainerds,
  startContainerd,
  type Containerd,
  type CtrContainer,
} from '../harness/containerd.ts';
import { buildAppImage } from '../harness/images.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * Finding containerd's containers through its state dir, against a real containerd of the test's own: a pod
 * (a sandbox and two containers sharing its PID namespace, created with ctr and the kubelet's labels and
 * annotations) is found with its pod, namespace and container names; a container started later and one stopped
 * are seen without waiting for the rescan; hostile bundles (a FIFO, a symlink, an oversized or malformed spec, a
 * name too long) are skipped or cut, never block.
 */
describeContainerd('containerd follower (real containerd, OCI bundles in its state dir)', () => {
  let containerd: Containerd;
  let image: string;
  let follower: ContainerdFollower | undefined;
  const started: BundleContainer[] = [];
  const stopped: { c: BundleContainer; why: string }[] = [];
  const execs: { c: BundleContainer; id: string; pid?: number }[] = [];
  const pod = { name: 'shop-7d9f', namespace: 'payments', uid: '0f5e6c1a-1111-4c2b-9e0d-6a1e2f3a4b5c' };
  let sandbox: CtrContainer;
  let app: CtrContainer;
  let helper: CtrContainer;
  const fixtures: string[] = [];

  beforeAll(async () => {
    containerd = await startContainerd();
    image = await containerd.importImage(await buildAppImage({ repository: 'sealwatch-test/containerd' }));
    sandbox = await containerd.run({ image, cmd: ['sleep', '3600'], pod, name: 'POD', type: 'sandbox' });
    app = await containerd.run({ image, cmd: ['sleep', '3600'], pod, name: 'app', sharePidWith: sandbox });
  }, 120_000);
  afterAll(async () => {
    follower?.close();
    await containerd?.stop();
    for (const d of fixtures) rmSync(d, { recursive: true, force: true });
  });

  it('finds the pod containers with their kubelet names; the sandbox is not reported; they share one PID namespace', () => {
    follower = createContainerdFollower(
      { state: containerd.state, proc: createProcFs('/proc'), namespaces: ['k8s.io'], rescanMs: 60_000 },
      {
        onStart: (c) => started.push(c),
        onStop: (c, why) => stopped.push({ c, why }),
        onExec: (c, exec) => execs.push({ c, ...exec }),
      },
    );
    const found = follower.running();
    expect(found.map((c) => c.id)).toEqual([app.id]);
    expect(found[0]).toMatchObject({
      namespace: 'k8s.io',
      id: app.id,
      pid: app.pid,
      kind: 'container',
      containerName: 'app',
      pod,
      image,
      sandboxId: sandbox.id,
      dropped: [],
    });
    expect(readFileSync(`/proc/${app.pid}/cgroup`, 'utf8')).toContain(app.id);
    // the pod pattern: the app's processes live in the sandbox's PID namespace
    expect(readlinkSync(`/proc/${app.pid}/ns/pid`)).toBe(readlinkSync(`/proc/${sandbox.pid}/ns/pid`));
    expect(started.map((c) => c.id)).toEqual([app.id]);
  });

  it('the runtime: its socket answers, its state dir is found, a container is named as on events', async () => {
    await pingContainerd(containerd.socket);
    await expect(pingContainerd(join(containerd.dir, 'nothing.sock'))).rejects.toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: expect.stringContaining('does not answer (ENOENT)'),
    });
    // the harness keeps its state in a dir of its own, not beside the socket: found only when named
    expect(() => containerdStateDir(containerd.socket)).toThrow(/--containerd-state DIR/);
    expect(containerdStateDir(containerd.socket, containerd.state)).toBe(containerd.state);
    expect(containerdIdentity(follower!.running()[0]!)).toEqual({
      name: 'app',
      image,
      orchestrator: { type: 'kubernetes', namespace: pod.namespace, resource: { type: 'pod', name: pod.name } },
    });
  });

  it('sees a container started later and one stopped, from inotify, before any rescan', async () => {
    const scans = follower!.stats.scans;
    helper = await containerd.run({ image, cmd: ['sleep', '3600'], pod, name: 'helper', sharePidWith: sandbox });
    const seen = await waitFor('helper started', () => started.find((c) => c.id === helper.id));
    expect(seen).toMatchObject({ containerName: 'helper', pid: helper.pid, pod });
    expect(follower!.stats.scans).toBeGreaterThan(scans); // rescanMs is 60 s: the notification did it
    await helper.remove();
    const gone = await waitFor('helper stopped', () => stopped.find((s) => s.c.id === helper.id));
    expect(['exited', 'deleted']).toContain(gone.why);
    expect(follower!.running().map((c) => c.id)).toEqual([app.id]);
  });

  it('an exec by the runtime (kubectl exec → the shim) is seen with its pid, from the pid file it writes', async () => {
    await app.execDetached(['sleep', '31']);
    const exec = await waitFor('exec seen', () => execs.find((e) => e.c.id === app.id));
    expect(exec.id).toMatch(/^e\d+$/);
    expect(exec.pid).toBeGreaterThan(0);
    // the pid file is written while the process is still runc's init; the command follows at its exec
    await waitFor('the exec command', () => readFileSync(`/proc/${exec.pid}/cmdline`, 'utf8') === 'sleep\x0031\x00');
    expect(readFileSync(`/proc/${exec.pid}/cgroup`, 'utf8')).toContain(app.id);
  });

  it('a container without CRI annotations is followed with no pod; a name over the cap is dropped and counted', async () => {
    const bare = await containerd.run({ image, cmd: ['sleep', '3600'], pod, name: 'bare', kubelet: false });
    const long = await containerd.run({
      image,
      cmd: ['sleep', '3600'],
      pod,
      name: 'long',
      annotations: { 'io.kubernetes.cri.sandbox-name': 'x'.repeat(LIMITS.nameChars + 1) },
    });
    follower!.rescan();
    const byId = new Map(follower!.running().map((c) => [c.id, c]));
    expect(byId.get(bare.id)).toMatchObject({ kind: 'unknown', pid: bare.pid });
    expect(byId.get(bare.id)?.pod).toBeUndefined();
    // the over-long CRI name is dropped; the kubelet label's annotation (ctr copies labels) is the fallback
    expect(byId.get(long.id)).toMatchObject({ pod: { name: pod.name }, dropped: ['io.kubernetes.cri.sandbox-name'] });
    expect(follower!.stats.droppedAnnotations).toBeGreaterThanOrEqual(1);
    await bare.remove();
    await long.remove();
  });

  it('a task that exited but is not deleted, or whose init.pid was reused, is not running', async () => {
    const short = await containerd.run({ image, cmd: ['sleep', '3600'], pod, name: 'short' });
    follower!.rescan();
    expect(follower!.running().some((c) => c.id === short.id)).toBe(true);
    await containerd.ctr(['tasks', 'kill', '-s', 'SIGKILL', short.id]);
    await waitFor('exit seen', () => {
      follower!.rescan();
      return stopped.find((s) => s.c.id === short.id);
    });
    // the bundle is still there (not deleted): it stays stopped on the next scans
    follower!.rescan();
    expect(follower!.running().some((c) => c.id === short.id)).toBe(false);
    await short.remove();
  });

  it('hostile bundles: FIFO, symlink, oversized and malformed files are refused without blocking', () => {
    const state = mkdtempSync(join(tmpdir(), 'sw-ctrd-fixture-'));
    fixtures.push(state);
    const ns = join(state, TASK_DIR, 'k8s.io');
    const bundle = (id: string, files: Record<string, string | (() => void)>) => {
      mkdirSync(join(ns, id), { recursive: true });
      for (const [name, content] of Object.entries(files)) {
        if (typeof content === 'string') writeFileSync(join(ns, id, name), content);
        else content();
      }
    };
    const spec = JSON.stringify({ ociVersion: '1.0.2', annotations: { 'io.kubernetes.cri.sandbox-name': 'p' } });
    bundle('fifo', { 'config.json': spec, 'init.pid': () => execFileSync('mkfifo', [join(ns, 'fifo', 'init.pid')]) });
    bundle('link', {
      'init.pid': String(process.pid),
      'config.json': () => symlinkSync('/etc/passwd', join(ns, 'link', 'config.json')),
    });
    bundle('big', { 'init.pid': String(process.pid), 'config.json': `{"a":"${'x'.repeat(LIMITS.configBytes)}"}` });
    bundle('notjson', { 'init.pid': String(process.pid), 'config.json': '{' });
    bundle('badpid', { 'init.pid': '-1', 'config.json': spec });
    bundle('wrongtype', { 'init.pid': String(process.pid), 'config.json': '{"annotations": 5}' });
    bundle('pending', { 'config.json': spec });
    const reasons = Object.fromEntries(
      ['fifo', 'link', 'big', 'notjson', 'badpid', 'wrongtype', 'pending'].map((id) => {
        const r = readBundle(state, 'k8s.io', id);
        return [id, r.ok ? 'ok' : `${r.reason}: ${r.detail}`];
      }),
    );
    expect(reasons).toEqual({
      fifo: 'invalid: init.pid: not a regular file',
      link: 'invalid: config.json: ELOOP',
      big: expect.stringMatching(/^invalid: config\.json: \d+ bytes, over the \d+-byte limit$/),
      notjson: 'invalid: config.json: not JSON',
      badpid: 'invalid: init.pid: not a process id',
      wrongtype: 'invalid: config.json: not an OCI runtime spec',
      pending: 'pending: no init.pid yet',
    });
    expect(readBundle(state, 'k8s.io', '../k8s.io').ok).toBe(false);
    const skips: string[] = [];
    const f = createContainerdFollower(
      { state, proc: createProcFs('/proc'), rescanMs: 60_000 },
      { onStart: () => undefined, onStop: () => undefined, onSkip: (where) => skips.push(where) },
    );
    f.rescan(); // a skipped bundle is reported once, not on every scan
    f.close();
    expect(skips.sort()).toEqual([
      'k8s.io/badpid',
      'k8s.io/big',
      'k8s.io/fifo',
      'k8s.io/link',
      'k8s.io/notjson',
      'k8s.io/wrongtype',
    ]);
    expect(f.stats.skipped).toBe(6);
  });

  it('a run killed without cleaning up (containerd, shims and containers left) is cleaned by the next one', async () => {
    const env = { ...process.env };
    delete env.SEALWATCH_TEST_OWNER; // the script's own pid owns its containerd
    const appImage = await buildAppImage({ repository: 'sealwatch-test/containerd' });
    const child = spawn('npx', ['tsx', 'scripts/start-containerd.ts', '--image', appImage], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`start-containerd exited ${code}`)));
    });
    const left = JSON.parse(line) as { socket: string; state: string; pid: number; containers: { pid: number }[] };
    expect(left.containers).toHaveLength(2);
    // npx → tsx → node: kill the whole group, as a crash would, leaving containerd (detached) and its containers
    process.kill(-child.pid!, 'SIGKILL');
    const owner = Number(/containerd-(\d+)-/.exec(left.socket)?.[1]);
    await waitFor('the script gone', () => !alive(owner));
    expect(alive(left.pid)).toBe(true);
    expect(left.containers.every((c) => alive(c.pid))).toBe(true);
    expect(await removeStaleContainerds()).toBeGreaterThanOrEqual(1);
    expect(alive(left.pid)).toBe(false);
    expect(left.containers.some((c) => alive(c.pid))).toBe(false);
    expect(existsSync(left.state)).toBe(false);
    const shims = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((a) => a.includes(left.socket));
    expect(shims).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(left.state);
  }, 60_000);
});
