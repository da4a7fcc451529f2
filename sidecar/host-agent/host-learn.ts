import type { RuntimeTraceInput } from '../../shared/seal/index.ts';
import type { DockerClient } from '../../shared/docker/index.ts';
import { EnvironmentError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import { parseOutputUrl } from '../../shared/outputs/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import { createLearner, writeProfileFile, writeRuntimeTraceFile } from '../learn/index.ts';
import { buildPipeline, MODES, openRun, runLoop } from '../pipeline/index.ts';
import { containerScope, createProcConnector, type ProcConnectorStats } from '../sources/index.ts';
import { containerIdFromCgroup, createProcFs } from '../sources/proc/index.ts';

/**
 * `sealwatch learn --docker --container X --duration 60s --out profile.yaml`: learn one container from the host,
 * through the kernel proc connector, so programs that live a millisecond (a periodic job's `date`) are in the
 * profile; a sidecar's /proc poller cannot see them reliably and would alert on them later.
 * Composition only: the one pipeline with the host agent's per-container sources (pipeline/modes.ts), the one
 * loop, and the same learner as `sealwatch learn --container` (sidecar/learn), the profile written the same way.
 */
export interface HostLearnOptions {
  procRoot: string;
  /** container id or name */
  container: string;
  durationMs: number;
  out: string;
  headroom?: number;
  /** also write what was observed as an in-toto runtime-trace statement (see run-watch.ts) */
  runtimeTrace?: { file: string; monitoredProcess: RuntimeTraceInput['monitoredProcess'] };
  tickMs: number;
  outputs: readonly string[];
  /** false: do not open the kernel proc connector (poll /proc only, reported) */
  procConnector: boolean;
  version: string;
}

export interface HostLearnDeps {
  logger: Logger;
  docker: DockerClient;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** called after the first tick (tests use it) */
  onReady?: () => void;
}

export interface HostLearnResult {
  profile: Profile;
  target: string;
  execSource: 'proc-connector' | 'proc-poll';
  execSourceReason?: string;
  connector: ProcConnectorStats;
  /** process-start observations the learner saw */
  processesSeen: number;
}

export async function runHostLearn(options: HostLearnOptions, deps: HostLearnDeps): Promise<HostLearnResult> {
  const { logger, docker } = deps;
  const inspect = await docker.inspectContainer(options.container);
  if (!inspect.State.Running || inspect.State.Pid <= 0)
    throw new EnvironmentError('GONE', `container ${options.container} is not running`);
  const name = inspect.Name.replace(/^\//, '');
  const connector = await createProcConnector({
    proc: createProcFs(options.procRoot),
    logger,
    enabled: options.procConnector,
    interesting: (cgroup) => cgroup !== undefined && containerIdFromCgroup(cgroup) === inspect.Id,
  });
  const proc = connector.view();
  const learner = createLearner({ headroom: options.headroom, trace: options.runtimeTrace !== undefined });
  const learnStarted = new Date();
  const run = openRun({
    settings: {
      mode: 'learn',
      dryRun: false,
      killMinSeverity: 10,
      aggregateWindowMs: 60_000,
      emitAll: false,
      version: options.version,
    },
    logger,
    outputs: options.outputs.map(parseOutputUrl),
    stdout: deps.stdout,
    env: deps.env,
  });
  const pipeline = buildPipeline(
    {
      name: `container ${name} (${inspect.Id.slice(0, 12)})`,
      scope: containerScope(proc, inspect.Id, inspect.State.Pid),
      container: { id: inspect.Id, name, image: inspect.Config.Image },
    },
    MODES['host-container'],
    { run, proc, learner },
  );
  const target = pipeline.target.name;
  logger.info(
    `learning ${target} for ${options.durationMs / 1000} s; exec events: ${
      connector.mode === 'proc-connector' ? 'kernel proc connector' : `/proc polling (${connector.reason ?? 'off'})`
    }`,
  );
  await runLoop(run, {
    pipelines: () => [pipeline],
    tickMs: options.tickMs,
    signal: deps.signal,
    durationMs: options.durationMs,
    wake: connector,
    started: () => deps.onReady?.(),
  });
  const profile = learner.profile();
  writeProfileFile(options.out, profile, target, learner.notes());
  const predicate = options.runtimeTrace
    ? learner.runtimeTrace({
        monitor: { version: options.version, mode: 'host-container' },
        monitoredProcess: options.runtimeTrace.monitoredProcess,
        startedOn: learnStarted,
        finishedOn: new Date(),
      })
    : undefined;
  if (options.runtimeTrace && predicate) writeRuntimeTraceFile(options.runtimeTrace.file, predicate, options.out);
  const result: HostLearnResult = {
    profile,
    target,
    execSource: connector.mode,
    execSourceReason: connector.reason,
    connector: { ...connector.stats },
    processesSeen: learner.observed.processes,
  };
  connector.close();
  await pipeline.close();
  await run.dispatcher.close();
  return result;
}
