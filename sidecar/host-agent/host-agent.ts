import type { DockerClient } from '../../shared/docker/index.ts';
import type { Event } from '../../shared/events/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { parseOutputUrl } from '../../shared/outputs/index.ts';
import { loadTrustedKeys } from '../../shared/signing/index.ts';
import { bindConnectorMetrics, bindDockerEventMetrics, createApi, listenApi } from '../api/index.ts';
import {
  buildPipeline,
  MODES,
  openRun,
  runLoop,
  sumCounts,
  watchStatus,
  type Pipeline,
  type WatchStatus,
} from '../pipeline/index.ts';
import { checkImageSeal, uncheckedSeal, type SealCheck } from '../seal/index.ts';
import {
  containerEventSource,
  containerScope,
  createHashCache,
  createProcConnector,
  followContainerChanges,
  type ContainerEventSource,
  type ProcConnector,
} from '../sources/index.ts';
import { containerIdFromCgroup, createProcFs } from '../sources/proc/index.ts';

/**
 * `sealwatch watch --docker`: one agent per host, every running container of the engine. Composition only: each
 * container gets the one pipeline (pipeline/) with the `host-container` sources (pipeline/modes.ts), in a container
 * scope, judged with that container's verified profile; all of them read /proc through one view of the kernel
 * proc connector (when it answers), which snapshots every exec so the trackers see processes that were gone
 * before their tick, and wakes the loop on each exec. Containers come and go with the engine's events.
 */
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
  status: SealCheck['status'];
  detail?: string;
}

interface WatchedContainer {
  name: string;
  image: string;
  pipeline: Pipeline;
  seal: SealState;
  /** this container's share of the agent's engine event stream */
  events: ContainerEventSource;
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
  const watched = new Map<string, WatchedContainer>();
  const connector = await createProcConnector({
    proc: createProcFs(options.procRoot),
    logger,
    enabled: options.procConnector,
    interesting: (cgroup) => {
      const id = cgroup === undefined ? undefined : containerIdFromCgroup(cgroup);
      return id !== undefined && watched.has(id);
    },
  });
  const hashes = createHashCache(connector.view());
  const run = openRun({ settings: options, logger, outputs: specs, stdout: deps.stdout, env: deps.env });
  const { dispatcher, metrics } = run;
  bindConnectorMetrics(metrics, connector);

