import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { detectContext } from '../../action/context/detect.ts';
import { DEFAULT_DOCKER_SOCKET } from '../../shared/docker/socket.ts';
import { toSeverityScore } from '../../shared/severity/index.ts';
import type { RunWatchOptions } from '../../sidecar/run-watch.ts';
import { Duration, EnvName, listenAddress, positive, repeatable, Severity, whole } from '../flag-types.ts';
import type { FlagSpec } from '../flags.ts';

/**
 * The flags of `sealwatch watch` and `sealwatch learn`: one schema each (keys are the flag names, and the keys of a
 * `--config` file, whose JSON Schema is docs/schema/watch-config.json and learn-config.json), normalized into what
 * the composition roots take, with the cross-field rules that report every conflict at once.
 */

/** containerd's own default socket (`watch --containerd`, `doctor`). */
export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/** What both commands watch and where events go. */
const target = {
  'proc-root': z.string().min(1).default('/proc').describe('/proc to read (fixtures in tests)'),
  tick: whole('milliseconds', 10, 10_000).default(100).describe('process poll interval in ms'),
  output: repeatable(z.string().min(1))
    .default([])
    .describe('where events go: file://PATH, stdout://, syslog+tcp://HOST:PORT, https://…; see docs/outputs'),
  listen: listenAddress('127.0.0.1:9464')
    .optional()
    .describe('serve the API (/healthz, /readyz, /metrics, /v1/...) on this address, e.g. 127.0.0.1:9464'),
  'api-token-env': EnvName.optional().describe(
    'environment variable holding the bearer token for the /v1 API (events, status, ending learning)',
  ),
  container: z.string().min(1).optional().describe('watch this Docker container (host PIDs found through its cgroup)'),
  'spool-dir': z
    .string()
    .min(1)
    .optional()
    .describe(
      'disk spool of the network outputs (syslog, https): events survive an outage and a restart; created if missing (default /var/lib/sealwatch/spool)',
    ),
  'docker-socket': z
    .string()
    .min(1)
    .optional()
    .describe(
      `Docker engine socket (default ${DEFAULT_DOCKER_SOCKET}); given in pod mode, Docker events of the app container are watched and --on-unsealed stop uses docker stop`,
    ),
  emit: z
    .enum(['alerts', 'all'])
    .default('alerts')
    .describe('alerts (alerts, kill results, PID gaps, container events) or all observations'),
  'proc-connector': z
    .boolean()
    .default(true)
    .describe('with --docker or --container: poll /proc instead of opening the kernel proc connector'),
  'file-sight': z
    .boolean()
    .default(true)
    .describe(
      "see the app's execs, credential reads, system writes and dropped executables as they happen (inotify through its root); --no-file-sight: the /proc poller alone",
    ),
  'connection-sight': z
    .boolean()
    .default(true)
    .describe(
      "see every connection of the app's network namespace as the kernel closes it, however short (socket destroy notifications); --no-connection-sight: the socket poller alone (a pod on the host's network)",
    ),
};

const VALUE_NAMES = {
  'proc-root': 'dir',
  tick: 'ms',
  output: 'url',
  listen: 'addr:port',
  'api-token-env': 'name',
  container: 'id|name',
  'spool-dir': 'dir',
  'docker-socket': 'path',
  emit: 'what',
  out: 'file',
} as const;

