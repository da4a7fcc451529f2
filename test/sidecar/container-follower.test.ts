import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerInspect, DockerClient } from '../../shared/docker/index.ts';
import { EnvironmentError } from '../../shared/errors/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import {
  containerScope,
  createContainerFollower,
  type Observation,
  type ProcessTracker,
} from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { FixtureProc } from './fixture-proc.ts';

/**
 * The `--container` follower's decisions, on a /proc fixture and an engine that answers what the test
 * says (the real restart, stop and removal are in container-watch.test.ts): the engine's answer decides,
 * a stale answer (the init already gone, the engine not yet told) is no restart, one restart is one event.
 */
const ID = 'a'.repeat(64);

describe('container follower', () => {
  let fx: FixtureProc;
  let answer: () => ContainerInspect;
  let asked = 0;
  beforeEach(() => {
    fx = new FixtureProc();
    asked = 0;
  });
  afterEach(() => fx.cleanup());

  const running = (pid: number): ContainerInspect =>
    ({ Id: ID, Name: '/app', State: { Pid: pid, Running: true, Status: 'running' } }) as ContainerInspect;
  const exited = (): ContainerInspect =>
    ({ Id: ID, Name: '/app', State: { Pid: 0, Running: false, Status: 'exited' } }) as ContainerInspect;

  function follower() {
    const proc = createProcFs(fx.root);
    const scope = containerScope(proc, ID, 100);
    const docker = {
      inspectContainer: async () => {
        asked++;
        await Promise.resolve();
        return answer();
      },
    } as unknown as DockerClient;
    const tracker = { processes: () => new Map() } as unknown as ProcessTracker;
    const f = createContainerFollower({
      docker,
      proc,
      tracker,
      scope,
      container: { id: ID, name: 'app' },
      initPid: 100,
      logger: silentLogger(),
      recheckMs: 0,
    });
    // the fake engine answers at once: what it started settles before the next macrotask
    const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
    /** a poll once earlier inspects answered, then one after the inspect it started answered: what both gave */
    const step = async (now: number): Promise<Observation[]> => {
      await settle();
      const out = f.poll(now);
      await settle();
      return [...out, ...f.poll(now + 1)];
    };
    return { f, scope, step };
  }

  it('the engine still names the dead init: no restart; the new init: one restart, sockets read through it', async () => {
    fx.add({ pid: 100, startTicks: 500 });
    answer = () => running(100);
    const { f, scope, step } = follower();
    expect(await step(1)).toEqual([]);
    expect(asked).toBe(0); // the init is alive: nothing to ask
    fx.remove(100);
    expect(await step(2)).toEqual([]);
    expect(asked).toBeGreaterThan(0);
    expect(f.state().state).toBe('running');
    fx.add({ pid: 200, startTicks: 900 });
    answer = () => running(200);
    const out = await step(3);
    expect(out).toEqual([
      expect.objectContaining({ type: 'docker', action: 'restart', initPid: 200, previousInitPid: 100 }),
    ]);
    expect(scope.netAnchor()).toBe(200);
    expect(f.state()).toMatchObject({ state: 'running', initPid: 200, restarts: 1 });
    // the engine's restart event after the fact: asked again, same init, no second event
    f.onChange({ kind: 'observe', id: ID, action: 'restart' });
    expect(await step(4)).toEqual([]);
    expect(f.state().restarts).toBe(1);
  });

  it('die: stopped with the exit code, no socket anchor; start: running on the new init', async () => {
    fx.add({ pid: 100, startTicks: 500 });
    const { f, scope, step } = follower();
    fx.remove(100);
    answer = exited;
    f.onChange({ kind: 'observe', id: ID, action: 'die', detail: '137' });
    f.onChange({ kind: 'stop', id: ID, action: 'die' });
    expect(await step(1)).toEqual([]);
    expect(f.state()).toMatchObject({ state: 'stopped', reason: 'container app is exited (exit code 137)' });
    expect(scope.netAnchor()).toBeUndefined();
    fx.add({ pid: 300, startTicks: 1200 });
    answer = () => running(300);
    f.onChange({ kind: 'start', id: ID });
    const out = await step(2);
    expect(out.map((o) => (o.type === 'docker' ? o.action : o.type))).toEqual(['restart']);
    expect(f.state()).toMatchObject({ state: 'running', initPid: 300, restarts: 1 });
    expect(f.state().reason).toBeUndefined();
  });

  it('gone from the engine: one container-removed, and the run is told to end', async () => {
    fx.add({ pid: 100, startTicks: 500 });
    const { f, step } = follower();
    let ended = false;
    void f.removed.then(() => (ended = true));
    answer = () => {
      throw new EnvironmentError('NOT_FOUND', `container ${ID}: not found in the Docker engine`);
    };
    f.onChange({ kind: 'stop', id: ID, action: 'destroy' });
    const out = await step(1);
    expect(out).toEqual([expect.objectContaining({ type: 'docker', action: 'removed' })]);
    expect(ended).toBe(true);
    expect(f.state()).toMatchObject({ state: 'removed', reason: 'container app was removed' });
    f.onChange({ kind: 'start', id: ID });
    expect(await step(2)).toEqual([]);
  });

  it('the engine unreachable: the state stays as it was', async () => {
    fx.add({ pid: 100, startTicks: 500 });
    const { f, step } = follower();
    answer = () => {
      throw new EnvironmentError('DOCKER_UNREACHABLE', 'cannot reach the engine');
    };
    f.onChange({ kind: 'observe', id: ID, action: 'oom' });
    expect(await step(1)).toEqual([]);
    expect(f.state()).toMatchObject({ state: 'running', initPid: 100, restarts: 0 });
  });
});
