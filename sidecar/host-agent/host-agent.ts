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
import { InternalError } from '../../shared/errors/index.ts';
import { checkImageSeal, checkPodSeal, uncheckedSeal, type SealCheck } from '../seal/index.ts';
import {
  containerdIdentity,
  containerdStateDir,
  createContainerdFollower,
  pingContainerd,
  type BundleContainer,
  type ContainerdFollower,
  type ContainerdFollowerStats,
} from './containerd/index.ts';
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
 * `sealwatch watch --docker` / `--containerd`: one agent per host, every running container of the Docker engine or
 * of containerd (its OCI bundles: host-agent/containerd/). Composition only: each
 * container gets the one pipeline (pipeline/) with the `host-container` sources (pipeline/modes.ts), in a container
 * scope, judged with that container's verified profile; all of them read /proc through one view of the kernel
 * proc connector (when it answers), which snapshots every exec so the trackers see processes that were gone
 * before their tick, and wakes the loop on each exec. Containers come and go with the engine's events, or with
 * containerd's task dirs.
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
  /**
   * `--containerd SOCKET`: the containers of this containerd (found through its OCI bundles) instead of the Docker
   * engine's; `state` is its state dir (default: the socket's dir), `namespaces` the containerd namespaces watched.
   */
  containerd?: { socket: string; state?: string; namespaces: readonly string[] };
}

export interface HostAgentDeps {
  logger: Logger;
  /** the Docker engine (not used with `containerd`) */
  docker?: DockerClient;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onReady?: (info: { port?: number; agent: HostAgent }) => void;
}

interface WatchedContainer {
  name: string;
  image: string;
  pipeline: Pipeline;
  /** this container's share of the agent's engine event stream (containerd: its execs) */
  events: ContainerEventSource;
  /** Kubernetes pod of the container (containerd: from the CRI's annotations) */
  pod?: { name?: string; namespace?: string };
}

