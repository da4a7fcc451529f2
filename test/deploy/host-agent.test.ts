import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDockerClient } from '../../shared/docker/index.ts';
import type { Event } from '../../shared/events/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { generateKeyPairFiles } from '../../shared/signing/index.ts';
import { runHostAgent, type HostAgent, type HostAgentOptions } from '../../sidecar/host-agent/index.ts';
import { startContainer, useContainerCleanup, type TestContainer } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { startDockerProxy } from '../harness/docker-proxy.ts';
import { runOk } from '../harness/exec.ts';
import { buildAppImage } from '../harness/images.ts';
import { procConnectorRequired, procConnectorUnavailable } from '../harness/proc-connector.ts';
import { readEventsFile, waitFor as waitUntil } from '../harness/wait.ts';

/**
 * `sealwatch watch --docker` against the real engine and the real kernel: containers found by the
 * engine's list and events, processes attributed by cgroup, the seal of each image verified with the
 * trusted key, and the proc connector catching a process that lives about a millisecond.
 */
describeDocker('host agent (watch --docker)', () => {
  useContainerCleanup();
  const dir = mkdtempSync(join(tmpdir(), 'sw-host-agent-'));
  const events = join(dir, 'events.jsonl');
  const controller = new AbortController();
  let agent: HostAgent | undefined;
  let done: Promise<HostAgent> | undefined;
  let sealedApp: TestContainer;
  let unsealedApp: TestContainer;
  let sealedImage: string;
  let connectorHere = false;

  const read = (): Event[] => readEventsFile(events);
  const waitFor = (what: string, match: (e: Event) => boolean, timeoutMs = 20_000): Promise<Event> =>
    waitUntil(`${what} event`, () => read().find(match), timeoutMs).catch((error: unknown) => {
      const got = JSON.stringify(read().map((e) => e.rule?.id ?? e.event.action));
      throw new Error(`${error instanceof Error ? error.message : String(error)}; got ${got}`);
    });

  beforeAll(async () => {
    connectorHere = (await procConnectorUnavailable()) === undefined || procConnectorRequired();
    const keys = generateKeyPairFiles(dir);
    const image = await buildAppImage({ cmd: ['sleep', '3600'], repository: 'sealwatch-test/host-agent-app' });
    const sealedTag = `sealwatch-test/host-agent-sealed:${image.split(':')[1]}`;
    await runOk('node', [
      'bin/sealwatch.js',
      'seal',
      '--image',
      image,
      '--key',
      keys.privateKeyPath,
      '--tag',
      sealedTag,
    ]);
    sealedImage = sealedTag;
    sealedApp = await startContainer({ image: sealedTag, cmd: ['sleep', '3600'] });
    const options: HostAgentOptions = {
      procRoot: '/proc',
      mode: 'monitor',
      dryRun: false,
      tickMs: 100,
      outputs: [`file://${events}`],
      emitAll: false,
      killMinSeverity: 7,
      aggregateWindowMs: 60_000,
      trustedKeyFiles: [keys.publicKeyPath],
      procConnector: true,
      version: 'test',
    };
    const ready = new Promise<void>((resolve) => {
      done = runHostAgent(options, {
        logger: silentLogger(),
        docker: createDockerClient(),
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
    // Started after the agent: found through the engine's events.
    unsealedApp = await startContainer({ image, cmd: ['sleep', '3600'] });
  }, 240_000);

  afterAll(async () => {
    controller.abort();
    await done;
  });

  it('watches containers listed at start and started later, with each image seal verified or reported', async () => {
    expect(agent).toBeDefined();
    await waitUntil('the container started later is watched', () => agent!.containers().includes(unsealedApp.id));
    const status = agent!.status();
    const byId = new Map(status.containers.map((c) => [c.id, c]));
    expect(byId.get(sealedApp.id)?.seal.status).toBe('verified');
    expect(byId.get(unsealedApp.id)?.seal.status).toBe('unsealed');
    const alert = await waitFor(
      'seal.unsealed',
      (e) => e.rule?.id === 'seal.unsealed' && e.container?.id === unsealedApp.id,
    );
    expect(alert.container?.name).toBe(unsealedApp.name);
    expect(status.execSource).toBe(connectorHere ? 'proc-connector' : 'proc-poll');
    if (!connectorHere) expect(status.execSourceReason).toMatch(/unavailable/);
  });

  it('attributes a process run from /tmp to its container, and only to it', async () => {
    // A copy of busybox in /tmp, run as its sleep applet. (That the connector sees 1 ms processes is proven exactly, by exec count, in
    // test/sidecar/proc-connector.test.ts; here the point is attribution, so the process lives 300 ms.)
    await unsealedApp.exec(['sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 0.3; true']);
    const alert = await waitFor(
      'exec-from-tmp',
      (e) => e.rule?.id === 'exec-from-tmp' && e.container?.id === unsealedApp.id,
    );
    expect(alert.process?.executable).toBe('/tmp/sleep');
    expect(alert.container?.name).toBe(unsealedApp.name);
    // Nothing of it is attributed to the other container.
    expect(read().filter((e) => e.rule?.id === 'exec-from-tmp' && e.container?.id === sealedApp.id)).toEqual([]);
    const exec = await waitFor(
      'container-exec',
      (e) => e.event.action === 'container-exec' && e.container?.id === unsealedApp.id,
    );
    expect(exec.message).toContain('/tmp/sleep');
  });

  it('file sight per container: a 1 ms read of /etc/shadow and a dropped executable, alerted once, for that container only', async () => {
    await unsealedApp.exec(['cat', '/etc/shadow']);
    const read = await waitFor(
      'sensitive-file-open',
      (e) => e.rule?.id === 'sensitive-file-open' && e.container?.id === unsealedApp.id,
    );
    expect(read.file?.path).toBe('/etc/shadow');
    expect(read.sealwatch.details?.seen_by).toBe('file-sight');
    await unsealedApp.exec(['sh', '-c', 'cp /bin/busybox /tmp/payload && chmod +x /tmp/payload']);
    const drift = await waitFor(
      'executable-written',
      (e) => e.rule?.id === 'executable-written' && e.file?.path === '/tmp/payload',
    );
    expect(drift.container?.id).toBe(unsealedApp.id);
    // this test's two containers only: the agent watches every container of the engine, other tests' too
    const shadow = (id: string): Event[] =>
      readEventsFile(events).filter((e) => e.rule?.id === 'sensitive-file-open' && e.container?.id === id);
    expect(shadow(unsealedApp.id)).toHaveLength(1);
    expect(shadow(sealedApp.id)).toEqual([]);
    expect(
      readEventsFile(events).filter((e) => e.rule?.id === 'executable-written' && e.file?.path === '/tmp/payload'),
    ).toHaveLength(1);
  });

  it('connection sight per container: a few-millisecond connection to 6443 on its own loopback, alerted once, for that container only', async () => {
    // the container has a network namespace of its own (--network none): the agent's socket is made in it by the sight addon
    await unsealedApp.execDetached(['nc', '-ll', '-p', '6443', '-e', 'true']);
    await waitUntil(
      'the connection',
      async () => (await unsealedApp.exec(['sh', '-c', 'nc 127.0.0.1 6443 </dev/null'])).code === 0,
    );
    const alert = await waitFor(
      'kubernetes-api-access',
      (e) => e.rule?.id === 'kubernetes-api-access' && e.container?.id === unsealedApp.id,
    );
    expect(alert.event.action).toBe('connection-closed');
    expect(alert.destination).toEqual({ ip: '127.0.0.1', port: 6443 });
    expect(alert.sealwatch.details?.seen_by).toBe('socket-destroy');
    // this test's two containers only: the agent watches every container of the engine, other tests' too
    const api = (id: string): Event[] =>
      read().filter((e) => e.rule?.id === 'kubernetes-api-access' && e.container?.id === id);
    expect(api(unsealedApp.id)).toHaveLength(1);
    expect(api(sealedApp.id)).toEqual([]);
  });

  it('stops watching a container that exits', async () => {
    await sealedApp.remove();
    await waitUntil('the removed container is no longer watched', () => !agent!.containers().includes(sealedApp.id));
    writeFileSync(join(dir, 'done'), '');
  });

  it('keeps following the engine when its event stream breaks: the break is reported, a container started meanwhile is found', async () => {
    const proxy = await startDockerProxy();
    const out = join(dir, 'events-proxy.jsonl');
    const stop = new AbortController();
    let second: HostAgent | undefined;
    const running = runHostAgent(
      {
        procRoot: '/proc',
        mode: 'monitor',
        dryRun: false,
        tickMs: 100,
        outputs: [`file://${out}`],
        emitAll: false,
        killMinSeverity: 7,
        aggregateWindowMs: 60_000,
        trustedKeyFiles: [],
        procConnector: false,
        version: 'test',
      },
      {
        logger: silentLogger(),
        docker: createDockerClient({ socketPath: proxy.socketPath }),
        stdout: new PassThrough(),
        env: {},
        signal: stop.signal,
        onReady: ({ agent: a }) => void (second = a),
      },
    );
    try {
      await waitUntil('the second agent', () => (second?.containers().includes(unsealedApp.id) ? second : undefined));
      proxy.cut();
      // started while the stream is down (the first retry is after 1 s)
      const late = await startContainer({ image: sealedImage, cmd: ['sleep', '3600'] });
      await waitUntil(
        'the container started during the break',
        () => second!.containers().includes(late.id) || undefined,
      );
      const gap = await waitUntil('container-events-interrupted', () =>
        readEventsFile(out).find(
          (e) => e.event.action === 'container-events-interrupted' && e.container?.id === unsealedApp.id,
        ),
      );
      expect(gap.message).toMatch(/may be missing/);
      expect(second!.status().dockerEventsInterrupted).toBe(1);
    } finally {
      stop.abort();
      await running.catch(() => undefined);
      await proxy.close();
    }
  });
});