export const WatchFlags = z
  .object({
    profile: z
      .string()
      .min(1)
      .optional()
      .describe("runtime profile YAML (default: the neighbour's seal, when verified)"),
    mode: z.enum(['learn', 'monitor', 'enforce']).default('monitor').describe('learn, monitor or enforce'),
    'dry-run': z.boolean().default(false).describe('in enforce mode, report what would be killed instead of killing'),
    'kill-min-severity': Severity.default('high').describe(
      'enforce kills for alerts at or above this severity (info, low, medium, high, critical or 0–10)',
    ),
    'aggregate-window': whole('milliseconds', 0, 86_400_000)
      .default(60_000)
      .describe('identical alerts within this window (ms) are counted, not repeated'),
    out: z.string().min(1).optional().describe('learn mode: write the learned profile here when learning ends'),
    'after-learn': z
      .enum(['monitor', 'enforce'])
      .optional()
      .describe('learn mode: when ended through the API, continue in monitor or enforce'),
    docker: z
      .boolean()
      .default(false)
      .describe(
        'host agent: watch every container of the Docker engine (seal per image, processes by cgroup, kernel proc connector for every exec)',
      ),
    containerd: z
      .union([z.literal(true), z.string().min(1)])
      .optional()
      .describe(
        `host agent on containerd (Kubernetes nodes): watch every container of the containerd at this socket (default ${DEFAULT_CONTAINERD_SOCKET}), found through its OCI bundles; seals checked through each container's root`,
      ),
    'containerd-state': z
      .string()
      .min(1)
      .optional()
      .describe(
        "with --containerd: containerd's state dir (its config's `state`; default the socket's dir, /run/containerd)",
      ),
    'containerd-namespace': repeatable(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,75}$/, 'a containerd namespace'))
      .default([])
      .describe("with --containerd: containerd namespace to watch (default k8s.io, the kubelet's)"),
    'evidence-key': z
      .string()
      .min(1)
      .optional()
      .describe(
        'PEM private key (from sealwatch keygen) that signs the event record: every event is hash-chained and checkpoints are signed, for `audit verify-log`',
      ),
    pub: repeatable(z.string().min(1))
      .default([])
      .describe(
        "trusted public key for seals: without --profile the neighbour's verified seal gives the profile; with --docker each container image is verified with it",
      ),
    'on-unsealed': z
      .enum(['keep-watching', 'stop'])
      .default('keep-watching')
      .describe(
        'enforce mode, unsealed or invalid neighbour: keep-watching (built-in rules only) or stop (kill its processes; docker stop with --container)',
      ),
    ...target,
  })
  .strict();
export type WatchFlags = z.output<typeof WatchFlags>;

export const LearnFlags = z
  .object({
    out: z.string().min(1).describe('where to write the learned profile (YAML)'),
    duration: Duration.optional().describe('how long to learn, e.g. 30s, 5m (required with --container)'),
    headroom: positive('a factor, e.g. 2 or 1.5', 100)
      .default(2)
      .describe('multiplier on observed memory p99 and process count'),
    'runtime-trace': z
      .string()
      .min(1)
      .optional()
      .describe(
        'also write what was observed (programs and their arguments, connections) as an in-toto runtime-trace statement (JSON), for seal --runtime-trace',
      ),
    docker: z
      .boolean()
      .default(false)
      .describe(
        'with --container: learn from the host through the kernel proc connector (every exec, even 1 ms programs); needs root in the host PID namespace',
      ),
    ...target,
  })
  .strict();
export type LearnFlags = z.output<typeof LearnFlags>;

