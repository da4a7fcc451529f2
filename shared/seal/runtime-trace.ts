import { z } from 'zod';
import { ConfigError } from '../errors/index.ts';
import { makeStatement, ResourceDescriptor, STATEMENT_TYPE, type Statement, type Subject } from './statement.ts';

/**
 * The in-toto runtime-trace predicate (https://in-toto.io/attestation/runtime-trace/v0.1): what a monitor saw a
 * process do, here what the image did while CI's integration tests ran it (`sealwatch learn`). `seal
 * --runtime-trace FILE` signs it into the seal about the sealed image; `audit image` shows it.
 *
 * v0.1 leaves the entries of `monitorLog.process` and `monitorLog.network` to the monitor (`monitor.type`). Ours:
 *  - process: `processBinary` (the executable), `arguments`, and our `name`, `user`, `count`, `firstSeen`,
 *    `lastSeen` (one entry per distinct program and arguments);
 *  - network: the fields v0.2 recommends for every monitor (`ip`, `hostname`, `port`, `protocol`,
 *    `invokingProcess`) and our `direction` and `count`, so moving to v0.2 only changes the type URI.
 * Consumers ignore fields they do not know (the in-toto parsing rules), so the schema is loose where the
 * spec is open and exact where we rely on it.
 */
export const RUNTIME_TRACE_PREDICATE = 'https://in-toto.io/attestation/runtime-trace/v0.1';
/** `monitor.type` of traces sealwatch writes. */
export const SEALWATCH_MONITOR_TYPE = 'https://sealwatch.dev/monitor/v1';
/** The most entries of each list kept in one trace; more are counted in `metadata.truncated`. */
export const TRACE_MAX_ENTRIES = 10_000;

const Count = z.number().int().nonnegative();

export const TraceProcess = z.looseObject({
  processBinary: z.string().describe('the executable path'),
  arguments: z.array(z.string()).optional().describe('argv (argv[0] included)'),
  name: z.string().optional().describe('the program name (comm or applet)'),
  user: z.string().optional(),
  count: Count.optional().describe('how many times it was started'),
  firstSeen: z.string().optional(),
  lastSeen: z.string().optional(),
});
export type TraceProcess = z.infer<typeof TraceProcess>;

export const TraceNetwork = z.looseObject({
  ip: z.string().optional(),
  hostname: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  protocol: z.string().optional().describe('tcp or udp, lowercase'),
  direction: z.enum(['outbound', 'inbound', 'listen']).optional(),
  invokingProcess: z.looseObject({}).optional(),
  count: Count.optional(),
});
export type TraceNetwork = z.infer<typeof TraceNetwork>;

export const RuntimeTracePredicate = z.looseObject({
  monitor: z.looseObject({
    type: z.string().min(1),
    configSource: ResourceDescriptor.optional(),
    tracePolicy: z.record(z.string(), z.unknown()).optional(),
  }),
  monitoredProcess: z.looseObject({
    hostID: z.string().min(1).describe('who ran it, e.g. https://github.com'),
    type: z.string().min(1).describe('what kind of run, e.g. the CI build type'),
    event: z.string().min(1).describe('this very run, e.g. its URL'),
  }),
  monitorLog: z
    .looseObject({
      process: z.array(TraceProcess).max(TRACE_MAX_ENTRIES).optional(),
      network: z.array(TraceNetwork).max(TRACE_MAX_ENTRIES).optional(),
      fileAccess: z.array(ResourceDescriptor).max(TRACE_MAX_ENTRIES).optional(),
    })
    .refine((log) => log.process !== undefined || log.network !== undefined || log.fileAccess !== undefined, {
      message: 'at least one of process, network, fileAccess',
    }),
  metadata: z
    .looseObject({
      buildStartedOn: z.string().optional(),
      buildFinishedOn: z.string().optional(),
      truncated: z.record(z.string(), Count).optional().describe('entries left out per list, over TRACE_MAX_ENTRIES'),
    })
    .optional(),
});
export type RuntimeTracePredicate = z.infer<typeof RuntimeTracePredicate>;

