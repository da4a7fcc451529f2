import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { loadConfigFile } from '../shared/config/index.ts';
import type { DockerClient } from '../shared/docker/index.ts';
import { EnvironmentError, UsageError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../shared/outputs/index.ts';
import { profileSpec, type Profile } from '../shared/profile/index.ts';
import { createApi, createWatchMetrics, listenApi } from './api/index.ts';
import { createLearner, profileToYaml } from './learn/index.ts';
import { createAggregator, createKiller, createResponder } from './respond/index.ts';
import {
  containerScope,
  createHashCache,
  createProcessTracker,
  createResourceSource,
  createSocketSource,
  podScope,
  treeScope,
  type Scope,
  type Source,
} from './sources/index.ts';
import { createProcFs } from './sources/proc/index.ts';
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
  profile?: Profile;
  watcher: Watcher;
}

export async function runWatch(options: RunWatchOptions, deps: RunWatchDeps): Promise<RunWatchResult> {
  const { logger } = deps;
  const specs = options.outputs.map(parseOutputUrl);
  const profile = options.profileFile ? loadProfile(options.profileFile, logger) : undefined;
  if (options.mode !== 'learn' && !profile) {
    logger.warn('no profile loaded: only the built-in rules apply (pass --profile FILE)');
  }
  const proc = createProcFs(options.procRoot);
  let child: ChildProcess | undefined;
  let childExit: Promise<number> | undefined;
  let scope: Scope;
  let target: string;
  let container: { id: string; name: string; image: string } | undefined;
  if (options.container) {
    if (!deps.docker) throw new UsageError('MISSING_ARGUMENT', '--container needs the Docker engine (--docker-socket)');
    const inspect = await deps.docker().inspectContainer(options.container);
    if (!inspect.State.Running)
      throw new EnvironmentError('NOT_FOUND', `container ${options.container} is not running`);
    scope = containerScope(proc, inspect.Id, inspect.State.Pid);
    target = `container ${inspect.Name.replace(/^\//, '')} (${inspect.Id.slice(0, 12)})`;
    container = { id: inspect.Id, name: inspect.Name.replace(/^\//, ''), image: inspect.Config.Image };
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
    scope = podScope(process.pid);
    target = `pid namespace of ${options.procRoot}`;
  }

  const hashes = createHashCache(proc);
  const tracker = createProcessTracker({ proc, scope, hashes, logger, countGaps: scope.kind === 'pod' });
  const sources: Source[] = [
    { name: 'processes', poll: (now) => tracker.tick(now) },
    createSocketSource({
      proc,
      tracker,
      anchor: () => scope.netAnchor(),
      selfPid: scope.kind === 'pod' ? process.pid : undefined,
      requireOwner: scope.kind === 'tree',
    }),
    createResourceSource({ proc, tracker }),
  ];
  const metrics = createWatchMetrics();
  const dispatcher = createDispatcher(specs, { logger, version: options.version, stdout: deps.stdout, env: deps.env });
  const responder = createResponder({
    mode: options.mode,
    dryRun: options.dryRun,
    killMinSeverity: options.killMinSeverity,
    killer: createKiller(proc, { protect: [process.pid] }),
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
    profileSource: options.profileFile,
    learner,
    emitAll: options.emitAll,
    context: {
      mode: options.mode,
      version: options.version,
      hostName: hostname(),
      container: container ? { id: container.id, name: container.name, image: { name: container.image } } : undefined,
      orchestrator: orchestratorFromEnv(deps.env),
    },
  });

  let learned: Profile | undefined;
  const finishLearning = (): Profile | undefined => {
    if (!learner || learned) return learned;
    learned = learner.profile();
    if (options.learnOut) writeProfileAtomically(options.learnOut, learned, target);
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
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    if (deps.signal.aborted) stop();
    deps.signal.addEventListener('abort', stop, { once: true });
    if (options.durationMs !== undefined) setTimeout(stop, options.durationMs).unref();
    void childExit?.then(stop);
  });
  watcher.tick(Date.now());
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
  await watcher.close();
  await dispatcher.close();
  if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  return { commandExit, profile: profileOut, watcher };
}

function loadProfile(file: string, logger: Logger): Profile {
  const { value, warnings } = loadConfigFile(profileSpec, file);
  for (const w of warnings) logger.warn(w);
  return value;
}

/** Writes to a temp file beside the target, then renames: never a half-written profile. */
function writeProfileAtomically(file: string, profile: Profile, target: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(
    tmp,
    profileToYaml(profile, [
      'Learned by `sealwatch learn`. Review it, edit it, commit it; `sealwatch seal --profile` seals it into the image.',
      `Target: ${target}`,
    ]),
  );
  renameSync(tmp, file);
}

function orchestratorFromEnv(
  env: NodeJS.ProcessEnv,
): { namespace?: string; resource?: { name?: string; type?: string }; type?: string } | undefined {
  const namespace = env.POD_NAMESPACE ?? env.SEALWATCH_POD_NAMESPACE;
  const pod = env.POD_NAME ?? env.SEALWATCH_POD_NAME;
  if (!namespace && !pod) return undefined;
  return { namespace, resource: { name: pod, type: 'pod' }, type: 'kubernetes' };
}
