import { PassThrough } from 'node:stream';
import { silentLogger, type Logger } from '../../shared/logging/index.ts';
import { openRun, type Run, type RunSettings } from '../../sidecar/pipeline/index.ts';

/** A watcher run for a test or a bench: monitor mode, no outputs, its events kept by the pipelines (`recent`). */
export function openTestRun(settings: Partial<RunSettings> = {}, logger: Logger = silentLogger()): Run {
  return openRun({
    settings: {
      mode: 'monitor',
      dryRun: false,
      killMinSeverity: 7,
      aggregateWindowMs: 60_000,
      emitAll: true,
      version: 'test',
      ...settings,
    },
    logger,
    outputs: [],
    stdout: new PassThrough(),
    env: {},
  });
}
