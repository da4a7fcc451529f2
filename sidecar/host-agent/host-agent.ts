import { hostname } from 'node:os';
import { followEvents, type DockerClient } from '../../shared/docker/index.ts';
import type { Event } from '../../shared/events/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl, type Dispatcher } from '../../shared/outputs/index.ts';
import { loadTrustedKeys } from '../../shared/signing/index.ts';
import {
  bindConnectorMetrics,
  bindDockerEventMetrics,
  createApi,
  createWatchMetrics,
  listenApi,
  type WatchMetrics,
  type WatchStatus,
} from '../api/index.ts';
import { createAggregator, createKiller, createResponder } from '../respond/index.ts';
import { containerIdFromCgroup, createProcFs, type ProcFs } from '../sources/proc/index.ts';
import { createProcConnector, type ProcConnector } from '../sources/proc-connector.ts';
import {
  containerScope,
  createHashCache,
  createProcessTracker,
  createResourceSource,
  createSocketSource,
  type HashCache,
  type Observation,
  type Source,
} from '../sources/index.ts';
import type { Learner } from '../learn/index.ts';
import { createWatcher, type Watcher } from '../watch.ts';
import { checkImageSeal, sealSource, type SealCheck } from '../seal/index.ts';
import { containerChangesOf, streamBreakObservation } from './docker-event.ts';

/**
 * `sealwatch watch --docker`: one agent per host, every running container of the engine.
 * Composition only: each container gets the watcher's own pipeline (process tracker in a container
 * scope → normalize → rules with that container's verified profile → responder), fed by one shared
 * /proc reader; the kernel proc connector (when it answers) snapshots every exec so the trackers see
 * processes that were gone before their tick. Containers come and go with the engine's events.
 */
/** Delay of the extra tick after an exec snapshot (batches a burst of execs into one tick). */
const EXEC_TICK_MS = 5;

/**
 * An exec in a watched container: tick soon (at most one extra tick per EXEC_TICK_MS) rather than on the next
 * period, so detection latency is milliseconds, not half a period. Returns the function that stops it.
 */
export function tickOnExec(connector: Pick<ProcConnector, 'onSnapshot'>, tick: () => void): () => void {
  let soon: NodeJS.Timeout | undefined;
  const unsubscribe = connector.onSnapshot(() => {
    soon ??= setTimeout(() => {
      soon = undefined;
      tick();
    }, EXEC_TICK_MS);
  });
  return () => {
    unsubscribe();
    clearTimeout(soon);
  };
}

export interface HostAgentOptions {
  procRoot: string;
  mode: 'monitor' | 'enforce';
  dryRun: boolean;
  tickMs: number;
  outputs: readonly string[];
  listen?: { host: string; port: number };
  apiToken?: string;
  emitAll: boolean;
  killMinSeverity: number;
  aggregateWindowMs: number;
  /** PEM files of the keys trusted to seal images; without any, seals are not verified (and that is reported). */
  trustedKeyFiles: readonly string[];
  /** false: do not open the kernel proc connector (poll /proc only). */
  procConnector: boolean;
  version: string;
}

export interface HostAgentDeps {
  logger: Logger;
  docker: DockerClient;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onReady?: (info: { port?: number; agent: HostAgent }) => void;
}

export interface SealState {
  status: SealCheck['status'] | 'not-checked';
  detail?: string;
}

interface WatchedContainer {
  id: string;
  name: string;
  image: string;
  initPid: number;
  watcher: Watcher;
  seal: SealState;
  docker: Observation[];
}

export interface HostAgentStatus extends WatchStatus {
  execSource: 'proc-connector' | 'proc-poll';
  execSourceReason?: string;
  /** scheduling of the connector's socket thread: 'SCHED_FIFO 1', 'nice -20' or 'normal' */
  execReaderPriority?: string;
  connector: ProcConnector['stats'];
  /** engine event records that did not fit, and times the event stream ended and was subscribed again */
  dockerEventsSkipped: number;
  dockerEventsInterrupted: number;
  containers: {
    id: string;
    name: string;
    image: string;
    seal: SealState;
    profileLoaded: boolean;
    processesWatched: number;
    alerts: number;
  }[];
}

export interface HostAgent {
  status(): HostAgentStatus;
  recent(query: { since?: string; rule?: string; limit: number }): Event[];
  containers(): string[];
}