/** What a watcher observed, as `learn` hands it over. */
export interface RuntimeTraceInput {
  /** sealwatch's version (in `monitor.tracePolicy`) and how it watched (`pod`, `container`, `command`…). */
  monitor: { version: string; mode: string };
  /** hostID/type/event of the run: the CI provider, its build type, the run URL (see the predicate's fields). */
  monitoredProcess: { hostID: string; type: string; event: string };
  startedOn: Date;
  finishedOn: Date;
  processes: Iterable<{ executable: string; args?: readonly string[]; name?: string; user?: string; at: Date }>;
  connections: Iterable<{
    direction: 'outbound' | 'inbound' | 'listen';
    protocol: 'tcp' | 'udp';
    ip?: string;
    hostname?: string;
    port?: number;
    executable?: string;
    name?: string;
  }>;
  files?: Iterable<{ path: string; sha256?: string }>;
}

/**
 * Builds the predicate from raw observations: repeated runs of one program with the same arguments become one
 * entry with a count and first/last times, connections one entry per (direction, protocol, peer, port,
 * program); entries sorted, each list capped at TRACE_MAX_ENTRIES with what was left out counted.
 */
export function buildRuntimeTracePredicate(input: RuntimeTraceInput): RuntimeTracePredicate {
  const processes = new Map<string, TraceProcess>();
  for (const p of input.processes) {
    const key = JSON.stringify([p.executable, p.args ?? [], p.name ?? '', p.user ?? '']);
    const at = p.at.toISOString();
    const seen = processes.get(key);
    if (seen) {
      seen.count = (seen.count ?? 0) + 1;
      if (at < (seen.firstSeen ?? at)) seen.firstSeen = at;
      if (at > (seen.lastSeen ?? at)) seen.lastSeen = at;
      continue;
    }
    processes.set(key, {
      processBinary: p.executable,
      ...(p.args ? { arguments: [...p.args] } : {}),
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.user !== undefined ? { user: p.user } : {}),
      count: 1,
      firstSeen: at,
      lastSeen: at,
    });
  }
  const network = new Map<string, TraceNetwork>();
  for (const c of input.connections) {
    const key = JSON.stringify([
      c.direction,
      c.protocol,
      c.ip ?? '',
      c.hostname ?? '',
      c.port ?? 0,
      c.executable ?? '',
    ]);
    const seen = network.get(key);
    if (seen) {
      seen.count = (seen.count ?? 0) + 1;
      continue;
    }
    network.set(key, {
      ...(c.ip !== undefined ? { ip: c.ip } : {}),
      ...(c.hostname !== undefined ? { hostname: c.hostname } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      protocol: c.protocol,
      direction: c.direction,
      ...(c.executable !== undefined || c.name !== undefined
        ? {
            invokingProcess: {
              ...(c.executable !== undefined ? { processBinary: c.executable } : {}),
              ...(c.name !== undefined ? { name: c.name } : {}),
            },
          }
        : {}),
      count: 1,
    });
  }
  const files = new Map<string, z.infer<typeof ResourceDescriptor>>();
  for (const f of input.files ?? []) {
    files.set(`${f.path}\0${f.sha256 ?? ''}`, { name: f.path, ...(f.sha256 ? { digest: { sha256: f.sha256 } } : {}) });
  }
  const truncated: Record<string, number> = {};
  const capped = <T>(name: string, list: T[]): T[] => {
    if (list.length > TRACE_MAX_ENTRIES) truncated[name] = list.length - TRACE_MAX_ENTRIES;
    return list.slice(0, TRACE_MAX_ENTRIES);
  };
  const byJson = (a: unknown, b: unknown) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return {
    monitor: {
      type: SEALWATCH_MONITOR_TYPE,
      tracePolicy: { sealwatch: input.monitor.version, mode: input.monitor.mode },
    },
    monitoredProcess: { ...input.monitoredProcess },
    monitorLog: {
      process: capped('process', [...processes.values()].sort(byJson)),
      network: capped('network', [...network.values()].sort(byJson)),
      fileAccess: capped('fileAccess', [...files.values()].sort(byJson)),
    },
    metadata: {
      buildStartedOn: input.startedOn.toISOString(),
      buildFinishedOn: input.finishedOn.toISOString(),
      ...(Object.keys(truncated).length > 0 ? { truncated } : {}),
    },
  };
}