/** What the command line says beside the flags. */
export interface WatchArgs {
  /** `-- COMMAND ARGS…` */
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** What the composition roots take, less what is loaded when the run starts: the evidence key as its file. */
export type WatchOptions = Omit<RunWatchOptions, 'version' | 'evidenceKey'> & { evidenceKeyFile?: string };

/** A normalized `watch` or `learn`: which composition root runs, with what. */
export type WatchRun =
  | { kind: 'watch'; options: WatchOptions; dockerSocket: string; usesDocker: boolean }
  | {
      kind: 'host-agent';
      options: Omit<WatchOptions, 'mode'> & {
        mode: 'monitor' | 'enforce';
        trustedKeyFiles: readonly string[];
        procConnector: boolean;
        containerd?: { socket: string; state?: string; namespaces: string[] };
      };
      /** the Docker engine's socket; none on containerd */
      dockerSocket?: string;
    }
  | {
      kind: 'host-learn';
      options: {
        procRoot: string;
        container: string;
        durationMs: number;
        out: string;
        headroom: number;
        runtimeTrace?: RunWatchOptions['runtimeTrace'];
        tickMs: number;
        outputs: readonly string[];
        procConnector: boolean;
      };
      dockerSocket: string;
    };

/** The parsed flags and the positional arguments, checked together by the rules. */
export interface Parsed<F> {
  flags: F;
  args: WatchArgs;
}

function common(f: WatchFlags | LearnFlags, args: WatchArgs) {
  return {
    procRoot: f['proc-root'],
    tickMs: f.tick,
    outputs: f.output,
    listen: f.listen,
    ...(f['api-token-env'] !== undefined ? { apiToken: args.env[f['api-token-env']] } : {}),
    container: f.container,
    command: args.command,
    emitAll: f.emit === 'all',
    fileSight: f['file-sight'],
    connectionSight: f['connection-sight'],
    spoolDir: f['spool-dir'] === undefined ? undefined : resolve(args.cwd, f['spool-dir']),
    podDocker: f['docker-socket'] !== undefined,
    procConnector: f['proc-connector'],
  };
}

function commonProblems(f: WatchFlags | LearnFlags, args: WatchArgs): string[] {
  const errors: string[] = [];
  const name = f['api-token-env'];
  if (name !== undefined && !args.env[name]) errors.push(`--api-token-env ${name}: the variable is empty or unset`);
  return errors;
}

export const WATCH_FLAGS: FlagSpec<typeof WatchFlags, Parsed<WatchFlags>, WatchArgs> = {
  schema: WatchFlags,
  values: {
    ...VALUE_NAMES,
    profile: 'file',
    mode: 'mode',
    'kill-min-severity': 'sev',
    'aggregate-window': 'ms',
    'after-learn': 'mode',
    'evidence-key': 'file',
    containerd: 'socket',
    'containerd-state': 'dir',
    'containerd-namespace': 'ns',
    pub: 'pem',
    'on-unsealed': 'action',
  },
  env: true,
  configFile: true,
  normalize: (flags, args) => ({ flags, args }),
  rules: ({ flags: f, args }) => {
    const errors = commonProblems(f, args);
    if (f.container && args.command.length > 0) errors.push('--container and -- COMMAND cannot be combined');
    if (f['dry-run'] && f.mode !== 'enforce') errors.push('--dry-run only makes sense with --mode enforce');
    if (f['on-unsealed'] === 'stop' && f.mode !== 'enforce')
      errors.push('--on-unsealed stop only makes sense with --mode enforce');
    if (f.containerd !== undefined && (f.docker || f.container || args.command.length > 0))
      errors.push(
        '--containerd watches every container of containerd: it cannot be combined with --docker, --container or -- COMMAND',
      );
    if (f.containerd !== undefined && f.mode === 'learn') errors.push('--containerd runs in monitor or enforce mode');
    if (f.containerd === undefined && (f['containerd-state'] !== undefined || f['containerd-namespace'].length > 0))
      errors.push('--containerd-state and --containerd-namespace need --containerd');
    if (f.docker && (f.container || args.command.length > 0))
      errors.push('--docker watches every container: it cannot be combined with --container or -- COMMAND');
    if (f.docker && f.mode === 'learn')
      errors.push(
        '--docker runs in monitor or enforce mode; learn one container with: sealwatch learn --docker --container NAME --duration 60s --out FILE',
      );
    return { errors };
  },
};

export const LEARN_FLAGS: FlagSpec<typeof LearnFlags, Parsed<LearnFlags>, WatchArgs> = {
  schema: LearnFlags,
  values: { ...VALUE_NAMES, duration: 'time', headroom: 'factor' },
  env: true,
  configFile: true,
  normalize: (flags, args) => ({ flags, args }),
  rules: ({ flags: f, args }) => {
    const errors = commonProblems(f, args);
    const hasCommand = args.command.length > 0;
    if (f.docker) {
      if (hasCommand) errors.push('learn --docker learns a container: it cannot be combined with -- COMMAND');
      if (!f.container) errors.push('learn --docker learns one container: give --container ID|NAME');
      if (f.duration === undefined) errors.push('learn --docker needs --duration (e.g. 60s)');
      if (f.listen || f['api-token-env'])
        errors.push(
          'learn --docker serves no API (--listen, --api-token-env): it ends after --duration or on SIGINT/SIGTERM',
        );
    } else {
      if (!hasCommand && f.duration === undefined)
        errors.push('learn needs -- COMMAND, or --duration with --container or a pod');
      if (f.container && hasCommand) errors.push('--container and -- COMMAND cannot be combined');
    }
    return { errors };
  },
};

/** Which composition root runs `watch`, with what. */
export function watchRun({ flags: f, args }: Parsed<WatchFlags>): WatchRun {
  const at = (p: string): string => resolve(args.cwd, p);
  const options: WatchOptions = {
    ...common(f, args),
    mode: f.mode,
    dryRun: f['dry-run'],
    profileFile: f.profile === undefined ? undefined : at(f.profile),
    killMinSeverity: toSeverityScore(f['kill-min-severity']),
    aggregateWindowMs: f['aggregate-window'],
    learnOut: f.out === undefined ? undefined : at(f.out),
    afterLearn: f['after-learn'],
    trustedKeyFiles: f.pub.map(at),
    onUnsealed: f['on-unsealed'],
    ...(f['evidence-key'] !== undefined ? { evidenceKeyFile: at(f['evidence-key']) } : {}),
  };
  const dockerSocket = f['docker-socket'] ?? DEFAULT_DOCKER_SOCKET;
  const containerd =
    f.containerd === undefined
      ? undefined
      : {
          socket: f.containerd === true ? DEFAULT_CONTAINERD_SOCKET : at(f.containerd),
          ...(f['containerd-state'] !== undefined ? { state: at(f['containerd-state']) } : {}),
          namespaces: f['containerd-namespace'].length > 0 ? f['containerd-namespace'] : ['k8s.io'],
        };
  if ((f.docker || containerd) && f.mode !== 'learn') {
    return {
      kind: 'host-agent',
      options: {
        ...options,
        mode: f.mode,
        trustedKeyFiles: f.pub.map(at),
        procConnector: f['proc-connector'],
        ...(containerd ? { containerd } : {}),
      },
      ...(containerd ? {} : { dockerSocket }),
    };
  }
  const usesDocker = f.docker || f.container !== undefined || f['docker-socket'] !== undefined;
  return { kind: 'watch', options, dockerSocket, usesDocker };
}

/** Which composition root runs `learn`, with what (a watch in learn mode, or the host learner). */
/**
 * Which run a runtime trace is of (its `monitoredProcess`): the CI's own words for who ran it, what kind of run and
 * this very run (its URL), from the same detection `seal` uses for provenance; outside CI, this host and the time.
 */
function monitoredRun(env: NodeJS.ProcessEnv): NonNullable<RunWatchOptions['runtimeTrace']>['monitoredProcess'] {
  const ci = detectContext(env, {});
  return {
    hostID: ci.builderId,
    type: ci.buildType,
    event: ci.runUrl ?? ci.invocationId ?? `${hostname()}: sealwatch learn started ${new Date().toISOString()}`,
  };
}

export function learnRun({ flags: f, args }: Parsed<LearnFlags>): WatchRun {
  const dockerSocket = f['docker-socket'] ?? DEFAULT_DOCKER_SOCKET;
  const out = resolve(args.cwd, f.out);
  const runtimeTrace =
    f['runtime-trace'] === undefined
      ? undefined
      : { file: resolve(args.cwd, f['runtime-trace']), monitoredProcess: monitoredRun(args.env) };
  if (f.docker) {
    return {
      kind: 'host-learn',
      options: {
        procRoot: f['proc-root'],
        container: f.container!,
        durationMs: f.duration!,
        out,
        headroom: f.headroom,
        runtimeTrace,
        tickMs: f.tick,
        outputs: f.output,
        procConnector: f['proc-connector'],
      },
      dockerSocket,
    };
  }
  // what learning does not use (kills, aggregation) at watch's defaults
  const defaults = WatchFlags.parse({});
  const options: WatchOptions = {
    ...common(f, args),
    mode: 'learn',
    dryRun: false,
    killMinSeverity: toSeverityScore(defaults['kill-min-severity']),
    aggregateWindowMs: defaults['aggregate-window'],
    learnOut: out,
    runtimeTrace,
    durationMs: f.duration,
    headroom: f.headroom,
  };
  const usesDocker = f.container !== undefined || f['docker-socket'] !== undefined;
  return { kind: 'watch', options, dockerSocket, usesDocker };
}
