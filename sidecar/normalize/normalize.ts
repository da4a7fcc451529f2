import { createEvent, type Event } from '../../shared/events/index.ts';
import { escapeTerminal } from '../../shared/text/index.ts';
import type { EventInput } from '../../shared/events/index.ts';
import type { FileSight, Observation, ProcessInfo } from '../sources/index.ts';

/**
 * Observations → the one normalized event (ECS fields). Facts the rules need and ECS has no
 * field for (stdin is a socket, exe deleted, TracerPid, euid) go in `sealwatch.details`, so a
 * rule can be replayed on events read back from a JSONL file (`sealwatch policy test`).
 */
export interface NormalizeContext {
  mode: 'learn' | 'monitor' | 'enforce';
  container?: Event['container'];
  orchestrator?: Event['orchestrator'];
  hostName?: string;
  runId?: string;
  version?: string;
  profileId?: string;
  /** the neighbour's seal as checked at start (stamped on every event as `sealwatch.seal`) */
  seal?: NonNullable<Event['sealwatch']['seal']>;
  now?: () => Date;
}

type Details = Record<string, string | number | boolean>;

export function processFields(
  p: ProcessInfo,
  parent?: { pid: number; name?: string; exe?: string; args?: string[] },
): NonNullable<Event['process']> {
  return {
    pid: p.pid,
    ppid: p.ppid,
    executable: p.exe,
    name: p.name,
    args: p.args,
    command_line: p.args.join(' '),
    working_directory: p.cwd,
    user: { id: String(p.euid), name: p.user },
    group: { id: String(p.gid) },
    hash: p.sha256 ? { sha256: p.sha256 } : undefined,
    start: p.start,
    parent: parent
      ? { pid: parent.pid, name: parent.name, executable: parent.exe, args: parent.args }
      : { pid: p.ppid },
  };
}

function processDetails(p: ProcessInfo): Details {
  const d: Details = { comm: p.comm, ns_pid: p.nsPid, euid: p.euid, uid: p.uid, stdin: p.stdin, stdout: p.stdout };
  if (p.exeDeleted) d.exe_deleted = true;
  if (p.exeMemfd) d.exe_memfd = true;
  if (p.exeSetuid) d.exe_setuid = true;
  if (p.tracerPid !== 0) d.tracer_pid = p.tracerPid;
  d.start_ticks = p.startTicks;
  return d;
}