/** The statement `learn` writes beside the profile (JSON), about the image it watched. */
export function runtimeTraceStatement(predicate: RuntimeTracePredicate, subject: Subject): Statement {
  return makeStatement(subject, RUNTIME_TRACE_PREDICATE, predicate);
}

/**
 * Reads a runtime-trace file given to `seal`: an in-toto statement of this predicate type, or the bare
 * predicate. The statement's subject is not kept: the seal signs the trace about the image it seals. One
 * line naming the file and field on any problem.
 */
export function parseRuntimeTraceFile(text: string, source: string): RuntimeTracePredicate {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('PARSE', `${source}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  let predicate = raw;
  if (raw !== null && typeof raw === 'object' && '_type' in raw) {
    const statement = raw as { _type?: unknown; predicateType?: unknown; predicate?: unknown };
    if (statement._type !== STATEMENT_TYPE) {
      throw new ConfigError('INVALID', `${source}: _type: expected ${STATEMENT_TYPE}`);
    }
    if (statement.predicateType !== RUNTIME_TRACE_PREDICATE) {
      throw new ConfigError(
        'INVALID',
        `${source}: predicateType: expected ${RUNTIME_TRACE_PREDICATE}, got ${JSON.stringify(statement.predicateType)}`,
      );
    }
    predicate = statement.predicate;
  }
  const parsed = RuntimeTracePredicate.safeParse(predicate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new ConfigError('INVALID', `${source}: ${field}: ${issue?.message ?? 'not a runtime-trace predicate'}`);
  }
  return parsed.data;
}

/** What `audit image` says of a trace: how long it ran, what ran, where it talked. */
export interface RuntimeTraceSummary {
  monitor: string;
  run: string;
  host: string;
  startedOn?: string;
  finishedOn?: string;
  durationSeconds?: number;
  processes: number;
  executions: number;
  topProcesses: { executable: string; count: number }[];
  listen: string[];
  outbound: string[];
  files: number;
  truncated?: Record<string, number>;
}

export function summarizeRuntimeTrace(p: RuntimeTracePredicate): RuntimeTraceSummary {
  const started = p.metadata?.buildStartedOn;
  const finished = p.metadata?.buildFinishedOn;
  const duration = started && finished ? (Date.parse(finished) - Date.parse(started)) / 1000 : Number.NaN;
  const perExe = new Map<string, number>();
  for (const proc of p.monitorLog.process ?? []) {
    perExe.set(proc.processBinary, (perExe.get(proc.processBinary) ?? 0) + (proc.count ?? 1));
  }
  const peer = (n: TraceNetwork) =>
    `${n.hostname ?? n.ip ?? '*'}${n.port !== undefined ? `:${n.port}` : ''}${n.protocol ? `/${n.protocol}` : ''}`;
  const network = p.monitorLog.network ?? [];
  return {
    monitor: p.monitor.type,
    run: p.monitoredProcess.event,
    host: p.monitoredProcess.hostID,
    ...(started ? { startedOn: started } : {}),
    ...(finished ? { finishedOn: finished } : {}),
    ...(Number.isFinite(duration) && duration >= 0 ? { durationSeconds: duration } : {}),
    processes: perExe.size,
    executions: [...perExe.values()].reduce((a, b) => a + b, 0),
    topProcesses: [...perExe.entries()]
      .map(([executable, count]) => ({ executable, count }))
      .sort((a, b) => b.count - a.count || (a.executable < b.executable ? -1 : 1))
      .slice(0, 10),
    listen: [...new Set(network.filter((n) => n.direction === 'listen').map(peer))].sort(),
    outbound: [...new Set(network.filter((n) => n.direction !== 'listen').map(peer))].sort(),
    files: (p.monitorLog.fileAccess ?? []).length,
    ...(p.metadata?.truncated ? { truncated: p.metadata.truncated } : {}),
  };
}
