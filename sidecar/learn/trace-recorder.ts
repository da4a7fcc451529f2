import type { Event } from '../../shared/events/index.ts';
import {
  buildRuntimeTracePredicate,
  TRACE_MAX_ENTRIES,
  type RuntimeTraceInput,
  type RuntimeTracePredicate,
} from '../../shared/seal/index.ts';

/**
 * What `learn --runtime-trace FILE` records beside the profile: every program started (with its arguments) and
 * every connection, from the same events the learner reads, for the in-toto runtime-trace predicate
 * (shared/seal/runtime-trace.ts builds it; `seal --runtime-trace` signs it into the seal). Memory stays bounded
 * however long the run: repeats are folded as they come (one entry per program and arguments, per connection),
 * and distinct entries past TRACE_MAX_ENTRIES are only counted (the predicate's `metadata.truncated`).
 */
type ProcessInput = RuntimeTraceInput['processes'] extends Iterable<infer P> ? P : never;
type ConnectionInput = RuntimeTraceInput['connections'] extends Iterable<infer C> ? C : never;
interface ProcessSeen {
  value: Omit<ProcessInput, 'at'>;
  count: number;
  first: Date;
  last: Date;
}

export interface TraceRecorder {
  observe(event: Event): void;
  predicate(run: Omit<RuntimeTraceInput, 'processes' | 'connections' | 'files'>): RuntimeTracePredicate;
}

/** A connection event's direction in the trace's words; `connection-closed` is one only connection sight saw. */
const CONNECTION_ACTIONS = new Set([
  'connection-listening',
  'connection-accepted',
  'connection-opened',
  'connection-closed',
]);
const DIRECTION: Record<string, ConnectionInput['direction'] | undefined> = {
  listening: 'listen',
  ingress: 'inbound',
  egress: 'outbound',
};

/** A folded entry back as the builder's input: its first run, its other runs, its last (so it folds the same). */
function* foldProcesses(seen: Map<string, ProcessSeen>): Generator<ProcessInput> {
  for (const { value, count, first, last } of seen.values()) {
    yield { ...value, at: first };
    for (let i = 2; i < count; i++) yield { ...value, at: first };
    if (count > 1) yield { ...value, at: last };
  }
}

function* foldConnections(seen: Map<string, { value: ConnectionInput; count: number }>): Generator<ConnectionInput> {
  for (const { value, count } of seen.values()) for (let i = 0; i < count; i++) yield value;
}

export function createTraceRecorder(): TraceRecorder {
  const processes = new Map<string, ProcessSeen>();
  const connections = new Map<string, { value: ConnectionInput; count: number }>();
  const over = { process: 0, network: 0 };
  return {
    observe(event) {
      const p = event.process;
      if (event.event.action === 'process-started' && p?.executable) {
        const value = {
          executable: p.executable,
          ...(p.args ? { args: p.args } : {}),
          ...(p.name !== undefined ? { name: p.name } : {}),
          ...(p.user?.name !== undefined || p.user?.id !== undefined ? { user: p.user.name ?? p.user.id } : {}),
        };
        const key = JSON.stringify([value.executable, value.args ?? [], value.name ?? '', value.user ?? '']);
        const at = new Date(event['@timestamp']);
        const seen = processes.get(key);
        if (seen) {
          seen.count++;
          if (at < seen.first) seen.first = at;
          if (at > seen.last) seen.last = at;
        } else if (processes.size < TRACE_MAX_ENTRIES) processes.set(key, { value, count: 1, first: at, last: at });
        else over.process++;
        return;
      }
      if (!CONNECTION_ACTIONS.has(event.event.action)) return;
      const direction = DIRECTION[event.network?.direction ?? ''];
      if (direction === undefined) return;
      // the peer: the other end (the local address for a listener); the port: the service's (ours unless outbound)
      const peer = direction === 'outbound' ? event.destination : event.source;
      const port = direction === 'listen' ? event.source?.port : event.destination?.port;
      const value: ConnectionInput = {
        direction,
        protocol: event.network?.transport === 'udp' ? 'udp' : 'tcp',
        ...(peer?.ip !== undefined ? { ip: peer.ip } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(p?.executable !== undefined ? { executable: p.executable } : {}),
        ...(p?.name !== undefined ? { name: p.name } : {}),
      };
      const key = JSON.stringify([
        value.direction,
        value.protocol,
        value.ip ?? '',
        value.port ?? 0,
        value.executable ?? '',
      ]);
      const seen = connections.get(key);
      if (seen) seen.count++;
      else if (connections.size < TRACE_MAX_ENTRIES) connections.set(key, { value, count: 1 });
      else over.network++;
    },
    predicate(run) {
      const predicate = buildRuntimeTracePredicate({
        ...run,
        processes: foldProcesses(processes),
        connections: foldConnections(connections),
      });
      const truncated = { ...predicate.metadata?.truncated };
      if (over.process > 0) truncated.process = (truncated.process ?? 0) + over.process;
      if (over.network > 0) truncated.network = (truncated.network ?? 0) + over.network;
      return Object.keys(truncated).length === 0
        ? predicate
        : { ...predicate, metadata: { ...predicate.metadata, truncated } };
    },
  };
}