export function normalize(obs: Observation, ctx: NormalizeContext): Event {
  const base = {
    container: ctx.container,
    orchestrator: ctx.orchestrator,
    host: ctx.hostName ? { name: ctx.hostName } : undefined,
  };
  const sw = (
    details: Details,
    extra: Partial<NonNullable<EventInput['sealwatch']>> = {},
  ): NonNullable<EventInput['sealwatch']> => ({
    mode: ctx.mode,
    outcome: 'observed',
    run_id: ctx.runId,
    version: ctx.version,
    profile_id: ctx.profileId,
    seal: ctx.seal,
    details,
    ...extra,
  });
  const ev = (input: Omit<EventInput, 'container' | 'orchestrator' | 'host'>): Event =>
    createEvent({ ...base, ...input, event: { dataset: 'sealwatch.runtime', ...input.event } }, ctx.now);
  switch (obs.type) {
    case 'process-start':
      return ev({
        event: { kind: 'event', category: ['process'], type: ['start'], action: 'process-started', severity: 0 },
        message: `process started: ${obs.process.name} (pid ${obs.process.pid})`,
        process: processFields(obs.process, obs.parent),
        sealwatch: sw({
          ...processDetails(obs.process),
          ...(obs.parent?.euid !== undefined ? { parent_euid: obs.parent.euid } : {}),
          ...(obs.parent?.watcher === true ? { parent_is_watcher: true } : {}),
        }),
      });
    case 'process-exit':
      return ev({
        event: { kind: 'event', category: ['process'], type: ['end'], action: 'process-exited', severity: 0 },
        message: `process exited: ${obs.process.name} (pid ${obs.process.pid})`,
        process: processFields(obs.process),
        sealwatch: sw(processDetails(obs.process)),
      });
    case 'process-uid-change':
      return ev({
        event: { kind: 'event', category: ['process'], type: ['change'], action: 'process-uid-changed', severity: 0 },
        message: `process ${obs.process.name} (pid ${obs.process.pid}) changed euid ${obs.fromEuid} → ${obs.toEuid}`,
        process: processFields(obs.process),
        sealwatch: sw({ ...processDetails(obs.process), from_euid: obs.fromEuid, euid: obs.toEuid }),
      });
    case 'process-traced':
      return ev({
        event: { kind: 'event', category: ['process'], type: ['change'], action: 'process-traced', severity: 0 },
        message: `process ${obs.process.name} (pid ${obs.process.pid}) is traced by pid ${obs.tracerPid}`,
        process: processFields(obs.process),
        sealwatch: sw({ ...processDetails(obs.process), tracer_pid: obs.tracerPid }),
      });
    case 'file-open':
      return ev({
        event: { kind: 'event', category: ['file'], type: ['access'], action: 'file-opened', severity: 0 },
        message: `${obs.process.name} (pid ${obs.process.pid}) holds ${escapeTerminal(obs.path)} open${obs.write ? ' for writing' : ''}`,
        process: processFields(obs.process),
        file: { path: obs.path, name: obs.path.slice(obs.path.lastIndexOf('/') + 1) },
        sealwatch: sw({ ...processDetails(obs.process), fd: obs.fd, write: obs.write }),
      });
    case 'setuid-file':
      return ev({
        event: { kind: 'event', category: ['file'], type: ['creation'], action: 'setuid-file-found', severity: 0 },
        message: `setuid/setgid file found: ${escapeTerminal(obs.path)}`,
        file: { path: obs.path, name: obs.path.slice(obs.path.lastIndexOf('/') + 1) },
        sealwatch: sw({ mode: obs.mode.toString(8) }),
      });
    case 'file-sight':
      return fileSightEvent(obs, ev, sw);
    case 'connection':
      return ev({
        ...connectionInput(obs, `${obs.process ? who(obs.process) : 'unknown process'} ${connectionWhere(obs)}`),
        sealwatch: sw({ inode: obs.socket.inode, socket_uid: obs.socket.uid }),
      });
    case 'connection-closed': {
      const s = obs.socket;
      // the kernel tells a closed socket's uid, not its process (gone before the watcher could read it)
      const by = obs.process
        ? who(obs.process)
        : `a process of uid ${s.uid}${obs.user ? ` (${obs.user})` : ''} (it closed the socket before the watcher saw which process held it)`;
      const carried =
        obs.bytes === undefined
          ? ''
          : `, ${obs.bytes.sent ?? '?'} bytes sent and ${obs.bytes.received ?? '?'} received`;
      const input = connectionInput(obs, `${by} ${connectionWhere(obs)}; closed${carried}`);
      return ev({
        ...input,
        event: { ...input.event, type: ['connection', 'end'], action: 'connection-closed' },
        sealwatch: sw({
          socket_uid: s.uid,
          ...(obs.user !== undefined ? { socket_user: obs.user } : {}),
          seen_by: 'socket-destroy',
          ...(obs.bytes?.sent !== undefined ? { bytes_sent: obs.bytes.sent } : {}),
          ...(obs.bytes?.received !== undefined ? { bytes_received: obs.bytes.received } : {}),
          ...(obs.process ? {} : { process_unknown: true }),
        }),
      });
    }
    case 'sight-lost':
      return ev({
        event: { kind: 'state', category: ['host'], type: ['info'], action: 'sight-lost', severity: 3 },
        message: `${obs.count} ${obs.kind === 'connections' ? 'closed-connection' : 'file'} notification(s) lost: ${obs.detail}`,
        sealwatch: sw({ kind: obs.kind, lost: obs.count, detail: obs.detail }),
      });
    case 'resources':
      return ev({
        event: { kind: 'metric', category: ['host'], type: ['info'], action: 'resources-sampled', severity: 0 },
        message: `${obs.processCount} processes, ${Math.round(obs.rssKiB / 1024)} MiB RSS, ${obs.cpuPercent}% CPU`,
        sealwatch: sw({
          process_count: obs.processCount,
          rss_mib: Math.round((obs.rssKiB / 1024) * 10) / 10,
          cpu_percent: obs.cpuPercent,
        }),
      });
    case 'pid-gap':
      return ev({
        event: { kind: 'state', category: ['host'], type: ['info'], action: 'pid-gap', severity: 1 },
        message: `${obs.missed} process(es) lived and exited between two ticks and were not inspected (${obs.totalMissed} so far)`,
        sealwatch: sw({ missed: obs.missed, total_missed: obs.totalMissed }),
      });
    case 'docker':
      return ev({
        event: {
          kind: 'event',
          category: ['process'],
          type: ['info'],
          action: `container-${obs.action}`,
          severity:
            obs.action === 'exec' || obs.action === 'removed' || obs.action === 'events-interrupted'
              ? 3
              : obs.action === 'oom'
                ? 6
                : 1,
        },
        message: `container ${obs.container}: ${obs.action}${obs.detail ? ` (${obs.detail})` : ''}`,
        sealwatch: sw(dockerDetails(obs)),
      });
    case 'seal':
      return ev({
        event: {
          kind: 'state',
          category: ['configuration'],
          type: ['info'],
          action: 'seal-checked',
          severity: obs.status === 'verified' ? 0 : 1,
          dataset: 'sealwatch.seal',
        },
        message: `seal ${obs.status}${obs.detail ? `: ${obs.detail}` : ''}`,
        sealwatch: sw(
          { ...(obs.detail ? { detail: obs.detail } : {}), ...(obs.source ? { seal_source: obs.source } : {}) },
          { seal: { status: obs.status, identity: obs.identity, key_hint: obs.keyHint } },
        ),
      });
  }
}

