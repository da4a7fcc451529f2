import { hostname } from 'node:os';
import type { Logger } from '../../shared/logging/index.ts';
import type { SigningKey } from '../../shared/signing/index.ts';
import { createDispatcher, type Dispatcher, type OutputSpec } from '../../shared/outputs/index.ts';
import { createWatchMetrics, type WatchMetrics } from '../api/metrics.ts';

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
  return {
    settings,
    logger,
    dispatcher,
    // the outputs' delivery counts are read from the dispatcher at scrape time
    metrics: createWatchMetrics({ version: settings.version, outputs: () => dispatcher.stats() }),
    hostName: hostname(),
    startedAt: new Date().toISOString(),
    ticks: 0,
  };
}
