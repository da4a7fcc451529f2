import type { IdentityProgress } from '../seal/root-identity.ts';
import type { ContainerState } from '../sources/index.ts';

/**
 * What `/v1/status` and `/readyz` answer, assembled here once: for one pipeline (`watchStatus` of its own
 * counts), and for the host agent (the same over the sum of its pipelines' counts, plus its own fields).
 */
export interface WatchStatus {
  mode: 'learn' | 'monitor' | 'enforce';
  target: string;
  ready: boolean;
  /** why it is not ready, when it is not */
  reason?: string;
  sourcesRunning: boolean;
  profileLoaded: boolean;
  profileSource?: string;
  /** the seal's verdict; `identity`: the check of a root's files against the sealed inventory, as it goes */
  seal?: { status: string; detail?: string; identity?: IdentityProgress };
  startedAt: string;
  ticks: number;
  processesWatched: number;
  processesSeen: number;
  pidGaps: number;
  alerts: number;
  suppressed: number;
  killed: number;
  killFailed: number;
  outputs: unknown[];
  /** `--container`: the container as followed across restarts (stopped: not ready; removed: the run ends) */
  container?: ContainerState;
  /** the watcher's own resident memory */
  watcherRssMiB: number;
}

/** The counts of one pipeline, or summed over several. */
export type StatusCounts = Pick<
  WatchStatus,
  'processesWatched' | 'processesSeen' | 'pidGaps' | 'alerts' | 'suppressed' | 'killed' | 'killFailed'
>;

export interface StatusInput {
  mode: WatchStatus['mode'];
  target: string;
  startedAt: string;
  ticks: number;
  profileLoaded: boolean;
  profileSource?: string;
  /**
   * not ready without a profile: a pipeline neither learning nor judged by its seal's verdict (the host agent's
   * pipelines decide this each for itself)
   */
  needsProfile: boolean;
  seal?: WatchStatus['seal'];
  container?: ContainerState;
  counts: StatusCounts;
  outputs: unknown[];
}

export function watchStatus(input: StatusInput): WatchStatus {
  const sourcesRunning = input.ticks > 0;
  const { container } = input;
  const reason = !sourcesRunning
    ? 'the sources have not run yet'
    : input.needsProfile && !input.profileLoaded
      ? 'no profile loaded'
      : container && container.state !== 'running'
        ? (container.reason ?? `container ${container.name} is ${container.state}`)
        : undefined;
  return {
    mode: input.mode,
    target: input.target,
    ready: reason === undefined,
    ...(reason !== undefined ? { reason } : {}),
    sourcesRunning,
    profileLoaded: input.profileLoaded,
    profileSource: input.profileSource,
    seal: input.seal,
    startedAt: input.startedAt,
    ticks: input.ticks,
    ...input.counts,
    ...(container ? { container } : {}),
    outputs: input.outputs,
    watcherRssMiB: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
  };
}

export function sumCounts(all: readonly StatusCounts[]): StatusCounts {
  const sum = (key: keyof StatusCounts): number => all.reduce((n, c) => n + c[key], 0);
  return {
    processesWatched: sum('processesWatched'),
    processesSeen: sum('processesSeen'),
    pidGaps: sum('pidGaps'),
    alerts: sum('alerts'),
    suppressed: sum('suppressed'),
    killed: sum('killed'),
    killFailed: sum('killFailed'),
  };
}