  /** containers being added (a start event and the listing can name the same one at once) */
  const adding = new Map<string, Promise<void>>();
  const add = (id: string): Promise<void> => {
    let pending = adding.get(id);
    if (!pending) {
      pending = addNow(id).finally(() => adding.delete(id));
      adding.set(id, pending);
    }
    return pending;
  };
  const addNow = async (id: string): Promise<void> => {
    if (watched.has(id)) return;
    const inspect = await docker.inspectContainer(id);
    if (!inspect.State.Running || inspect.State.Pid <= 0 || watched.has(inspect.Id)) return;
    const name = inspect.Name.replace(/^\//, '');
    // The same check as the sidecar's --container mode; its verdict goes through the rules (seal.unsealed, seal.invalid).
    const seal = trusted === undefined ? uncheckedSeal() : await checkImageSeal(docker, inspect.Image, trusted);
    const events = containerEventSource({ containerId: inspect.Id });
    // a view of its own: each view lists the PIDs exec'd since its own last listing
    const proc = connector.view();
    const pipeline = buildPipeline(
      {
        name: `container ${name} (${inspect.Id.slice(0, 12)})`,
        scope: containerScope(proc, inspect.Id, inspect.State.Pid),
        container: { id: inspect.Id, name, image: inspect.Config.Image },
      },
      MODES['host-container'],
      { run, proc, hashes, seal, engine: { kind: 'feed', source: events } },
    );
    watched.set(inspect.Id, { name, image: inspect.Config.Image, pipeline, seal, events });
    logger.info(`watching container ${name} (${inspect.Id.slice(0, 12)}), seal ${seal.status}`);
  };

  const remove = async (id: string): Promise<void> => {
    const entry = watched.get(id);
    if (!entry) return;
    watched.delete(id);
    entry.pipeline.tick(Date.now());
    await entry.pipeline.close();
    logger.info(`stopped watching container ${entry.name} (${id.slice(0, 12)})`);
  };

  // Subscribe to events first, then list: a container started in between is seen by one or the other. The
  // stream is kept open across engine restarts; after a break, the list is read again for what it missed.
  const changes = new Set<Promise<void>>();
  const track = (change: Promise<void>): void => {
    changes.add(change);
    void change.finally(() => changes.delete(change));
  };
  const reconcile = async (): Promise<void> => {
    const running = new Set<string>();
    for (const c of await docker.listContainers()) {
      running.add(c.Id);
      await add(c.Id).catch((e: unknown) => warn(logger, c.Id, e));
    }
    for (const id of [...watched.keys()]) if (!running.has(id)) await remove(id);
  };
  const stream = followContainerChanges(
    docker,
    {
      filters: { type: ['container'] },
      signal: deps.signal,
      onBreak: (reason, retryMs) => {
        logger.warn(`Docker event stream ended (${reason}); subscribing again in ${retryMs} ms`);
        for (const entry of watched.values()) entry.events.interrupted(reason);
      },
      onResubscribe: () => track(reconcile().catch((e: unknown) => logger.warn(`listing containers: ${String(e)}`))),
    },
    (change) => {
      if (change.kind === 'start') track(add(change.id).catch((e: unknown) => warn(logger, change.id, e)));
      else if (change.kind === 'stop') track(remove(change.id));
      else watched.get(change.id)?.events.accept(change);
    },
  );
  bindDockerEventMetrics(metrics, stream);
  for (const c of await docker.listContainers()) await add(c.Id).catch((e: unknown) => warn(logger, c.Id, e));

  const agent: HostAgent = {
    containers: () => [...watched.keys()],
    // Each container's pipeline keeps its recent events; one dispatcher numbers them all, so seq orders them.
    recent: (query) =>
      [...watched.values()]
        .flatMap((c) => c.pipeline.recent(query))
        .sort((x, y) => (x.sealwatch.seq ?? 0) - (y.sealwatch.seq ?? 0))
        .slice(-query.limit),
    status: () => {
      const per = [...watched].map(([id, c]) => ({ id, c, s: c.pipeline.status() }));
      return {
        ...watchStatus({
          mode: options.mode,
          target: `host agent: ${watched.size} container(s) of the Docker engine`,
          startedAt: run.startedAt,
          ticks: run.ticks,
          profileLoaded: per.length > 0 && per.every((p) => p.s.profileLoaded),
          // each container is judged by its own seal's verdict, with or without a profile
          needsProfile: false,
          counts: sumCounts(per.map((p) => p.s)),
          outputs: dispatcher.stats(),
        }),
        execSource: connector.mode,
        execSourceReason: connector.reason,
        execReaderPriority: connector.readerPriority,
        connector: { ...connector.stats },
        dockerEventsSkipped: stream.skipped,
        dockerEventsInterrupted: stream.interruptions,
        containers: per.map(({ id, c, s }) => ({
          id,
          name: c.name,
          image: c.image,
          seal: { status: c.seal.status, detail: c.seal.detail },
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

  await runLoop(run, {
    pipelines: () => [...watched.values()].map((c) => c.pipeline),
    tickMs: options.tickMs,
    signal: deps.signal,
    wake: connector,
    started: () => deps.onReady?.({ port: api?.port, agent }),
  });
  await Promise.allSettled([...changes]);
  await stream.done;
  for (const id of [...watched.keys()]) await remove(id);
  connector.close();
  await dispatcher.close();
  if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  return agent;
}

function warn(logger: Logger, id: string, error: unknown): void {
  logger.warn(`container ${id.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`);
}