/** exec: the command; die: the exit code; restart: the new and the replaced init (host PIDs). */
function dockerDetails(obs: Extract<Observation, { type: 'docker' }>): Details {
  const d: Details = {};
  if (obs.detail !== undefined) {
    if (obs.action === 'exec') d.command = obs.detail;
    else if (obs.action === 'die' && /^\d+$/.test(obs.detail)) d.exit_code = Number(obs.detail);
    else d.detail = obs.detail;
  }
  if (obs.initPid !== undefined) d.init_pid = obs.initPid;
  if (obs.previousInitPid !== undefined) d.previous_init_pid = obs.previousInitPid;
  return d;
}

const who = (p: ProcessInfo): string => `${p.name} (pid ${p.pid})`;

type ConnectionObservation = Extract<Observation, { type: 'connection' | 'connection-closed' }>;

function connectionWhere(obs: ConnectionObservation): string {
  const s = obs.socket;
  return obs.direction === 'listening'
    ? `listens on ${s.protocol} ${s.localIp}:${s.localPort}`
    : obs.direction === 'ingress'
      ? `accepted ${s.protocol} from ${s.remoteIp}:${s.remotePort} on port ${s.localPort}`
      : `connected over ${s.protocol} to ${s.remoteIp}:${s.remotePort}`;
}

/** What a polled connection and a closed one share: the endpoints by direction, the process, the socket's facts. */
function connectionInput(
  obs: ConnectionObservation,
  message: string,
): Omit<EventInput, 'container' | 'orchestrator' | 'host' | 'sealwatch'> {
  const s = obs.socket;
  const local = { ip: s.localIp, port: s.localPort };
  const remote = { ip: s.remoteIp, port: s.remotePort };
  const action =
    obs.direction === 'listening'
      ? 'connection-listening'
      : obs.direction === 'ingress'
        ? 'connection-accepted'
        : 'connection-opened';
  return {
    event: {
      kind: 'event',
      category: ['network'],
      type: obs.direction === 'listening' ? ['start'] : ['connection'],
      action,
      severity: 0,
    },
    message,
    process: obs.process ? processFields(obs.process) : undefined,
    source: obs.direction === 'ingress' ? remote : local,
    destination: obs.direction === 'ingress' ? local : obs.direction === 'egress' ? remote : undefined,
    network: { transport: s.protocol, type: s.family, direction: obs.direction },
  };
}

const fileName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * File sight's observations become the events the rules already judge: an exec is a `process-started`, an open or a
 * write a `file-opened` (`write` set for a write); a drifted executable is an `executable-written`. When the process
 * had exited before it could be read there is no PID: `process` holds the executable alone and `details.process` is
 * `exited`; for a multi-call binary the applet is unknown (`details.name_unknown`: only the executable is judged).
 */
function fileSightEvent(
  obs: FileSight,
  ev: (input: Omit<EventInput, 'container' | 'orchestrator' | 'host'>) => Event,
  sw: (details: Details) => NonNullable<EventInput['sealwatch']>,
): Event {
  const p = obs.process;
  const actor: Details = p ? processDetails(p) : { process: 'exited' };
  const base: Details = { ...actor, seen_by: 'file-sight', change: obs.change };
  const by = p ? who(p) : 'a process that exited before it could be read';
  const shown = escapeTerminal(obs.path);
  const file = { path: obs.path, name: fileName(obs.path) };
  switch (obs.kind) {
    case 'exec': {
      const name = fileName(obs.path);
      return ev({
        event: { kind: 'event', category: ['process'], type: ['start'], action: 'process-started', severity: 0 },
        message: p
          ? `process started: ${p.name} (pid ${p.pid})`
          : obs.multiCall
            ? `${escapeTerminal(name)} ran (a multi-call binary: which program it ran is not known; the process exited before it could be read)`
            : `${shown} ran (the process exited before it could be read)`,
        process: p ? processFields(p) : { executable: obs.path, name },
        sealwatch: sw({ ...base, ...(!p && obs.multiCall ? { name_unknown: true } : {}) }),
      });
    }
    case 'open':
    case 'write':
      return ev({
        event: { kind: 'event', category: ['file'], type: ['access'], action: 'file-opened', severity: 0 },
        message: obs.kind === 'open' ? `${shown} was opened by ${by}` : `${shown} was ${CHANGED[obs.change]} by ${by}`,
        process: p ? processFields(p) : undefined,
        file,
        sealwatch: sw({ ...base, write: obs.kind === 'write' }),
      });
    case 'drift':
      return ev({
        event: { kind: 'event', category: ['file'], type: ['creation'], action: 'executable-written', severity: 0 },
        message: `executable ${shown} was ${CHANGED[obs.change]}: ${obs.drift ?? 'not sealed'}`,
        process: p ? processFields(p) : undefined,
        file,
        sealwatch: sw({
          ...base,
          drift: obs.drift ?? 'not in the sealed inventory',
          ...(obs.sha256 ? { sha256: obs.sha256 } : {}),
          ...(obs.mode !== undefined ? { mode: obs.mode.toString(8) } : {}),
        }),
      });
  }
}

const CHANGED: Record<FileSight['change'], string> = {
  open: 'opened',
  'close-write': 'written',
  create: 'created',
  'moved-to': 'moved in',
  attrib: 'changed (mode or owner)',
};
