import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { generateKeyPairFiles } from '../../shared/signing/index.ts';
import { runHostAgent, type HostAgent, type HostAgentOptions } from '../../sidecar/host-agent/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { describeContainerd, startContainerd, type Containerd, type CtrContainer } from '../harness/containerd.ts';
import { buildIdentityImages } from '../harness/identity-images.ts';
import { removeTags } from '../harness/seal.ts';
import { readEventsFile, waitFor as waitUntil } from '../harness/wait.ts';

/**
 * `sealwatch watch --containerd` against a real containerd of the test's own and the real kernel, with no Docker
 * engine in the agent: pods created with ctr as the kubelet's CRI would (a sandbox and containers sharing its PID
 * namespace, the kubelet's labels and annotations). The same events as for a Docker container
 * (test/deploy/host-agent.test.ts): seal-checked and the seal rules, container-exec, process starts and rule
 * alerts, each with the container's name and the pod's namespace and name; the seal is checked through each
 * container's root, so image B carrying image A's seal is seal.invalid naming the files that differ.
 */
describeContainerd('host agent on containerd (watch --containerd, real containerd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-host-agent-ctrd-'));
  const events = join(dir, 'events.jsonl');
  const controller = new AbortController();
  const tags: string[] = [];
  const pod = { name: 'shop-5f7c9', namespace: 'payments', uid: '7d1c2b3a-2222-4c2b-9e0d-6a1e2f3a4b5c' };
  let containerd: Containerd;
  let agent: HostAgent | undefined;
  let done: Promise<HostAgent> | undefined;
  let sealedApp: CtrContainer;
  let unsealedApp: CtrContainer;
  let borrowedApp: CtrContainer;

  const read = (): Event[] => readEventsFile(events);
  const waitFor = (what: string, match: (e: Event) => boolean, timeoutMs = 20_000): Promise<Event> =>
    waitUntil(`${what} event`, () => read().find(match), timeoutMs).catch((error: unknown) => {
      const got = JSON.stringify(read().map((e) => `${e.rule?.id ?? e.event.action}@${e.container?.name ?? ''}`));
      throw new Error(`${error instanceof Error ? error.message : String(error)}; got ${got}`);
    });

  beforeAll(async () => {
    containerd = await startContainerd();
    const keys = generateKeyPairFiles(dir);
    const { plain, sealed, borrowed } = await buildIdentityImages({
      repository: 'sealwatch-test/ctrd-agent',
      keyPath: keys.privateKeyPath,
      work: dir,
      tags,
    });
    const [sealedRef, plainRef, borrowedRef] = await Promise.all([
      containerd.importImage(sealed),
      containerd.importImage(plain),
      containerd.importImage(borrowed),
    ]);
    const sandbox = await containerd.run({
      image: plainRef,
      cmd: ['sleep', '3600'],
      pod,
      name: 'POD',
      type: 'sandbox',
    });
    sealedApp = await containerd.run({
      image: sealedRef,
      cmd: ['sleep', '3600'],
      pod,
      name: 'app',
      sharePidWith: sandbox,
    });
    const options: HostAgentOptions = {
      procRoot: '/proc',
      mode: 'monitor',
      dryRun: false,
      tickMs: 100,
      outputs: [`file://${events}`],
      emitAll: true,
      killMinSeverity: 7,
      aggregateWindowMs: 60_000,
      trustedKeyFiles: [keys.publicKeyPath],
      procConnector: true,
      version: 'test',
      containerd: { socket: containerd.socket, state: containerd.state, namespaces: ['k8s.io'] },
    };
    const ready = new Promise<void>((resolve) => {
      done = runHostAgent(options, {
        logger: silentLogger(),
        stdout: new PassThrough(),
        env: {},
        signal: controller.signal,
        onReady: ({ agent: a }) => {
          agent = a;
          resolve();
        },
      });
      done.catch(() => resolve());
    });
    await ready;
    // started after the agent: found through the state dir's notifications
    unsealedApp = await containerd.run({
      image: plainRef,
      cmd: ['sleep', '3600'],
      pod,
      name: 'sidecar',
      sharePidWith: sandbox,
    });
    borrowedApp = await containerd.run({
      image: borrowedRef,
      cmd: ['sleep', '3600'],
      pod,
      name: 'other',
      sharePidWith: sandbox,
    });
  }, 240_000);

  afterAll(async () => {
    controller.abort();
    await done;
    await containerd?.stop();
    await removeTags(tags);
    rmSync(dir, { recursive: true, force: true });
  });

  it('watches the pod containers found at start and later, with pod, namespace and container names on every event', async () => {
    expect(agent).toBeDefined();
    await waitUntil('three containers watched', () => agent!.containers().length === 3);
    const status = agent!.status();
    expect(status.target).toContain('containerd');
    expect(status.containers.map((c) => c.name).sort()).toEqual(['app', 'other', 'sidecar']);
    expect(status.containers.every((c) => c.pod?.name === pod.name && c.pod.namespace === pod.namespace)).toBe(true);
    const verified = await waitFor(
      'seal-checked verified',
      (e) => e.event.action === 'seal-checked' && e.container?.id === sealedApp.id,
    );
    expect(verified.sealwatch.seal?.status).toBe('verified');
    expect(verified.container?.name).toBe('app');
    expect(verified.orchestrator).toEqual({
      type: 'kubernetes',
      namespace: pod.namespace,
      resource: { type: 'pod', name: pod.name },
    });
    const unsealed = await waitFor(
      'seal.unsealed',
      (e) => e.rule?.id === 'seal.unsealed' && e.container?.id === unsealedApp.id,
    );
    expect(unsealed.container?.name).toBe('sidecar');
    expect(unsealed.orchestrator?.resource?.name).toBe(pod.name);
    for (const e of read()) expect(e.orchestrator?.namespace, e.event.action).toBe(pod.namespace);
  });

  it("image B with image A's seal: verified by signature, then seal.invalid naming the files that differ", async () => {
    const invalid = await waitFor(
      'seal.invalid',
      (e) => e.rule?.id === 'seal.invalid' && e.container?.id === borrowedApp.id,
    );
    expect(invalid.message).toContain('/app/server');
    expect(invalid.message).toContain('/app/tool');
    expect(invalid.container?.name).toBe('other');
    await waitUntil('identity progress done', () => {
      const c = agent!.status().containers.find((x) => x.id === borrowedApp.id);
      return c?.seal.status === 'invalid' && c.seal.identity?.state === 'done' ? c : undefined;
    });
    // the sealed one: its files checked, no difference
    const app = await waitUntil('sealed app checked', () => {
      const c = agent!.status().containers.find((x) => x.id === sealedApp.id);
      return c?.seal.identity?.state === 'done' ? c : undefined;
    });
    expect(app.seal).toMatchObject({ status: 'verified', identity: { differences: 0, walkComplete: true } });
    expect(app.seal.identity!.checked).toBe(app.seal.identity!.executables);
  });

  it('an exec (kubectl exec) is container-exec with its command; its processes reach the rules in their container only', async () => {
    await unsealedApp.exec(['sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 1; true']);
    const exec = await waitFor(
      'container-exec',
      (e) => e.event.action === 'container-exec' && e.container?.id === unsealedApp.id,
    );
    expect(exec.message).toContain('sh -c cp /bin/busybox /tmp/sleep');
    const started = await waitFor(
      'process-started',
      (e) => e.event.action === 'process-started' && e.process?.executable === '/tmp/sleep',
    );
    expect(started.container?.id).toBe(unsealedApp.id);
    const alert = await waitFor(
      'exec-from-tmp',
      (e) => e.rule?.id === 'exec-from-tmp' && e.container?.id === unsealedApp.id,
    );
    expect(alert.orchestrator?.resource?.name).toBe(pod.name);
    expect(alert.container?.name).toBe('sidecar');
    expect(read().filter((e) => e.rule?.id === 'exec-from-tmp' && e.container?.id !== unsealedApp.id)).toEqual([]);
  });

  it('the command line: bad combinations and a state dir not found are one usage line (exit 2), a containerd that does not answer exit 3', async () => {
    const both = await runCliCaptured(['watch', '--containerd', containerd.socket, '--docker'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    expect(both.stderr).toContain('--containerd watches every container of containerd');
    const stateOnly = await runCliCaptured(['watch', '--containerd-state', containerd.state], { cwd: dir });
    expect(stateOnly.code).toBe(2);
    expect(stateOnly.stderr).toContain('need --containerd');
    const gone = await runCliCaptured(
      ['watch', '--containerd', join(dir, 'no.sock'), '--containerd-state', containerd.state],
      { cwd: dir },
    );
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain(`containerd at ${join(dir, 'no.sock')} does not answer (ENOENT)`);
    // the state dir is not beside this socket: what was named is not there, a usage error naming the flag to give
    const noState = await runCliCaptured(['watch', '--containerd', containerd.socket], { cwd: dir });
    expect(noState.code).toBe(2);
    expect(noState.stderr).toContain('--containerd-state DIR');
  });

  it('a stopped container is no longer watched', async () => {
    await borrowedApp.remove();
    await waitUntil('borrowed app dropped', () => !agent!.containers().includes(borrowedApp.id));
    expect(agent!.containers()).toHaveLength(2);
  });
});
