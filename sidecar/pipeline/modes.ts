import type { DockerClient } from '../../shared/docker/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { createIdentitySource, type IdentitySource } from '../seal/identity-source.ts';
import { sealSource } from '../seal/seal-source.ts';
import type { SealCheck } from '../seal/seal-check.ts';
import {
  createContainerFollower,
  createDockerSource,
  createResourceSource,
  createSetuidScan,
  createSocketSource,
  type ContainerEventSource,
  type ContainerFollower,
  type DockerSource,
  type ProcessTracker,
  type Source,
} from '../sources/index.ts';
import type { ProcFs } from '../sources/proc/index.ts';
import { createConnectionLedger, type ConnectionLedger } from '../sources/connection-ledger.ts';
import { createConnectionSight, type ConnectionSight } from '../sources/sight/connection-sight.ts';
import { openInNamespaceWith, type OpenInNamespace } from '../sources/sight/destroy-socket.ts';
import type { SightKind, SightStats } from '../api/metrics.ts';
import {
  createFileSight,
  oldestProcess,
  type FileSightSource,
  type SightMetrics,
} from '../sources/sight/file-sight.ts';
import { loadSightNative, type SightNative } from '../sources/sight/native.ts';
import { createOwnOpens, type OwnOpens } from '../sources/sight/own-opens.ts';
import type { Target } from './target.ts';

/**
 * What each way of running the watcher observes: one list of sources per mode, and the only place where a
 * source is given to a mode. Every mode feeds the same pipeline (pipeline.ts) and the same loop (loop.ts).
 * To add a source: write its factory in sources/ (the `Source` interface: a name and `poll(now)` returning
 * observations; `stop()` if it holds something open), then add it to the lists below where it applies
 * (test/sidecar/pipeline-modes.test.ts lists each mode's sources).
 */
export type ModeName = 'pod' | 'container' | 'command' | 'host-container';

/** What a mode's sources are made of; the pipeline builds the tracker, the rest comes from the composition root. */
export interface SourceParts {
  target: Target;
  proc: ProcFs;
  tracker: ProcessTracker;
  logger: Logger;
  /** the watcher's own PID (pod mode shares the namespace: its own sockets are not the app's) */
  selfPid: number;
  /** the seal as checked; undefined when it was not looked at (learning) */
  seal: SealCheck | undefined;
  /** where the target's Docker engine events come from, when the mode has them */
  engine?: EngineEvents;
  /** file sight's addon, metrics and the loop's wake; undefined when it is off or missing (the poller alone) */
  sight?: { native: SightNative; metrics: SightMetrics; wake: () => void };
  /** connection sight where the mode has it (`--no-connection-sight`: false) */
  connectionSight?: boolean;
}

/**
 * A stream of the target container's own (`--container`; a pod given the Docker socket, for its app container),
 * or the host agent's engine-wide stream, which hands each container's pipeline its changes.
 */
export type EngineEvents =
  | { kind: 'stream'; docker: DockerClient; containerId: string; signal: AbortSignal }
  | { kind: 'feed'; source: ContainerEventSource };

export interface ModeSources {
  sources: Source[];
  /** `--container`: the container followed across restarts (its state is in the status; removal ends the run) */
  follower?: ContainerFollower;
  /** the target's own engine event stream, when it has one (its breaks and misfits are counted on /metrics) */
  engineStream?: DockerSource;
  /** a seal read from a root (pod, containerd): its files compared with the sealed inventory (progress in the status) */
  identity?: IdentitySource;
  /** the kernel event sight sources, for /metrics */
  sight?: Array<{ kind: SightKind; stats: SightStats }>;
}

/** The poller's processes; with file sight, its observations joined with what file sight saw (one report per action). */
const processes = (p: SourceParts, sight?: FileSightSource): Source => ({
  name: 'processes',
  poll: sight ? (now) => sight.join(p.tracker.tick(now), now) : (now) => p.tracker.tick(now),
});

/** File sight that could not start (the addon is missing: one line said so at start). */
const SIGHT_OFF = { available: false, seen: 0, lost: 0 } as const;

/**
 * File sight in the root of the target: the container's init (`--container`, the host agent), or in a pod the oldest
 * process of the app; none in `-- COMMAND` (the host's own files) or without the addon.
 */
function fileSight(p: SourceParts, ownOpens: OwnOpens): FileSightSource | undefined {
  const { scope } = p.target;
  if (!p.sight || scope.kind === 'tree') return undefined;
  return createFileSight({
    native: p.sight.native,
    proc: p.proc,
    tracker: p.tracker,
    anchor: scope.kind === 'container' ? () => scope.initPid() : oldestProcess(p.tracker),
    inventory: p.seal?.status === 'verified' ? p.seal.inventory : undefined,
    logger: p.logger,
    metrics: p.sight.metrics,
    wake: p.sight.wake,
    ownOpens,
  });
}
const resources = (p: SourceParts): Source => createResourceSource(p);
const setuidFiles = (p: SourceParts): Source => createSetuidScan(p);
type SocketsOnly = { selfPid?: number; requireOwner?: boolean | 'listening' };
const sockets = (p: SourceParts, only: SocketsOnly = {}, ledger?: ConnectionLedger): Source =>
  createSocketSource({ proc: p.proc, tracker: p.tracker, anchor: () => p.target.scope.netAnchor(), ledger, ...only });