/** A running container to watch, whichever runtime found it. */
interface FoundContainer {
  id: string;
  name: string;
  image: string;
  initPid: number;
  orchestrator?: Event['orchestrator'];
  seal(): Promise<SealCheck>;
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
  /** `--containerd`: bundles read, skipped (unusable) and capped, annotation values dropped, inotify errors */
  containerd?: ContainerdFollowerStats;
  containers: {
    id: string;
    name: string;
    image: string;
    /** Kubernetes (containerd): the container's pod */
    pod?: { name?: string; namespace?: string };
    /** the pipeline's seal verdict (a later identity check can turn it invalid), with the check's progress */
    seal: NonNullable<WatchStatus['seal']>;
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
  const containerd = options.containerd && {
    ...options.containerd,
    state: containerdStateDir(options.containerd.socket, options.containerd.state),
  };
  if (containerd) await pingContainerd(containerd.socket);
  else if (docker) await docker.ping();
  else throw new InternalError('INVARIANT', 'the host agent needs the Docker engine or containerd');
  const runtimeName = containerd ? `containerd (${containerd.socket})` : 'the Docker engine';
  const watched = new Map<string, WatchedContainer>();
  /** an exec in a container not (yet) watched: containerd's bundles are looked at again, at most every 100 ms */
  let lastHint = 0;
  let hint: (() => void) | undefined;
  const unknownContainer = (): void => {
    const now = Date.now();
    if (hint === undefined || now - lastHint < 100) return;
    lastHint = now;
    hint();
  };
  const connector = await createProcConnector({
    proc: createProcFs(options.procRoot),
    logger,
    enabled: options.procConnector,
    interesting: (cgroup) => {
      const id = cgroup === undefined ? undefined : containerIdFromCgroup(cgroup);
      if (id !== undefined && !watched.has(id)) unknownContainer();
      return id !== undefined && watched.has(id);
    },
  });
  const hashes = createHashCache(connector.view());
  const run = openRun({ settings: options, logger, outputs: specs, stdout: deps.stdout, env: deps.env });
  const { dispatcher, metrics } = run;
  bindConnectorMetrics(metrics, connector);

  /** containers being added (a start event and the listing can name the same one at once) */
  const adding = new Map<string, Promise<void>>();
  const add = (id: string, find: () => Promise<FoundContainer | undefined>): Promise<void> => {
    let pending = adding.get(id);
    if (!pending) {
      pending = addNow(id, find).finally(() => adding.delete(id));
      adding.set(id, pending);
    }
    return pending;
  };
  const addNow = async (id: string, find: () => Promise<FoundContainer | undefined>): Promise<void> => {
    if (watched.has(id)) return;
    const found = await find();
    if (!found || watched.has(found.id)) return;
    // its verdict goes through the rules (seal.unsealed, seal.invalid)
    const seal = trusted === undefined ? uncheckedSeal() : await found.seal();
    const events = containerEventSource({ containerId: found.id });
    // a view of its own: each view lists the PIDs exec'd since its own last listing
    const proc = connector.view();
    const pipeline = buildPipeline(
      {
        name: `container ${found.name} (${found.id.slice(0, 12)})`,
        scope: containerScope(proc, found.id, found.initPid),
        container: { id: found.id, name: found.name, image: found.image },
      },
      MODES['host-container'],
      {
        run,
        proc,
        hashes,
        seal,
        engine: { kind: 'feed', source: events },
        ...(found.orchestrator ? { orchestrator: found.orchestrator } : {}),
      },
    );
    const pod = found.orchestrator && {
      name: found.orchestrator.resource?.name,
      namespace: found.orchestrator.namespace,
    };
    watched.set(found.id, { name: found.name, image: found.image, pipeline, events, ...(pod ? { pod } : {}) });
    logger.info(`watching container ${found.name} (${found.id.slice(0, 12)}), seal ${seal.status}`);
  };

  /** Docker: the container as the engine describes it, its seal verified against the image in the engine. */
  const fromEngine = (engine: DockerClient, id: string) => async (): Promise<FoundContainer | undefined> => {
    const inspect = await engine.inspectContainer(id);
    if (!inspect.State.Running || inspect.State.Pid <= 0) return undefined;
    return {
      id: inspect.Id,
      name: inspect.Name.replace(/^\//, ''),
      image: inspect.Config.Image,
      initPid: inspect.State.Pid,
      // the same check as the sidecar's --container mode
      seal: () => checkImageSeal(engine, inspect.Image, trusted!),
    };
  };

  /** containerd: the container as its bundle describes it, its seal read and checked through its root, as in a pod. */
  const fromBundle = (c: BundleContainer) => (): Promise<FoundContainer | undefined> => {
    const identity = containerdIdentity(c);
    return Promise.resolve({
      id: c.id,
      name: identity.name,
      image: identity.image,
      initPid: c.pid,
      ...(identity.orchestrator ? { orchestrator: identity.orchestrator } : {}),
      seal: () =>
        Promise.resolve(
          checkPodSeal({ procRoot: options.procRoot, pids: [c.pid], selfPid: process.pid, trusted: trusted! }),
        ),
    });
  };

  const remove = async (id: string): Promise<void> => {
    const entry = watched.get(id);
    if (!entry) return;
    watched.delete(id);
    entry.pipeline.tick(Date.now());
    await entry.pipeline.close();
    logger.info(`stopped watching container ${entry.name} (${id.slice(0, 12)})`);
  };

  const changes = new Set<Promise<void>>();
  const track = (change: Promise<void>): void => {
    changes.add(change);
    void change.finally(() => changes.delete(change));
  };

  /**
   * Docker: subscribe to events first, then list, so a container started in between is seen by one or the other.
   * The stream is kept open across engine restarts; after a break, the list is read again for what it missed.
   */
  const followDocker = async (engine: DockerClient): Promise<Runtime> => {
    const reconcile = async (): Promise<void> => {
      const running = new Set<string>();
      for (const c of await engine.listContainers()) {
        running.add(c.Id);
        await add(c.Id, fromEngine(engine, c.Id)).catch((e: unknown) => warn(logger, c.Id, e));
      }
      for (const id of [...watched.keys()]) if (!running.has(id)) await remove(id);
    };
    const stream = followContainerChanges(
      engine,
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
        if (change.kind === 'start')
          track(add(change.id, fromEngine(engine, change.id)).catch((e: unknown) => warn(logger, change.id, e)));
        else if (change.kind === 'stop') track(remove(change.id));
        else watched.get(change.id)?.events.accept(change);
      },
    );
    bindDockerEventMetrics(metrics, stream);
    for (const c of await engine.listContainers()) {
      await add(c.Id, fromEngine(engine, c.Id)).catch((e: unknown) => warn(logger, c.Id, e));
    }
    return { done: stream.done, skipped: () => stream.skipped, interruptions: () => stream.interruptions };
  };

  /**
   * containerd: its OCI bundles, followed by inotify and a rescan (host-agent/containerd/); an exec by the runtime
   * (`kubectl exec`) is the container's `container-exec` event, with the command once the process has exec'd.
   */
  const followContainerd = async (state: string, namespaces: readonly string[]): Promise<Runtime> => {
    const follower = createContainerdFollower(
      { state, proc: connector.view(), namespaces },
      {
        onStart: (c) => track(add(c.id, fromBundle(c)).catch((e: unknown) => warn(logger, c.id, e))),
        onStop: (c) => track(remove(c.id)),
        onExec: (c, exec) => track(reportExec(c.id, exec)),
        onSkip: (where, detail) => logger.warn(`containerd bundle ${where} skipped: ${detail}`),
      },
    );
    hint = () => follower.rescan();
    await Promise.allSettled([...changes]);
    return { done: Promise.resolve(), skipped: () => 0, interruptions: () => 0, follower };
  };
  /**
   * The command of an exec, read once the process left runc's init (2 s at most), then a `container-exec`. An
   * empty command line is a process between execve's new memory and its arguments: looked at again.
   */
  const reportExec = async (id: string, exec: { id: string; pid?: number }): Promise<void> => {
    const view = connector.view();
    let command: string[] | undefined;
    let started = false;
    for (let i = 0; i < 100 && exec.pid !== undefined; i++) {
      command = view.cmdline(exec.pid);
      if (command === undefined) break;
      // empty: mid-execve; `runc init`: the runtime's stage before the program (judged by its argv alone: read
      // from the host, its exe is the host's runc, which isRuntimeExecStage does not expect)
      started = command.length > 0 && !(command[0] === 'runc' && command[1] === 'init');
      if (started) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const why =
      exec.pid === undefined
        ? 'its pid file unreadable'
        : command === undefined
          ? `process ${exec.pid} gone`
          : `process ${exec.pid} not started in 2 s`;
    const detail = started ? command!.join(' ').slice(0, 4096) : `exec ${exec.id} (${why})`;
    watched.get(id)?.events.accept({ kind: 'observe', id, action: 'exec', detail });
  };

  const runtime = containerd
    ? await followContainerd(containerd.state, containerd.namespaces)
    : await followDocker(docker!);

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
          target: `host agent: ${watched.size} container(s) of ${runtimeName}`,
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
        dockerEventsSkipped: runtime.skipped(),
        dockerEventsInterrupted: runtime.interruptions(),
        ...(runtime.follower ? { containerd: { ...runtime.follower.stats } } : {}),
        containers: per.map(({ id, c, s }) => ({
          id,
          name: c.name,
          image: c.image,
          ...(c.pod ? { pod: c.pod } : {}),
          seal: s.seal ?? { status: 'unknown' },
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
  runtime.follower?.close();
  await runtime.done;
  for (const id of [...watched.keys()]) await remove(id);
  connector.close();
  await dispatcher.close();
  if (api) await new Promise<void>((resolve) => api.server.close(() => resolve()));
  return agent;
}

/** How the agent follows its runtime's containers. */
interface Runtime {
  done: Promise<void>;
  skipped: () => number;
  interruptions: () => number;
  follower?: ContainerdFollower;
}

function warn(logger: Logger, id: string, error: unknown): void {
  logger.warn(`container ${id.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`);
}
