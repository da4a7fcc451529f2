import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { formatIssues } from '../../shared/config/index.ts';
import { ConfigError, UsageError } from '../../shared/errors/index.ts';
import { SeverityInput, toSeverityScore } from '../../shared/severity/index.ts';
import type { RunWatchOptions } from '../../sidecar/run-watch.ts';
import { bindConfigFile, bindEnvironment } from '../env-options.ts';
import { ExitWith } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import { packageVersion } from '../version.ts';

/** Flags shared by `watch` and `learn`, validated at this edge. */
export const WatchFlags = z.object({
  procRoot: z.string().min(1).default('/proc'),
  mode: z.enum(['learn', 'monitor', 'enforce']).default('monitor'),
  dryRun: z.boolean().default(false),
  tick: z
    .string()
    .regex(/^\d+$/, 'milliseconds, a whole number')
    .transform(Number)
    .refine((n) => n >= 10 && n <= 10_000, '10–10000 ms')
    .default(100),
  profile: z.string().optional(),
  output: z.array(z.string()).default([]),
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/, 'ADDR:PORT, e.g. 127.0.0.1:9464')
    .transform((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
    })
    .optional(),
  apiTokenEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
  container: z.string().min(1).optional(),
  dockerSocket: z.string().optional(),
  emit: z.enum(['alerts', 'all']).default('alerts'),
  killMinSeverity: SeverityInput.default('high'),
  aggregateWindow: z.string().regex(/^\d+$/).transform(Number).default(60_000),
  afterLearn: z.enum(['monitor', 'enforce']).optional(),
  out: z.string().optional(),
  duration: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s, 5m or 1h')
    .transform((s) => {
      const m = /^(\d+)(ms|s|m|h)$/.exec(s)!;
      return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    })
    .optional(),
  docker: z.boolean().default(false),
  containerd: z.union([z.literal(true), z.string().min(1)]).optional(),
  containerdState: z.string().min(1).optional(),
  containerdNamespace: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,75}$/, 'a containerd namespace'))
    .default([]),
  pub: z.array(z.string().min(1)).default([]),
  onUnsealed: z.enum(['keep-watching', 'stop']).default('keep-watching'),
  spoolDir: z.string().min(1).optional(),
  evidenceKey: z.string().min(1).optional(),
  procConnector: z.boolean().default(true),
  headroom: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .optional(),
});

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addWatchOptions(cmd: Command): Command {
  return cmd
    .option('--proc-root <dir>', '/proc to read (fixtures in tests)', '/proc')
    .option('--tick <ms>', 'process poll interval in ms', '100')
    .option(
      '--output <url>',
      'where events go (repeatable): file://PATH, stdout://, syslog+tcp://HOST:PORT, …',
      collect,
    )
    .option(
      '--listen <addr:port>',
      'serve the API (/healthz, /readyz, /metrics, /v1/...) on this address, e.g. 127.0.0.1:9464',
    )
    .option(
      '--api-token-env <name>',
      'environment variable holding the bearer token for the /v1 API (events, status, ending learning)',
    )
    .option('--container <id|name>', 'watch this Docker container (host PIDs found through its cgroup)')
    .option(
      '--spool-dir <dir>',
      'disk spool of the network outputs (syslog, https): events survive an outage and a restart; created if missing (default /var/lib/sealwatch/spool)',
    )
    .option(
      '--evidence-key <file>',
      'PEM private key (from sealwatch keygen) that signs the event record: every event is hash-chained and checkpoints are signed, for `audit verify-log`',
    )
    .option(
      '--docker-socket <path>',
      'Docker engine socket (default /var/run/docker.sock); given in pod mode, Docker events of the app container are watched and --on-unsealed stop uses docker stop',
    )
    .option(
      '--emit <what>',
      'alerts (default: alerts, kill results, PID gaps, container events) or all observations',
      'alerts',
    );
}