/** Another network namespace's socket, made there by the sight addon (loaded when first needed: not in a pod). */
const addonInNamespace: OpenInNamespace = (netnsPath, handlers) => {
  const load = loadSightNative();
  if (!load.ok) throw new Error(`the container has a network namespace of its own: ${load.reason}`);
  return openInNamespaceWith(load.native)(netnsPath, handlers);
};

/**
 * Every connection of the target's network namespace as the kernel closes it, however short (not those the socket
 * poller reported: the ledger). `shared`: the watcher is in that namespace (the pod), its own connections are left out;
 * `ownNamespace: 'refused'`: a target in the watcher's own namespace (a host agent's container on the host network)
 * is not watched this way, its connections could not be told from the host's.
 */
function connectionSight(
  p: SourceParts,
  ledger: ConnectionLedger,
  how: { shared?: boolean; ownNamespace?: 'refused' },
): ConnectionSight {
  return createConnectionSight({
    procRoot: p.proc.root,
    anchor: () => p.target.scope.netAnchor(),
    ledger,
    logger: p.logger,
    shared: how.shared,
    ownNamespace: how.ownNamespace,
    inNamespace: addonInNamespace,
    userOf: (uid) => {
      for (const process of p.tracker.processes().values())
        if (process.euid === uid && process.user) return process.user;
      return undefined;
    },
    // a tick soon after a notification, as file sight asks for one (with the sight addon loaded)
    wake: p.sight?.wake,
  });
}

/** The seal read from a root, checked against that root's files (none for a seal verified through an engine). */
function sealIdentity(p: SourceParts, ownOpens: OwnOpens): { sources: Source[]; identity?: IdentitySource } {
  const identity = createIdentitySource({ seal: p.seal, tracker: p.tracker, onOpen: (path) => ownOpens.note(path) });
  return identity ? { sources: [identity], identity } : { sources: [] };
}

/** The target container's engine events (none without an engine), and its own stream when it has one. */
function dockerEvents(
  p: SourceParts,
  follower?: ContainerFollower,
): { sources: Source[]; engineStream?: DockerSource } {
  if (!p.engine) return { sources: [] };
  if (p.engine.kind === 'feed') return { sources: [p.engine.source] };
  const engineStream = createDockerSource({
    ...p.engine,
    logger: p.logger,
    // the follower reports a restart once it found the new init (also a restart by policy, which has no event)
    onChange: follower && ((change) => follower.onChange(change)),
    omit: follower ? ['restart'] : undefined,
  });
  return { sources: [engineStream], engineStream };
}

/**
 * What every mode with a neighbour image watches, in this order: its seal's verdict (and, for a seal read from a
 * root, that root's files against it), its processes (joined with file sight), file sight, its sockets (`only`:
 * which ones), its resources, new setuid files, its engine events, and (`--container`) the follower.
 */
function workload(
  p: SourceParts,
  only: SocketsOnly & { connections: Parameters<typeof connectionSight>[2] },
  follower?: ContainerFollower,
): ModeSources {
  const ownOpens = createOwnOpens();
  const seal = sealIdentity(p, ownOpens);
  const engine = dockerEvents(p, follower);
  // the ledger only where connection sight reads it
  const ledger = p.connectionSight === false ? undefined : createConnectionLedger();
  const connections = ledger && connectionSight(p, ledger, only.connections);
  const sight = fileSight(p, ownOpens);
  return {
    sources: [
      sealSource(p.seal),
      processes(p, sight),
      ...(sight ? [sight] : []),
      ...seal.sources,
      sockets(p, { selfPid: only.selfPid, requireOwner: only.requireOwner }, ledger),
      ...(connections ? [connections] : []),
      resources(p),
      setuidFiles(p),
      ...engine.sources,
      ...(follower ? [follower] : []),
    ],
    follower,
    engineStream: engine.engineStream,
    identity: seal.identity,
    sight: [
      { kind: 'connections', stats: connections?.stats ?? SIGHT_OFF },
      { kind: 'files', stats: sight?.stats ?? SIGHT_OFF },
    ],
  };
}

/** `--container`: the container followed across restarts (re-anchored on its new init), told by its engine events. */
function followContainer(p: SourceParts): ContainerFollower | undefined {
  const { scope, container } = p.target;
  if (p.engine?.kind !== 'stream' || !container || scope.kind !== 'container') return undefined;
  return createContainerFollower({
    docker: p.engine.docker,
    proc: p.proc,
    tracker: p.tracker,
    scope,
    container,
    initPid: scope.initPid() ?? 0,
    logger: p.logger,
  });
}

export const MODES = {
  /** the sidecar: every process of the shared PID namespace but the watcher's own container (and its sockets) */
  pod: (p) => workload(p, { selfPid: p.selfPid, requireOwner: 'listening', connections: { shared: true } }),
  /** `--container`: one container from the host, followed across restarts */
  container: (p) => workload(p, { connections: {} }, followContainer(p)),
  /** `-- COMMAND`: a process tree started by the watcher, in the host's network namespace (its sockets only) */
  command: (p) => ({
    sources: [processes(p), sockets(p, { requireOwner: true }), resources(p), setuidFiles(p)],
  }),
  /**
   * `watch --docker` and `watch --containerd` (one pipeline per container) and `learn --docker`: the host's network
   * namespace may be the container's (host network), so only sockets owned by its processes; on containerd the
   * seal is read from the container's root and checked against its files, as in a pod
   */
  'host-container': (p) => workload(p, { requireOwner: true, connections: { ownNamespace: 'refused' } }),
} satisfies Record<ModeName, (parts: SourceParts) => ModeSources>;