export async function runHostAgent(options: HostAgentOptions, deps: HostAgentDeps): Promise<HostAgent> {
  const { logger, docker } = deps;
  const specs = options.outputs.map(parseOutputUrl);
  const trusted = options.trustedKeyFiles.length > 0 ? loadTrustedKeys(options.trustedKeyFiles) : undefined;
  await docker.ping();
  const proc = createProcFs(options.procRoot);
  const watched = new Map<string, WatchedContainer>();
  const connector = await createProcConnector({
    proc,
    logger,
    enabled: options.procConnector,
    interesting: (cgroup) => {
      const id = cgroup === undefined ? undefined : containerIdFromCgroup(cgroup);
      return id !== undefined && watched.has(id);
    },
  });
  const hashes = createHashCache(connector.view());
  const metrics = createWatchMetrics();
  bindConnectorMetrics(metrics, connector);
  const dispatcher = createDispatcher(specs, { logger, version: options.version, stdout: deps.stdout, env: deps.env });
  const startedAt = new Date().toISOString();
  let ticks = 0;

  const add = async (id: string): Promise<void> => {
    if (watched.has(id)) return;
    const inspect = await docker.inspectContainer(id);
    if (!inspect.State.Running || inspect.State.Pid <= 0) return;
    const name = inspect.Name.replace(/^\//, '');
    // The same check as the sidecar's --container mode; its verdict goes through the rules (seal.unsealed, seal.invalid).
    const seal = trusted === undefined ? undefined : await checkImageSeal(docker, inspect.Image, trusted);
    const entry = buildContainerPipeline({
      id: inspect.Id,
      name,
      imageName: inspect.Config.Image,
      imageId: inspect.Image,
      initPid: inspect.State.Pid,
      proc: connector.view(),
      hashes,
      seal,
      options,
      dispatcher,
      metrics,
      logger,
    });
    watched.set(inspect.Id, entry);
    logger.info(`watching container ${name} (${inspect.Id.slice(0, 12)}), seal ${entry.seal.status}`);
  };

  const remove = async (id: string): Promise<void> => {
    const entry = watched.get(id);
    if (!entry) return;
    watched.delete(id);
    entry.watcher.tick(Date.now());
    await entry.watcher.close();
    logger.info(`stopped watching container ${entry.name} (${id.slice(0, 12)})`);
  };

  // Subscribe to events first, then list: a container started in between is seen by one or the other. The
  // stream is kept open across engine restarts; after a break, the list is read again for what it missed.
  let eventsSkipped = 0;
  let eventsInterrupted = 0;
  const changes: Promise<void>[] = [];
  const reconcile = async (): Promise<void> => {
    const running = new Set<string>();
    for (const c of await docker.listContainers()) {
      running.add(c.Id);
      await add(c.Id).catch((e: unknown) => warn(logger, c.Id, e));
    }
    for (const id of [...watched.keys()]) if (!running.has(id)) await remove(id);
  };
  const events = followEvents(
    docker,
    {
      filters: { type: ['container'] },
      signal: deps.signal,
      onSkipped: () => eventsSkipped++,
      onBreak: (reason, retryMs) => {
        eventsInterrupted++;
        logger.warn(`Docker event stream ended (${reason}); subscribing again in ${retryMs} ms`);
        for (const [id, entry] of watched) entry.docker.push(streamBreakObservation(id.slice(0, 12), reason));
      },
      onResubscribe: () =>
        changes.push(reconcile().catch((e: unknown) => logger.warn(`listing containers: ${String(e)}`))),
    },
    (event) => {
      const meant = containerChangesOf(event);
      if (!meant) {
        eventsSkipped++;
        return;
      }
      for (const change of meant) {
        if (change.kind === 'start') changes.push(add(change.id).catch((e: unknown) => warn(logger, change.id, e)));
        else if (change.kind === 'stop') changes.push(remove(change.id));
        else
          watched.get(change.id)?.docker.push({
            type: 'docker',
            action: change.action,
            container: change.id.slice(0, 12),
            detail: change.detail,
          });
      }
    },
  );
  bindDockerEventMetrics(metrics, {
    get interruptions() {
      return eventsInterrupted;
    },
    get skipped() {
      return eventsSkipped;
    },
  });
  for (const c of await docker.listContainers()) await add(c.Id).catch((e: unknown) => warn(logger, c.Id, e));

  const agent: HostAgent = {
    containers: () => [...watched.keys()],
    // Each container's watcher keeps its recent events; one dispatcher numbers them all, so seq orders them.
    recent: (query) =>
      [...watched.values()]
        .flatMap((c) => c.watcher.recent(query))
        .sort((x, y) => (x.sealwatch.seq ?? 0) - (y.sealwatch.seq ?? 0))
        .slice(-query.limit),
    status: () => {
      const per = [...watched.values()].map((c) => ({ c, s: c.watcher.status() }));
      const sum = (f: (s: WatchStatus) => number): number => per.reduce((n, p) => n + f(p.s), 0);
      return {
        mode: options.mode,
        target: `host agent: ${watched.size} container(s) of the Docker engine`,
        ready: ticks > 0,
        sourcesRunning: ticks > 0,
        profileLoaded: per.length > 0 && per.every((p) => p.s.profileLoaded),
        startedAt,
        ticks,
        processesWatched: sum((s) => s.processesWatched),
        processesSeen: sum((s) => s.processesSeen),
        pidGaps: sum((s) => s.pidGaps),
        alerts: sum((s) => s.alerts),
        suppressed: sum((s) => s.suppressed),
        killed: sum((s) => s.killed),
        killFailed: sum((s) => s.killFailed),
        outputs: dispatcher.stats(),
        watcherRssMiB: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
        execSource: connector.mode,
        execSourceReason: connector.reason,
        execReaderPriority: connector.readerPriority,
        connector: { ...connector.stats },
        dockerEventsSkipped: eventsSkipped,
        dockerEventsInterrupted: eventsInterrupted,
        containers: per.map(({ c, s }) => ({
          id: c.id,
          name: c.name,
          image: c.image,
          seal: c.seal,
          profileLoaded: s.profileLoaded,
          processesWatched: s.processesWatched,
          alerts: s.alerts,
        })),
      };
    },
  };

  let api: Awaited<ReturnType<typeof listenApi>> | undefined;
  if (options.listen) {
    const app = createApi({
      status: () => agent.status(),
      events: (q) => agent.recent(q),
      profile: () => undefined,
      token: options.apiToken,
      metrics,
      logger,
    });
    api = await listenApi(app, options.listen.host, options.listen.port);
    logger.info(`API listening on http://${options.listen.host}:${api.port}`);
  }
  logger.info(
    connector.mode === 'proc-connector'
      ? 'exec events: kernel proc connector'
      : `exec events: /proc polling (${connector.reason ?? 'connector off'})`,
  );

  const tick = (): void => {
    const now = Date.now();
    for (const c of watched.values()) {
      try {
        c.watcher.tick(now);
      } catch (error) {
        logger.error(`tick failed for container ${c.name}`, { error: String(error) });
      }
    }
    ticks++;
  };
  tick();
  deps.onReady?.({ port: api?.port, agent });
  const timer = setInterval(tick, options.tickMs);
  const stopExecTicks = tickOnExec(connector, tick);
  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) resolve();
    deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  stopExecTicks();
  tick();
  await Promise.allSettled(changes);
  await events;
  for (const id of [...watched.keys()]) await remove(id);
  connector.close();
  await dispatcher.close();
  if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  return agent;
}

