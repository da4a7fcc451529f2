import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DockerClient } from '../../shared/docker/index.ts';
import {
  buildPipeline,
  MODES,
  type EngineEvents,
  type ModeName,
  type PipelineDeps,
  type Target,
} from '../../sidecar/pipeline/index.ts';
import { uncheckedSeal } from '../../sidecar/seal/index.ts';
import { containerEventSource, containerScope, podScope, treeScope } from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { waitFor } from '../harness/wait.ts';
import { openTestRun } from '../harness/run.ts';
import { FixtureProc } from './fixture-proc.ts';

/**
 * Every mode builds the one pipeline with its own list of sources (sidecar/pipeline/modes.ts). This lists them
 * per mode, so adding a source to a mode (or losing one, as the host agent once lost the setuid scan) shows here;
 * and runs the host agent's per-container pipeline on a fixture /proc to see a source of that list do its work.
 */
const ID = 'c'.repeat(64);

/** An engine that never sends an event: its stream ends when the run is aborted (a fake: no engine here). */
function fakeEngine(): DockerClient {
  return {
    events: (options: { signal?: AbortSignal }) =>
      new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true })),
  } as unknown as DockerClient;
}

describe('each mode lists its sources in one place', () => {
  const fx = new FixtureProc();
  const rootfs = fx.rootfs('sw-modes-');
  afterAll(() => fx.cleanup());
  const proc = createProcFs(fx.root);
  const controller = new AbortController();
  afterAll(() => controller.abort());

  // a run per pipeline, as each sidecar process has
  const run = () => openTestRun();
  const deps = (engine?: EngineEvents): PipelineDeps => ({ run: run(), proc, seal: uncheckedSeal(), engine });
  const targets: Record<ModeName, Target> = {
    pod: { name: 'pod', scope: podScope(999_999, proc) },
    container: {
      name: 'container app',
      scope: containerScope(proc, ID, 100),
      container: { id: ID, name: 'app', image: 'app:1' },
    },
    command: { name: 'command true', scope: treeScope(100, 100) },
    'host-container': {
      name: 'container app',
      scope: containerScope(proc, ID, 100),
      container: { id: ID, name: 'app', image: 'app:1' },
    },
  };
  const stream: EngineEvents = { kind: 'stream', docker: fakeEngine(), containerId: ID, signal: controller.signal };
  const names = (mode: ModeName, engine?: EngineEvents): string[] =>
    buildPipeline(targets[mode], MODES[mode], deps(engine)).sources.map((s) => s.name);

  /** what every mode with a neighbour image watches, in this order (modes.ts `workload`) */
  const WORKLOAD = ['seal', 'processes', 'file-sight', 'sockets', 'connection-sight', 'resources', 'setuid-files'];

  it('pod (the sidecar): the Docker events of the app container only when the socket is given', () => {
    expect(names('pod')).toEqual(WORKLOAD);
    expect(names('pod', stream)).toEqual([...WORKLOAD, 'docker']);
  });

  it('--container: its Docker events and the follower that keeps it across restarts', () => {
    const pipeline = buildPipeline(targets.container, MODES.container, deps(stream));
    expect(pipeline.sources.map((s) => s.name)).toEqual([...WORKLOAD, 'docker', 'container']);
    expect(pipeline.follower?.state()).toMatchObject({ id: ID, state: 'running' });
    expect(pipeline.status().container?.name).toBe('app');
  });

  it('--no-file-sight: the poller alone', () => {
    const off = openTestRun({ fileSight: false });
    const pipeline = buildPipeline(targets.pod, MODES.pod, { run: off, proc, seal: uncheckedSeal() });
    expect(pipeline.sources.map((s) => s.name)).not.toContain('file-sight');
  });

  it('--no-connection-sight: the socket poller alone', () => {
    const off = openTestRun({ connectionSight: false });
    const pipeline = buildPipeline(targets.pod, MODES.pod, { run: off, proc, seal: uncheckedSeal() });
    expect(pipeline.sources.map((s) => s.name)).toEqual(WORKLOAD.filter((name) => name !== 'connection-sight'));
  });

  it('-- COMMAND: no seal (no neighbour image) and no engine', () => {
    expect(names('command')).toEqual(['processes', 'sockets', 'resources', 'setuid-files']);
  });

  it('the host agent and learn --docker (one pipeline per container): the setuid scan too, fed the agent-wide engine events', () => {
    const feed: EngineEvents = { kind: 'feed', source: containerEventSource({ containerId: ID }) };
    expect(names('host-container', feed)).toEqual([...WORKLOAD, 'docker']);
  });

  it("the host agent's pipeline raises setuid-file-created for a setuid file dropped in a container's /tmp", async () => {
    mkdirSync(join(rootfs, 'tmp'), { recursive: true });
    fx.add({ pid: 100, comm: 'app', exe: '/bin/app', root: rootfs });
    writeFileSync(join(fx.root, '100', 'cgroup'), `0::/system.slice/docker-${ID}.scope\n`);
    const feed: EngineEvents = { kind: 'feed', source: containerEventSource({ containerId: ID }) };
    const pipeline = buildPipeline(targets['host-container'], MODES['host-container'], deps(feed));
    pipeline.tick(1);
    expect(pipeline.tracker.processes().has(100)).toBe(true);
    writeFileSync(join(rootfs, 'tmp', 'rootme'), '');
    chmodSync(join(rootfs, 'tmp', 'rootme'), 0o4755);
    // The scan may spend 5 ms per tick (a loaded machine needs several ticks for it): it goes on where it stopped.
    const alerts = () => pipeline.recent({ rule: 'setuid-file-created', limit: 10 });
    for (let at = 1_000_000, n = 0; alerts().length === 0 && n < 500; at += 10, n++) pipeline.tick(at);
    const alert = alerts();
    expect(alert.map((e) => e.file?.path)).toEqual(['/tmp/rootme']);
    expect(alert[0]!.container?.id).toBe(ID);
    await pipeline.close();
  });

  it("the host agent's pipeline: file sight reports an executable written in the container's root, and its exec", async () => {
    const root = fx.rootfs('sw-sight-root-');
    mkdirSync(join(root, 'tmp'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'shadow'), 'root:*:1::::::\n');
    fx.add({ pid: 200, comm: 'app', exe: '/bin/app', root });
    writeFileSync(join(fx.root, '200', 'cgroup'), `0::/system.slice/docker-${'d'.repeat(64)}.scope\n`);
    const target: Target = {
      name: 'container other',
      scope: containerScope(proc, 'd'.repeat(64), 200),
      container: { id: 'd'.repeat(64), name: 'other', image: 'app:1' },
    };
    const pipeline = buildPipeline(target, MODES['host-container'], deps());
    try {
      pipeline.tick(Date.now());
      writeFileSync(join(root, 'tmp', 'payload'), '#!/bin/sh\n', { mode: 0o755 });
      readFileSync(join(root, 'etc', 'shadow'));
      const alerts = await waitFor('the alerts', () => {
        pipeline.tick(Date.now());
        const found = pipeline.recent({ limit: 100 }).filter((e) => e.event.kind === 'alert');
        return found.length >= 2 && found;
      });
      expect(alerts.map((e) => [e.rule?.id, e.file?.path]).sort()).toEqual([
        ['executable-written', '/tmp/payload'],
        ['sensitive-file-open', '/etc/shadow'],
      ]);
    } finally {
      await pipeline.close();
    }
  });
});
