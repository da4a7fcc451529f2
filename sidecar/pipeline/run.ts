import { hostname } from 'node:os';
import type { Logger } from '../../shared/logging/index.ts';
import type { SigningKey } from '../../shared/signing/index.ts';
import { createDispatcher, type Dispatcher, type OutputSpec } from '../../shared/outputs/index.ts';
import { createWatchMetrics, type WatchMetrics } from '../api/metrics.ts';
import { loadSightNative, type SightNative } from '../sources/sight/native.ts';

/**
 * What every pipeline of one watcher process shares: the settings of the run, its logger, the one dispatcher
 * (one sequence for all the events of the process), the metrics, and the loop's tick count. Each composition root
 * opens one and hands it to `buildPipeline` and `runLoop`.
 */
export interface RunSettings {
  mode: 'learn' | 'monitor' | 'enforce';
  dryRun: boolean;
  /** enforce kills alerts at or above this severity */
  killMinSeverity: number;
  aggregateWindowMs: number;
  /** ship every observation as an event, not only alerts and state */
  emitAll: boolean;
  version: string;
  /** signs the event record's checkpoints (`--evidence-key`); without it events carry no chain */
  evidenceKey?: SigningKey;
  /** file sight (inotify through the app's root) where the mode has it; default on (`--no-file-sight`: off) */
  fileSight?: boolean;
  /** connection sight (socket destroy notifications) where the mode has it; default on (`--no-connection-sight`: off) */
  connectionSight?: boolean;
}

/** Asks the loop for a tick soon (a push source saw something whose process the poller should read while it lives). */
export interface WakeHub {
  request(): void;
  onSnapshot(listener: () => void): () => void;
}

export interface Run {
  readonly settings: RunSettings;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly metrics: WatchMetrics;
  readonly hostName: string;
  readonly startedAt: string;
  /** ticks of the loop so far (runLoop counts them) */
  ticks: number;
  readonly wake: WakeHub;
  /** the sight addon (native/sight), loaded once for the process; undefined when file sight is off or missing */
  readonly sight?: SightNative;
}

export function openRun(input: {
  settings: RunSettings;
  logger: Logger;
  outputs: readonly OutputSpec[];
  /** the disk spool of the network outputs, when there is one */
  spoolDir?: string;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}): Run {
  const { settings, logger } = input;
  const dispatcher = createDispatcher(input.outputs, {
    logger,
    version: settings.version,
    stdout: input.stdout,
    env: input.env,
    spoolDir: input.spoolDir,
    record: settings.evidenceKey === undefined ? undefined : { key: settings.evidenceKey },
  });
  // the outputs' delivery counts are read from the dispatcher at scrape time
  const metrics = createWatchMetrics({ version: settings.version, outputs: () => dispatcher.stats() });
  return {
    settings,
    logger,
    dispatcher,
    metrics,
    hostName: hostname(),
    startedAt: new Date().toISOString(),
    ticks: 0,
    wake: createWakeHub(),
    sight: settings.fileSight === false ? undefined : loadSight(logger),
  };
}

function createWakeHub(): WakeHub {
  const listeners = new Set<() => void>();
  return {
    request: () => {
      for (const listener of listeners) listener();
    },
    onSnapshot: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/**
 * The sight addon, or one line where it is missing (the modes with file sight then show
 * `sealwatch_sight_available{kind="files"} 0`).
 */
function loadSight(logger: Logger): SightNative | undefined {
  const load = loadSightNative();
  if (load.ok) return load.native;
  logger.warn(`file sight off: ${load.reason}`);
  return undefined;
}