export function registerWatch(program: Command, io: CliIo): void {
  const cmd = program
    .command('watch')
    .description(
      'watch processes, sockets and files of a pod (shared PID namespace), a container (--container) or a command (-- CMD ARGS…)\n' +
        'against a profile and the built-in rules; alert, or kill in enforce mode',
    )
    .argument('[command...]', 'a command to start and watch (after --)')
    .option('--profile <file>', "runtime profile YAML (default: the neighbour's seal, when verified)")
    .option('--mode <mode>', 'learn, monitor or enforce', 'monitor')
    .option('--dry-run', 'in enforce mode, report what would be killed instead of killing', false)
    .option('--kill-min-severity <sev>', 'enforce kills for alerts at or above this severity', 'high')
    .option('--aggregate-window <ms>', 'identical alerts within this window are counted, not repeated', '60000')
    .option('--out <file>', 'learn mode: write the learned profile here when learning ends')
    .option('--after-learn <mode>', 'learn mode: when ended through the API, continue in monitor or enforce')
    .option(
      '--docker',
      'host agent: watch every container of the Docker engine (seal per image, processes by cgroup, kernel proc connector for every exec)',
    )
    .option(
      '--containerd [socket]',
      `host agent on containerd (Kubernetes nodes): watch every container of the containerd at this socket (default ${DEFAULT_CONTAINERD_SOCKET}), found through its OCI bundles; seals checked through each container's root`,
    )
    .option(
      '--containerd-state <dir>',
      "with --containerd: containerd's state dir (its config's `state`; default the socket's dir, /run/containerd)",
    )
    .option(
      '--containerd-namespace <ns>',
      "with --containerd: containerd namespace to watch (repeatable; default k8s.io, the kubelet's)",
      collect,
    )
    .option(
      '--pub <pem>',
      "trusted public key for seals (repeatable): without --profile the neighbour's verified seal gives the profile; with --docker each container image is verified with it",
      collect,
    )
    .option(
      '--on-unsealed <action>',
      'enforce mode, unsealed or invalid neighbour: keep-watching (built-in rules only) or stop (kill its processes; docker stop with --container)',
      'keep-watching',
    )
    .option('--no-proc-connector', 'with --docker: poll /proc instead of opening the kernel proc connector');
  bindConfigFile(bindEnvironment(addWatchOptions(cmd), io.env), io).action(
    async (command: string[], raw: Record<string, unknown>) => {
      // `watch -- COMMAND`: the command's exit code is sealwatch's; a target stopped for its seal is 1
      const code = await execute({ ...raw, command }, io);
      if (code !== undefined && code !== 0) throw new ExitWith(code);
    },
  );
}