function warn(logger: Logger, id: string, error: unknown): void {
  logger.warn(`container ${id.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`);
}

/** What a container's pipeline takes from the agent's options (learn mode: see host-learn.ts). */
export type PipelineOptions = Pick<
  HostAgentOptions,
  'dryRun' | 'killMinSeverity' | 'aggregateWindowMs' | 'emitAll' | 'version'
> & { mode: 'learn' | 'monitor' | 'enforce' };

/** One container's watcher, fed by the shared /proc view (with the connector's snapshots). */
export function buildContainerPipeline(input: {
  id: string;
  name: string;
  imageName: string;
  imageId: string;
  initPid: number;
  proc: ProcFs;
  hashes: HashCache;
  /** undefined when no key is trusted (--pub): seals are then not checked, and that is reported. */
  seal: SealCheck | undefined;
  options: PipelineOptions;
  dispatcher: Dispatcher;
  metrics: WatchMetrics;
  logger: Logger;
  /** learn mode: every observation goes to it as well */
  learner?: Learner;
}): WatchedContainer {
  const { proc, options, logger } = input;
  const scope = containerScope(proc, input.id, input.initPid);
  const tracker = createProcessTracker({ proc, scope, hashes: input.hashes, logger, countGaps: false });
  const docker: Observation[] = [];
  const { seal } = input;
  const sealState: SealState = seal
    ? { status: seal.status, ...(seal.detail ? { detail: seal.detail } : {}) }
    : { status: 'not-checked', detail: 'no trusted key given (--pub)' };
  const sources: Source[] = [
    sealSource(seal),
    { name: 'processes', poll: (now) => tracker.tick(now) },
    // Sockets owned by this container's processes only (a container on the host network shares the host's tables).
    createSocketSource({ proc, tracker, anchor: () => scope.netAnchor(), requireOwner: true }),
    createResourceSource({ proc, tracker }),
    { name: 'docker', poll: () => docker.splice(0) },
  ];
  const responder = createResponder({
    mode: options.mode,
    dryRun: options.dryRun,
    killMinSeverity: options.killMinSeverity,
    killer: createKiller(proc, { protect: [process.pid] }),
    aggregator: createAggregator({ windowMs: options.aggregateWindowMs }),
  });
  const watcher = createWatcher({
    tracker,
    sources,
    responder,
    dispatcher: input.dispatcher,
    metrics: input.metrics,
    logger,
    target: `container ${input.name} (${input.id.slice(0, 12)})`,
    profile: seal?.profile,
    profileSource: seal?.profile ? `seal of ${input.imageName}` : undefined,
    inventory: seal?.inventory,
    seal: sealState,
    learner: input.learner,
    emitAll: options.emitAll,
    context: {
      mode: options.mode,
      version: options.version,
      hostName: hostname(),
      container: { id: input.id, name: input.name, image: { name: input.imageName } },
    },
  });
  return {
    id: input.id,
    name: input.name,
    image: input.imageName,
    initPid: input.initPid,
    watcher,
    seal: sealState,
    docker,
  };
}
