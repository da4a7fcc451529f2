import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfigFile } from '../shared/config/index.ts';
import type { DockerClient } from '../shared/docker/index.ts';
import { EnvironmentError, errnoCode, UsageError } from '../shared/errors/index.ts';
import type { SigningKey } from '../shared/signing/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import { parseOutputUrl } from '../shared/outputs/index.ts';
import { profileSpec, type Profile } from '../shared/profile/index.ts';
import type { RuntimeTraceInput } from '../shared/seal/index.ts';
import { bindConnectorMetrics, createApi, listenApi } from './api/index.ts';
import { createHostResolver, egressHosts } from './evaluate/index.ts';
import { createLearner, writeProfileFile, writeRuntimeTraceFile } from './learn/index.ts';
import { buildPipeline, MODES, openRun, runLoop, type Pipeline, type Target } from './pipeline/index.ts';
import { createKiller, stopTarget } from './respond/index.ts';
// the seal checks (sigstore) load only when a trusted key is given: a watcher without one stays ~10 MB smaller
import { sealedProfile, sealStamp, uncheckedSeal, type SealCheck } from './seal/seal-check.ts';
import {
  containerScope,
  createProcConnector,
  podContainerIdOf,
  podScope,
  treeScope,
  type ProcConnector,
} from './sources/index.ts';
import { containerIdFromCgroup, createProcFs, type ProcFs } from './sources/proc/index.ts';

/**
 * The composition root of `sealwatch watch` and `sealwatch learn` in the sidecar's modes (a pod, `--container`,
 * `-- COMMAND`): resolves the target, checks its seal, builds its pipeline (pipeline/, with the mode's sources from
 * pipeline/modes.ts) and runs the one loop until the signal aborts, the duration ends, the watched command exits
 * or the followed container is removed. Nothing here reads process.env or exits the process.
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
  /** learn: also write what was observed as an in-toto runtime-trace statement, for this run of CI */
  runtimeTrace?: { file: string; monitoredProcess: RuntimeTraceInput['monitoredProcess'] };
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
  /** signs the event record (hash chain + checkpoints) of every event this watcher emits */
  evidenceKey?: SigningKey;
  /** pod mode: the Docker socket was given: watch the app container's engine events, stop it through the engine */
  podDocker?: boolean;
  /** pod mode: how long to wait for a neighbour process to read the seal from (ms, default 10000) */
  sealWaitMs?: number;
  /** `--container`: false polls /proc only instead of opening the kernel proc connector (default: open it) */
  procConnector?: boolean;
  version: string;
}

export interface RunWatchDeps {
  logger: Logger;
  docker?: () => DockerClient;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** called once the API listens and the first tick ran (tests use it) */
  onReady?: (info: { port?: number; pipeline: Pipeline }) => void;
}

export interface RunWatchResult {
  /** exit code of the watched command, when there was one */
  commandExit?: number;
  /** the target was stopped because its seal was missing or invalid (enforce, --on-unsealed stop) */
  stopped?: boolean;
  seal?: SealCheck;
  profile?: Profile;
  pipeline: Pipeline;
}

export async function runWatch(options: RunWatchOptions, deps: RunWatchDeps): Promise<RunWatchResult> {
  // what the run opened that must be closed however it ends (the proc connector's thread would outlive it)
  const opened: { close(): void }[] = [];
  try {
    return await watchUntilEnd(options, deps, opened);
  } finally {
    for (const o of opened) o.close();
  }
}

