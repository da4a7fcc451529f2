import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { loadConfigFile } from '../shared/config/index.ts';
import type { DockerClient } from '../shared/docker/index.ts';
import { EnvironmentError, errnoCode, UsageError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../shared/outputs/index.ts';
import { profileSpec, type Profile } from '../shared/profile/index.ts';
import { bindDockerEventMetrics, createApi, createWatchMetrics, listenApi } from './api/index.ts';
import { createLearner, writeProfileFile } from './learn/index.ts';
import { createAggregator, createKiller, createResponder, stopTargetEvent } from './respond/index.ts';
// the seal checks (sigstore) load only when a trusted key is given: a watcher without one stays ~10 MB smaller
import type { SealCheck } from './seal/index.ts';
import { sealSource } from './seal/seal-source.ts';
import {
  containerScope,
  createContainerFollower,
  createDockerSource,
  createHashCache,
  createProcessTracker,
  createResourceSource,
  createSetuidScan,
  createSocketSource,
  podScope,
  treeScope,
  type ContainerFollower,
  type ContainerScope,
  type DockerSource,
  type Scope,
  type Source,
} from './sources/index.ts';
import { containerIdFromCgroup, createProcFs, type ProcFs } from './sources/proc/index.ts';
import { createHostResolver, egressHosts } from './evaluate/index.ts';
import { createWatcher, type Watcher } from './watch.ts';

/**
 * The composition root of `sealwatch watch` and `sealwatch learn`: resolves the target, builds
 * every stage and runs the loop until the signal aborts, the duration ends, or the watched
 * command exits. Nothing here reads process.env or exits the process.
 */
export interface RunWatchOptions {
  procRoot: string;
  mode: 'learn' | 'monitor' | 'enforce';
  dryRun: boolean;
  tickMs: number;
  profileFile?: string;
  outputs: readonly string[];
  listen?: { host: string; port: number };
  apiToken?: string;
  container?: string;
  command?: readonly string[];
  emitAll: boolean;
  killMinSeverity: number;
  aggregateWindowMs: number;
  /** learn: where to write the profile, and for how long to learn (ms; until the end otherwise) */
  learnOut?: string;
  durationMs?: number;
  headroom?: number;
  /** after learning ends through the API: continue in this mode with the learned profile */
  afterLearn?: 'monitor' | 'enforce';
  /** PEM files of the keys trusted to seal the neighbour's image (`--pub`); without any, the seal is not checked */
  trustedKeyFiles?: readonly string[];
  /** enforce mode, unsealed or invalid neighbour: keep watching with the built-in rules (default) or stop it */
  onUnsealed?: 'keep-watching' | 'stop';
  /**
   * disk spool folder of the network outputs, created if missing: given, it must work (EnvironmentError,
   * exit 3); not given, /var/lib/sealwatch/spool is used when it can be created, else memory only (warned)
   */
  spoolDir?: string;
  /** pod mode: the Docker socket was given: watch the app container's engine events, stop it through the engine */
  podDocker?: boolean;
  /** pod mode: how long to wait for a neighbour process to read the seal from (ms, default 10000) */
  sealWaitMs?: number;
  version: string;
}

export interface RunWatchDeps {
  logger: Logger;
  docker?: () => DockerClient;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** called once the API listens and the first tick ran (tests use it) */
  onReady?: (info: { port?: number; watcher: Watcher }) => void;
}

export interface RunWatchResult {
  /** exit code of the watched command, when there was one */
  commandExit?: number;
  /** the target was stopped because its seal was missing or invalid (enforce, --on-unsealed stop) */
  stopped?: boolean;
  seal?: SealCheck;
  profile?: Profile;
  watcher: Watcher;
}

export async function runWatch(options: RunWatchOptions, deps: RunWatchDeps): Promise<RunWatchResult> {
  const { logger } = deps;
  const specs = options.outputs.map(parseOutputUrl);
  // before anything starts: only network outputs spool
  const spoolDir = specs.some((s) => s.type === 'syslog' || s.type === 'http')
    ? resolveSpoolDir(options.spoolDir, logger)
    : undefined;
  const fileProfile = options.profileFile ? loadProfile(options.profileFile, logger) : undefined;
  const trusted =
    options.trustedKeyFiles && options.trustedKeyFiles.length > 0
      ? (await import('../shared/signing/index.ts')).loadTrustedKeys(options.trustedKeyFiles)
      : undefined;
  const proc = createProcFs(options.procRoot);
  let child: ChildProcess | undefined;
  let childExit: Promise<number> | undefined;
  let scope: Scope;
  let followed: { scope: ContainerScope; initPid: number } | undefined;
  let target: string;
  let container: { id: string; name: string; image: string } | undefined;
  let imageId: string | undefined;
  if (options.container) {
    if (!deps.docker) throw new UsageError('MISSING_ARGUMENT', '--container needs the Docker engine (--docker-socket)');
    const inspect = await deps.docker().inspectContainer(options.container);
    if (!inspect.State.Running)
      throw new EnvironmentError('NOT_FOUND', `container ${options.container} is not running`);
    const cscope = containerScope(proc, inspect.Id, inspect.State.Pid);
    scope = cscope;
    followed = { scope: cscope, initPid: inspect.State.Pid };
    target = `container ${inspect.Name.replace(/^\//, '')} (${inspect.Id.slice(0, 12)})`;
    container = { id: inspect.Id, name: inspect.Name.replace(/^\//, ''), image: inspect.Config.Image };
    imageId = inspect.Image;
  } else if (options.command && options.command.length > 0) {
    const [cmd, ...args] = options.command;
    child = spawn(cmd!, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    childExit = new Promise((resolve) => {
      child!.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
      child!.once('error', (err) => {
        logger.error(`cannot start ${cmd!}: ${err.message}`);
        resolve(127);
      });
    });
    if (child.pid === undefined) throw new UsageError('BAD_ARGUMENT', `cannot start command: ${cmd!}`);
    // detached: the child leads a new session; its whole tree shares that session id
    scope = treeScope(child.pid, child.pid);
    target = `command ${options.command.join(' ')}`;
  } else {
    scope = podScope(process.pid, proc);
    target = `pid namespace of ${options.procRoot}`;
  }

  // The seal: checked before anything runs, so no event goes out without its seal status.
  let seal: SealCheck | undefined;
  if (scope.kind !== 'tree' && options.mode !== 'learn') {
    if (!trusted) {
      seal = { status: 'unknown', detail: 'no trusted key given (--pub): the seal is not checked' };
      logger.warn(`${seal.detail}`);
    } else if (container && imageId && deps.docker) {
      const { checkImageSeal } = await import('./seal/index.ts');
      seal = await checkImageSeal(deps.docker(), imageId, trusted);
    } else {
      const { checkImageSeal, checkPodSeal } = await import('./seal/index.ts');
      const pids = await neighbourPids(proc, options.sealWaitMs ?? 10_000, deps.signal);
      // With the engine (--docker-socket), the app's image is known: its seal is checked against the image
      // itself, as in --container mode, so a valid seal of another image copied into the app's files is caught.
      // Without it (Kubernetes), the seal in the app's root is verified and its identity only reported.
      const appId = options.podDocker && deps.docker ? podContainerIdOf(proc) : undefined;
      const appImage = appId && deps.docker ? (await deps.docker().inspectContainer(appId)).Image : undefined;
      seal =
        appImage && deps.docker
          ? await checkImageSeal(deps.docker(), appImage, trusted)
          : checkPodSeal({ procRoot: options.procRoot, pids, selfPid: process.pid, trusted });
    }
    logger.info(`seal ${seal.status}${seal.detail ? `: ${seal.detail}` : ''}`);
  }
  let profile = fileProfile;
  let profileSource = options.profileFile;
  if (!profile && seal?.status === 'verified' && seal.profile) {
    profile = seal.profile;
    profileSource = `seal ${seal.source ?? ''} (${seal.identity ?? ''})`.trim();
  }
  if (options.mode !== 'learn' && !profile) {
    logger.warn(
      seal?.status === 'verified'
        ? 'the seal holds no profile: built-in rules and the sealed inventory apply'
        : 'no profile loaded: only the built-in rules apply (pass --profile FILE, or --pub KEY for a sealed neighbour)',
    );
  }

  // host-name egress entries: resolved before the first tick, refreshed every minute
  const hostResolver = createHostResolver({ hosts: egressHosts(profile), logger });
  await hostResolver.refresh();
  hostResolver.start();

  const hashes = createHashCache(proc);
  const tracker = createProcessTracker({ proc, scope, hashes, logger, countGaps: scope.kind === 'pod' });
  const sources: Source[] = [
    sealSource(seal),
    { name: 'processes', poll: (now) => tracker.tick(now) },
    createSocketSource({
      proc,
      tracker,
      anchor: () => scope.netAnchor(),
      selfPid: scope.kind === 'pod' ? process.pid : undefined,
      requireOwner: scope.kind === 'tree',
    }),
    createResourceSource({ proc, tracker }),
    createSetuidScan({ proc, tracker }),
  ];
  // --container: followed across restarts (re-anchored on the new init), told by its Docker events
  let follower: ContainerFollower | undefined;
  if (container && followed && deps.docker) {
    follower = createContainerFollower({
      docker: deps.docker(),
      proc,
      tracker,
      scope: followed.scope,
      container,
      initPid: followed.initPid,
      logger,
    });
  }
  // Docker events of the target: --container, or the pod's app container when the socket was given
  const eventsOf = container?.id ?? (scope.kind === 'pod' && options.podDocker ? podContainerIdOf(proc) : undefined);
  let dockerSource: DockerSource | undefined;
  if (eventsOf && deps.docker) {
    dockerSource = createDockerSource({
      docker: deps.docker(),
      containerId: eventsOf,
      logger,
      signal: deps.signal,
      // the follower reports a restart once it found the new init (also a restart by policy, which has no event)
      onChange: follower && ((change) => follower.onChange(change)),
      omit: follower ? ['restart'] : undefined,
    });
    sources.push(dockerSource);
  } else if (scope.kind === 'pod' && options.podDocker) {
    logger.warn(
      '--docker-socket: the app container was not found through the cgroup of its processes; no Docker events',
    );
  }
  if (follower) sources.push(follower);
  const metrics = createWatchMetrics();
  if (dockerSource) bindDockerEventMetrics(metrics, dockerSource);
  const dispatcher = createDispatcher(specs, {
    logger,
    version: options.version,
    stdout: deps.stdout,
    env: deps.env,
    spoolDir,
  });
  const killer = createKiller(proc, { protect: [process.pid] });
  const responder = createResponder({
    mode: options.mode,
    dryRun: options.dryRun,
    killMinSeverity: options.killMinSeverity,
    killer,
    aggregator: createAggregator({ windowMs: options.aggregateWindowMs }),
  });
  const learner = options.mode === 'learn' ? createLearner({ headroom: options.headroom }) : undefined;
  const watcher = createWatcher({
    tracker,
    sources,
    responder,
    dispatcher,
    metrics,
    logger,
    target,
    profile,
    profileSource,
    inventory: seal?.status === 'verified' ? seal.inventory : undefined,
    resolvedHosts: hostResolver.resolved,
    seal: seal ? { status: seal.status, detail: seal.detail } : undefined,
    container: follower && (() => follower.state()),
    learner,
    emitAll: options.emitAll,
    context: {
      mode: options.mode,
      version: options.version,
      hostName: hostname(),
      container: container ? { id: container.id, name: container.name, image: { name: container.image } } : undefined,
      orchestrator: orchestratorFromEnv(deps.env),
      seal: seal ? { status: seal.status, identity: seal.identity, key_hint: seal.keyHint } : undefined,
    },
  });

  let learned: Profile | undefined;
  const finishLearning = (): Profile | undefined => {
    if (!learner || learned) return learned;
    learned = learner.profile();
    if (options.learnOut) writeProfileFile(options.learnOut, learned, target);
    return learned;
  };

  let api: Awaited<ReturnType<typeof listenApi>> | undefined;
  if (options.listen) {
    const app = createApi({
      status: () => watcher.status(),
      events: (q) => watcher.recent(q),
      profile: () => watcher.profile() ?? learned,
      endLearning: learner
        ? () => {
            const p = finishLearning();
            if (p && options.afterLearn) watcher.useProfile(p, options.afterLearn, options.learnOut ?? 'learned');
            return Promise.resolve(p);
          }
        : undefined,
      token: options.apiToken,
      metrics,
      logger,
    });
    api = await listenApi(app, options.listen.host, options.listen.port);
    logger.info(`API listening on http://${options.listen.host}:${api.port}`);
  }

  // the loop
  let endRun: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    endRun = stop;
    if (deps.signal.aborted) stop();
    deps.signal.addEventListener('abort', stop, { once: true });
    if (options.durationMs !== undefined) setTimeout(stop, options.durationMs).unref();
    void childExit?.then(stop);
    // the container was removed: nothing left to watch (the event goes out with the last tick)
    void follower?.removed.then(stop);
  });
  watcher.tick(Date.now());
  let stopped = false;
  if (
    seal &&
    (seal.status === 'unsealed' || seal.status === 'invalid') &&
    options.mode === 'enforce' &&
    options.onUnsealed === 'stop'
  ) {
    stopped = await stopTarget();
    if (stopped) endRun();
  }
  deps.onReady?.({ port: api?.port, watcher });
  const timer = setInterval(() => {
    try {
      watcher.tick(Date.now());
    } catch (error) {
      logger.error('tick failed', { error: String(error) });
    }
  }, options.tickMs);
  await done;
  clearInterval(timer);
  watcher.tick(Date.now());
  if (child && child.exitCode === null) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const commandExit = childExit ? await childExit : undefined;
  const profileOut = finishLearning();
  hostResolver.stop();
  await dockerSource?.close();
  await watcher.close();
  await dispatcher.close();
  if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  const followedState = follower?.state();
  if (followedState?.state === 'removed' && !deps.signal.aborted)
    throw new EnvironmentError(
      'NOT_FOUND',
      `container ${followedState.name} (${followedState.id.slice(0, 12)}) was removed: nothing left to watch${
        profileOut && options.learnOut ? `; the profile learned until then is in ${options.learnOut}` : ''
      }`,
    );
  return { commandExit, profile: profileOut, watcher, stopped, seal };

  /**
   * `--on-unsealed stop`: the event goes out (and is flushed) before the stop, because in a pod
   * killing the namespace's init also ends the watcher. Container: `docker stop`; pod: SIGKILL
   * every watched process, PID 1 of the namespace last.
   */
  function podContainerId(): string | undefined {
    return podContainerIdOf(proc);
  }

  async function stopTarget(): Promise<boolean> {
    const why = `seal ${seal!.status}`;
    const base = { mode: options.mode, version: options.version, seal: watchedSeal(seal!) };
    const ctx = {
      container: container && { id: container.id, name: container.name, image: { name: container.image } },
      host: hostname(),
    };
    if (options.dryRun) {
      watcher.report(stopTargetEvent({ ...base, ...ctx, outcome: 'dry_run', target, why }));
      return false;
    }
    watcher.report(stopTargetEvent({ ...base, ...ctx, outcome: 'stopping', target, why }));
    await dispatcher.flush();
    let failure: string | undefined;
    const engineTarget = container?.id ?? (options.podDocker ? podContainerId() : undefined);
    if (engineTarget && deps.docker) {
      try {
        await deps.docker().stopContainer(engineTarget, 5);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    } else {
      const victims = [...tracker.processes().values()].sort((a, b) => b.pid - a.pid);
      for (const p of victims) killer.kill(p.pid, p.startTicks);
      // the kernel drops signals a namespace's init did not ask for, when sent from inside the namespace
      await new Promise((r) => setTimeout(r, 500));
      const alive = victims.filter((p) => proc.stat(p.pid)?.startTicks === p.startTicks);
      if (alive.length > 0)
        failure = `${alive.map((p) => `${p.name} (pid ${p.pid})`).join(', ')} still running${
          alive.some((p) => p.pid === 1)
            ? ': pid 1 of the namespace ignores SIGKILL from inside it; give --docker-socket to stop the container through the engine'
            : ''
        }`;
    }
    if (failure !== undefined) {
      watcher.report(stopTargetEvent({ ...base, ...ctx, outcome: 'failed', target, why, reason: failure }));
      return false;
    }
    return true;
  }
}

/** Pod mode: the container id of the neighbours, from their cgroup (the first one that names one). */
function podContainerIdOf(proc: ProcFs): string | undefined {
  for (const pid of proc.listPids()) {
    if (pid === process.pid) continue;
    const id = containerIdFromCgroup(proc.cgroup(pid) ?? '');
    const own = containerIdFromCgroup(proc.cgroup(process.pid) ?? '');
    if (id !== undefined && id !== own) return id;
  }
  return undefined;
}

function watchedSeal(seal: SealCheck): { status: SealCheck['status']; identity?: string; key_hint?: string } {
  return { status: seal.status, identity: seal.identity, key_hint: seal.keyHint };
}

/** Pod mode: the PIDs of the namespace that are not the watcher or its children, lowest first; waits for one to exist. */
async function neighbourPids(proc: ProcFs, waitMs: number, signal: AbortSignal): Promise<number[]> {
  const end = Date.now() + waitMs;
  for (;;) {
    const pids = proc
      .listPids()
      .filter((pid) => {
        if (pid === process.pid) return false;
        const stat = proc.stat(pid);
        return stat !== undefined && stat.ppid !== process.pid;
      })
      .sort((a, b) => a - b);
    if (pids.length > 0 || Date.now() >= end || signal.aborted) return pids;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const DEFAULT_SPOOL_DIR = '/var/lib/sealwatch/spool';

function resolveSpoolDir(given: string | undefined, logger: Logger): string | undefined {
  if (given !== undefined) return ensureSpoolDir(given);
  try {
    return ensureSpoolDir(DEFAULT_SPOOL_DIR);
  } catch (error) {
    logger.warn(
      `${error instanceof Error ? error.message : String(error)}; without a disk spool, events wait in memory only (10,000 per output)`,
    );
    return undefined;
  }
}

/** The spool folder, created if missing; one clear line (exit 3) when it cannot be. */
function ensureSpoolDir(dir: string): string {
  try {
    // one level at a time (Node's recursive mkdir can spin on pseudo file systems such as /proc)
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) mkdirSync(d, { mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new EnvironmentError(
      errnoCode(error) === 'EACCES' || errnoCode(error) === 'EPERM' || errnoCode(error) === 'EROFS'
        ? 'PERMISSION_DENIED'
        : 'IO',
      `--spool-dir ${dir}: cannot create or write the spool folder (${errnoCode(error) ?? String(error)}); pass a writable --spool-dir or SEALWATCH_SPOOL_DIR`,
      { cause: error },
    );
  }
  return dir;
}

function loadProfile(file: string, logger: Logger): Profile {
  const { value, warnings } = loadConfigFile(profileSpec, file);
  for (const w of warnings) logger.warn(w);
  return value;
}

function orchestratorFromEnv(
  env: NodeJS.ProcessEnv,
): { namespace?: string; resource?: { name?: string; type?: string }; type?: string } | undefined {
  const namespace = env.POD_NAMESPACE ?? env.SEALWATCH_POD_NAMESPACE;
  const pod = env.POD_NAME ?? env.SEALWATCH_POD_NAME;
  if (!namespace && !pod) return undefined;
  return { namespace, resource: { name: pod, type: 'pod' }, type: 'kubernetes' };
}