export async function execute(
  raw: Record<string, unknown> & { command: string[] },
  io: CliIo,
): Promise<number | undefined> {
  const parsed = WatchFlags.safeParse(raw);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues, 'flags').map((l) => l.replace(/^flags: /, '--'));
    throw new UsageError('BAD_ARGUMENT', problems.join('; '));
  }
  const f = parsed.data;
  if (f.container && raw.command.length > 0)
    throw new UsageError('CONFLICT', '--container and -- COMMAND cannot be combined');
  if (f.dryRun && f.mode !== 'enforce')
    throw new UsageError('CONFLICT', '--dry-run only makes sense with --mode enforce');
  if (f.containerd !== undefined && (f.docker || f.container || raw.command.length > 0))
    throw new UsageError(
      'CONFLICT',
      '--containerd watches every container of containerd: it cannot be combined with --docker, --container or -- COMMAND',
    );
  if (f.containerd !== undefined && f.mode === 'learn')
    throw new UsageError('CONFLICT', '--containerd runs in monitor or enforce mode');
  if (f.containerd === undefined && (f.containerdState !== undefined || f.containerdNamespace.length > 0))
    throw new UsageError('CONFLICT', '--containerd-state and --containerd-namespace need --containerd');
  if (f.docker && (f.container || raw.command.length > 0))
    throw new UsageError(
      'CONFLICT',
      '--docker watches every container: it cannot be combined with --container or -- COMMAND',
    );
  if (f.onUnsealed === 'stop' && f.mode !== 'enforce')
    throw new UsageError('CONFLICT', '--on-unsealed stop only makes sense with --mode enforce');
  if (f.docker && f.mode === 'learn')
    throw new UsageError(
      'CONFLICT',
      '--docker runs in monitor or enforce mode; learn one container with: sealwatch learn --docker --container NAME --duration 60s --out FILE',
    );
  const apiToken = f.apiTokenEnv ? io.env[f.apiTokenEnv] : undefined;
  if (f.apiTokenEnv && !apiToken)
    throw new ConfigError('INVALID', `--api-token-env ${f.apiTokenEnv}: the variable is empty or unset`);
  const options: RunWatchOptions = {
    procRoot: f.procRoot,
    mode: f.mode,
    dryRun: f.dryRun,
    tickMs: f.tick,
    profileFile: f.profile ? resolve(io.cwd, f.profile) : undefined,
    outputs: f.output,
    listen: f.listen,
    apiToken,
    container: f.container,
    command: raw.command,
    emitAll: f.emit === 'all',
    killMinSeverity: toSeverityScore(f.killMinSeverity),
    aggregateWindowMs: f.aggregateWindow,
    learnOut: f.out ? resolve(io.cwd, f.out) : undefined,
    durationMs: f.duration,
    headroom: f.headroom,
    afterLearn: f.afterLearn,
    trustedKeyFiles: f.pub.map((p) => resolve(io.cwd, p)),
    onUnsealed: f.onUnsealed,
    podDocker: f.dockerSocket !== undefined,
    spoolDir: f.spoolDir === undefined ? undefined : resolve(io.cwd, f.spoolDir),
    evidenceKey:
      f.evidenceKey === undefined
        ? undefined
        : (await import('../../shared/signing/index.ts')).loadSigningKey(
            resolve(io.cwd, f.evidenceKey),
            '--evidence-key',
          ),
    version: packageVersion(),
  };
  // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs); the Docker client
  // (dockerode pulls in gRPC and ssh2, ~24 MB resident) only when the engine is used
  const usesDocker = f.docker || f.container !== undefined || f.dockerSocket !== undefined;
  const [{ createLogger }, docker, { runWatch }] = await Promise.all([
    import('../../shared/logging/index.ts'),
    usesDocker
      ? import('../../shared/docker/index.ts').then(({ createDockerClient }) =>
          once(() => createDockerClient({ socketPath: f.dockerSocket ?? DEFAULT_DOCKER_SOCKET })),
        )
      : undefined,
    import('../../sidecar/run-watch.ts'),
  ]);
  const logger = createLogger({ stream: io.stderr });
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const containerd =
    f.containerd === undefined
      ? undefined
      : {
          socket: f.containerd === true ? DEFAULT_CONTAINERD_SOCKET : resolve(io.cwd, f.containerd),
          ...(f.containerdState !== undefined ? { state: resolve(io.cwd, f.containerdState) } : {}),
          namespaces: f.containerdNamespace.length > 0 ? f.containerdNamespace : ['k8s.io'],
        };
  if (((f.docker && docker) || containerd) && f.mode !== 'learn') {
    try {
      const { runHostAgent } = await import('../../sidecar/host-agent/index.ts');
      await runHostAgent(
        {
          ...options,
          mode: f.mode,
          trustedKeyFiles: f.pub.map((p) => resolve(io.cwd, p)),
          procConnector: f.procConnector,
          ...(containerd ? { containerd } : {}),
        },
        {
          logger,
          ...(docker && !containerd ? { docker: docker() } : {}),
          stdout: io.stdout,
          env: io.env,
          signal: controller.signal,
        },
      );
      return undefined;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
  try {
    const result = await runWatch(options, {
      logger,
      docker,
      stdout: io.stdout,
      env: io.env,
      signal: controller.signal,
    });
    // stopped for a missing or invalid seal: a policy violation
    return result.stopped ? 1 : result.commandExit;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * `sealwatch learn --docker --container X --duration D --out FILE`: one container learned from the host through
 * the kernel proc connector (sidecar/host-agent/host-learn.ts). Combinations that do not fit are usage errors.
 */
export async function executeHostLearn(raw: Record<string, unknown> & { command: string[] }, io: CliIo): Promise<void> {
  const parsed = WatchFlags.safeParse(raw);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues, 'flags').map((l) => l.replace(/^flags: /, '--'));
    throw new UsageError('BAD_ARGUMENT', problems.join('; '));
  }
  const f = parsed.data;
  if (raw.command.length > 0)
    throw new UsageError('CONFLICT', 'learn --docker learns a container: it cannot be combined with -- COMMAND');
  if (!f.container)
    throw new UsageError('MISSING_ARGUMENT', 'learn --docker learns one container: give --container ID|NAME');
  if (f.duration === undefined) throw new UsageError('MISSING_ARGUMENT', 'learn --docker needs --duration (e.g. 60s)');
  if (f.listen || f.apiTokenEnv)
    throw new UsageError(
      'CONFLICT',
      'learn --docker serves no API (--listen, --api-token-env): it ends after --duration or on SIGINT/SIGTERM',
    );
  if (!f.out) throw new UsageError('MISSING_ARGUMENT', 'learn needs --out FILE');
  const [{ createLogger }, { createDockerClient }, { runHostLearn }] = await Promise.all([
    import('../../shared/logging/index.ts'),
    import('../../shared/docker/index.ts'),
    import('../../sidecar/host-agent/index.ts'),
  ]);
  const logger = createLogger({ stream: io.stderr });
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await runHostLearn(
      {
        procRoot: f.procRoot,
        container: f.container,
        durationMs: f.duration,
        out: resolve(io.cwd, f.out),
        headroom: f.headroom,
        tickMs: f.tick,
        outputs: f.output,
        procConnector: f.procConnector,
        version: packageVersion(),
      },
      {
        logger,
        docker: createDockerClient({ socketPath: f.dockerSocket ?? DEFAULT_DOCKER_SOCKET }),
        stdout: io.stdout,
        env: io.env,
        signal: controller.signal,
      },
    );
    const c = result.connector;
    logger.info(
      result.execSource === 'proc-connector'
        ? `learned from ${result.processesSeen} process starts; kernel proc connector: ${c.execs} execs on the host, ${c.partial} of this container read after exit (no exe/argv), ${c.unreadable} gone before any read`
        : `learned from ${result.processesSeen} process starts by /proc polling (${result.execSourceReason ?? ''}): programs shorter than a tick can be missing`,
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