async function watchUntilEnd(
  options: RunWatchOptions,
  deps: RunWatchDeps,
  opened: { close(): void }[],
): Promise<RunWatchResult> {
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
  const docker = deps.docker?.();
  const resolved = await resolveTarget(options, proc, docker, logger, opened);
  const { target, kind, connector } = resolved;
  // what the pipeline reads: /proc, or the proc connector's view of it (`--container` on the host)
  const execs = resolved.proc ?? proc;

  // The seal: checked before anything runs, so no event goes out without its seal status.
  let seal: SealCheck | undefined;
  if (kind !== 'command' && options.mode !== 'learn') {
    if (!trusted) {
      seal = uncheckedSeal();
      logger.warn(seal.detail);
    } else {
      const { checkTargetSeal } = await import('./seal/index.ts');
      seal = await checkTargetSeal({
        proc,
        trusted,
        docker,
        imageId: resolved.imageId,
        podDocker: options.podDocker === true,
        sealWaitMs: options.sealWaitMs ?? 10_000,
        signal: deps.signal,
      });
    }
    logger.info(`seal ${seal.status}${seal.detail ? `: ${seal.detail}` : ''}`);
  }
  const profile =
    fileProfile && options.profileFile ? { profile: fileProfile, source: options.profileFile } : undefined;
  const sealed = sealedProfile(seal);
  if (options.mode !== 'learn' && !profile && !sealed) {
    logger.warn(
      seal?.status === 'verified'
        ? 'the seal holds no profile: built-in rules and the sealed inventory apply'
        : 'no profile loaded: only the built-in rules apply (pass --profile FILE, or --pub KEY for a sealed neighbour)',
    );
  }

  // host-name egress entries: resolved before the first tick, refreshed every minute
  const hostResolver = createHostResolver({ hosts: egressHosts(profile?.profile ?? sealed?.profile), logger });
  await hostResolver.refresh();
  hostResolver.start();

  // Docker events of the target: --container, or the pod's app container when the socket was given
  const eventsOf =
    target.container?.id ?? (kind === 'pod' && options.podDocker ? podContainerIdOf(proc, process.pid) : undefined);
  if (kind === 'pod' && options.podDocker && eventsOf === undefined)
    logger.warn(
      '--docker-socket: the app container was not found through the cgroup of its processes; no Docker events',
    );
  const run = openRun({ settings: options, logger, outputs: specs, spoolDir, stdout: deps.stdout, env: deps.env });
  const { dispatcher, metrics } = run;
  if (connector) {
    bindConnectorMetrics(metrics, connector);
    logger.info(
      connector.mode === 'proc-connector'
        ? 'exec events: kernel proc connector'
        : `exec events: /proc polling (${connector.reason ?? 'connector off'})`,
    );
  }
  const learner =
    options.mode === 'learn'
      ? createLearner({ headroom: options.headroom, trace: options.runtimeTrace !== undefined })
      : undefined;
  const learnStarted = new Date();
  const pipeline = buildPipeline(target, MODES[kind], {
    run,
    proc: execs,
    orchestrator: orchestratorFromEnv(deps.env),
    seal,
    profile,
    resolvedHosts: hostResolver.resolved,
    learner,
    engine:
      eventsOf !== undefined && docker
        ? { kind: 'stream', docker, containerId: eventsOf, signal: deps.signal }
        : undefined,
    countGaps: kind === 'pod',
  });
  let learned: Profile | undefined;
  const finishLearning = (): Profile | undefined => {
    if (!learner || learned) return learned;
    learned = learner.profile();
    if (options.learnOut) writeProfileFile(options.learnOut, learned, target.name, learner.notes());
    const trace = options.runtimeTrace;
    const predicate = trace
      ? learner.runtimeTrace({
          monitor: { version: options.version, mode: kind },
          monitoredProcess: trace.monitoredProcess,
          startedOn: learnStarted,
          finishedOn: new Date(),
        })
      : undefined;
    if (trace && predicate && options.learnOut) writeRuntimeTraceFile(trace.file, predicate, options.learnOut);
    return learned;
  };

  let api: Awaited<ReturnType<typeof listenApi>> | undefined;
  if (options.listen) {
    const app = createApi({
      status: () => pipeline.status(),
      events: (q) => pipeline.recent(q),
      profile: () => pipeline.profile() ?? learned,
      endLearning: learner
        ? () => {
            const p = finishLearning();
            if (p && options.afterLearn) pipeline.useProfile(p, options.afterLearn, options.learnOut ?? 'learned');
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

  let stopped = false;
  let command: StartedCommand | undefined;
  let profileOut: Profile | undefined;
  try {
    // `-- COMMAND` starts now, once everything is ready: the first tick sees its first process
    command = resolved.startCommand?.();
    await runLoop(run, {
      pipelines: () => [pipeline],
      tickMs: options.tickMs,
      signal: deps.signal,
      durationMs: options.durationMs,
      // the command exited; the container was removed (the event goes out with the last tick)
      until: [command?.exit, pipeline.follower?.removed].filter((p) => p !== undefined),
      wake: connector,
      started: async (end) => {
        warnUnreadable(pipeline, options.procRoot, logger);
        if (
          seal &&
          (seal.status === 'unsealed' || seal.status === 'invalid') &&
          options.mode === 'enforce' &&
          options.onUnsealed === 'stop'
        ) {
          const engineTarget =
            target.container?.id ?? (options.podDocker ? podContainerIdOf(proc, process.pid) : undefined);
          stopped = await stopTarget({
            event: {
              target: target.name,
              why: `seal ${seal.status}`,
              mode: options.mode,
              version: options.version,
              seal: sealStamp(seal),
              container: target.container && {
                id: target.container.id,
                name: target.container.name,
                image: { name: target.container.image },
              },
              host: run.hostName,
            },
            dryRun: options.dryRun,
            report: (event) => pipeline.report(event),
            flush: () => dispatcher.flush(),
            stopContainer:
              engineTarget !== undefined && docker ? () => docker.stopContainer(engineTarget, 5) : undefined,
            processes: [...pipeline.tracker.processes().values()],
            killer: createKiller(proc, { protect: [process.pid] }),
            stillRunning: (pid, startTicks) => proc.stat(pid)?.startTicks === startTicks,
          });
          if (stopped) end();
        }
        deps.onReady?.({ port: api?.port, pipeline });
      },
    });
    const child = command?.child;
    if (child && child.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (command) await command.exit;
    profileOut = finishLearning();
  } finally {
    hostResolver.stop();
    await pipeline.close();
    await dispatcher.close();
    if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  }
  const followedState = pipeline.follower?.state();
  if (followedState?.state === 'removed' && !deps.signal.aborted)
    throw new EnvironmentError(
      'GONE',
      `container ${followedState.name} (${followedState.id.slice(0, 12)}) was removed: nothing left to watch${
        profileOut && options.learnOut ? `; the profile learned until then is in ${options.learnOut}` : ''
      }`,
    );
  return { commandExit: command ? await command.exit : undefined, profile: profileOut, pipeline, stopped, seal };
}

interface StartedCommand {
  child: ChildProcess;
  /** its exit code once it ends (127: it could not be started; 128: killed by a signal) */
  exit: Promise<number>;
}

interface ResolvedTarget {
  kind: 'pod' | 'container' | 'command';
  target: Target;
  /** `--container`: the image the container runs (its seal is checked against it) */
  imageId?: string;
  /** `-- COMMAND`: starts it (its process tree is the target's scope from then on) */
  startCommand?: () => StartedCommand;
  /** `--container`: the kernel proc connector (or its polling fallback), and its view of /proc the scope reads */
  connector?: ProcConnector;
  proc?: ProcFs;
}

/** What the flags name: a container (`--container`), a command to start (`-- CMD`), or else the pod around us. */
async function resolveTarget(
  options: RunWatchOptions,
  proc: ProcFs,
  docker: DockerClient | undefined,
  logger: Logger,
  opened: { close(): void }[],
): Promise<ResolvedTarget> {
  if (options.container) {
    if (!docker) throw new UsageError('MISSING_ARGUMENT', '--container needs the Docker engine (--docker-socket)');
    const inspect = await docker.inspectContainer(options.container);
    if (!inspect.State.Running) throw new EnvironmentError('GONE', `container ${options.container} is not running`);
    const name = inspect.Name.replace(/^\//, '');
    // Every exec of the container is snapshotted by the connector's own thread when it happens, so a program is
    // seen however late the loop's next tick comes: polled, a busy host delayed ticks past the life of a 1 s
    // `docker exec` and it was never seen (issue #13 item 8). Falls back to polling where the connector does not
    // open (not root in the host's PID and network namespaces), said in one line and in sealwatch_exec_source.
    const connector = await createProcConnector({
      proc,
      logger,
      enabled: options.procConnector !== false,
      interesting: (cgroup) => cgroup !== undefined && containerIdFromCgroup(cgroup) === inspect.Id,
    });
    opened.push(connector);
    const view = connector.view();
    return {
      kind: 'container',
      target: {
        name: `container ${name} (${inspect.Id.slice(0, 12)})`,
        scope: containerScope(view, inspect.Id, inspect.State.Pid),
        container: { id: inspect.Id, name, image: inspect.Config.Image },
      },
      imageId: inspect.Image,
      connector,
      proc: view,
    };
  }
  if (options.command && options.command.length > 0) {
    const [cmd, ...args] = options.command;
    let rootPid: number | undefined;
    const startCommand = (): StartedCommand => {
      const child = spawn(cmd!, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
      const exit = new Promise<number>((resolve) => {
        child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
        child.once('error', (err) => {
          logger.error(`cannot start ${cmd!}: ${err.message}`);
          resolve(127);
        });
      });
      if (child.pid === undefined) throw new UsageError('BAD_ARGUMENT', `cannot start command: ${cmd!}`);
      rootPid = child.pid;
      return { child, exit };
    };
    // detached: the child leads a new session; its whole tree shares that session id
    return {
      kind: 'command',
      target: {
        name: `command ${options.command.join(' ')}`,
        scope: treeScope(
          () => rootPid,
          () => rootPid,
        ),
      },
      startCommand,
    };
  }
  return { kind: 'pod', target: { name: `pid namespace of ${options.procRoot}`, scope: podScope(process.pid, proc) } };
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

/**
 * One warning at start when the watcher may not read the processes it was given (another user's, without
 * CAP_SYS_PTRACE): their events would carry no executable and no user.
 */
function warnUnreadable(pipeline: Pipeline, procRoot: string, logger: Logger): void {
  const watched = [...pipeline.tracker.processes().values()];
  const denied = watched.filter((p) => {
    try {
      readlinkSync(join(procRoot, String(p.pid), 'exe'));
      return false;
    } catch (error) {
      return errnoCode(error) === 'EACCES' || errnoCode(error) === 'EPERM';
    }
  });
  if (denied.length === 0) return;
  const some = denied
    .slice(0, 5)
    .map((p) => `${p.pid} (${p.name})`)
    .join(', ');
  logger.warn(
    `cannot read ${denied.length} of ${watched.length} watched processes (${some}${denied.length > 5 ? ', …' : ''}) as uid ${process.getuid?.() ?? '?'}: their events carry no executable or user; run as root with CAP_SYS_PTRACE (sealwatch doctor checks this)`,
  );
}
