import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { bindOutputMetrics, createMetricsRegistry, scrapedCounter } from '../../shared/metrics/index.ts';
import type { SinkStats } from '../../shared/outputs/index.ts';

/**
 * The watcher's Prometheus metrics, in a registry of their own (no global default registry): its own counts,
 * each output's delivery, `sealwatch_build_info`, and the process metrics (`process_*`, `nodejs_*`).
 * deploy/prometheus/ alerts on them and deploy/grafana/ charts them (test/deploy/prometheus.test.ts).
 */
export interface WatchMetrics {
  readonly registry: Registry;
  events: Counter<'rule' | 'severity' | 'outcome'>;
  ticks: Counter;
  tickSeconds: Histogram;
  processesSeen: Counter;
  processesWatched: Gauge;
  pidGaps: Counter;
  parseSkipped: Counter;
  tickFailures: Counter;
  ruleErrors: Counter<'rule'>;
  /** kernel event sight (connections, files): each pipeline's sources add themselves */
  sight: SightMetrics;
  /** inotify watches held by file sight, by class (summed over the host agent's containers) */
  sightWatches: Gauge<'class'>;
}

export type SightKind = 'connections' | 'files';

/** What a sight source shows on /metrics: whether it is on, and its running totals. */
export interface SightStats {
  readonly available: boolean;
  readonly seen: number;
  readonly lost: number;
}

/**
 * `sealwatch_sight_available{kind}` (1 only when every pipeline's source of that kind is on: the host agent has one
 * per container), `sealwatch_sight_events_total{kind}` and `sealwatch_sight_events_lost_total{kind}`, summed over the
 * sources added. `add` returns the removal (a pipeline that closes).
 */
export interface SightMetrics {
  add(kind: SightKind, stats: SightStats): () => void;
}

interface SightEntry {
  kind: SightKind;
  stats: SightStats;
}

function createSightMetrics(registry: Registry): SightMetrics {
  const registers = [registry];
  const sources = new Set<SightEntry>();
  const kinds: readonly SightKind[] = ['connections', 'files'];
  const added = (kind: SightKind): SightStats[] => [...sources].filter((s) => s.kind === kind).map((s) => s.stats);
  new Gauge({
    name: 'sealwatch_sight_available',
    help: '1 when the kernel event sight of this kind is on for every watched target (socket destroy notifications, inotify), 0 when it is off for one (the socket/poller still work: see the log line)',
    labelNames: ['kind'],
    registers,
    collect() {
      for (const kind of kinds) {
        const all = added(kind);
        if (all.length > 0) this.set({ kind }, all.every((s) => s.available) ? 1 : 0);
      }
    },
  });
  for (const [name, help, read] of [
    ['sealwatch_sight_events_total', 'kernel sight events turned into observations', (s: SightStats) => s.seen],
    [
      'sealwatch_sight_events_lost_total',
      'kernel sight events lost (a full queue, a dropped notification); each loss is also an event (sight-lost)',
      (s: SightStats) => s.lost,
    ],
  ] as const) {
    // each source's total as last read: the counter takes what is new, and a closed pipeline's totals stay counted
    const last = new Map<SightEntry, number>();
    const counter = new Counter({
      name,
      help,
      labelNames: ['kind'],
      registers,
      collect() {
        for (const entry of sources) {
          const now = read(entry.stats);
          const delta = now - (last.get(entry) ?? 0);
          if (delta > 0) this.inc({ kind: entry.kind }, delta);
          last.set(entry, now);
        }
        for (const entry of last.keys()) if (!sources.has(entry)) last.delete(entry);
      },
    });
    // every kind's series from the start, at 0 (an alert on a loss needs the series; `-- COMMAND` has no sight)
    for (const kind of kinds) counter.inc({ kind }, 0);
  }
  return {
    add(kind, stats) {
      const entry: SightEntry = { kind, stats };
      sources.add(entry);
      return () => sources.delete(entry);
    },
  };
}

export interface WatchMetricsOptions {
  /** sealwatch's version, for sealwatch_build_info */
  version?: string;
  /** the outputs' counts, read at scrape time (the dispatcher's `stats()`) */
  outputs?: () => readonly SinkStats[];
}

export function createWatchMetrics(options: WatchMetricsOptions = {}): WatchMetrics {
  const registry = createMetricsRegistry('watcher', options.version);
  const registers = [registry];
  const metrics: WatchMetrics = {
    registry,
    events: new Counter({
      name: 'sealwatch_events_total',
      help: 'events dispatched, by rule id (empty for observations), severity label and outcome',
      labelNames: ['rule', 'severity', 'outcome'],
      registers,
    }),
    ticks: new Counter({ name: 'sealwatch_ticks_total', help: 'main loop ticks', registers }),
    tickSeconds: new Histogram({
      name: 'sealwatch_tick_duration_seconds',
      help: 'time one tick takes (all sources, rules, responses)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    }),
    processesSeen: new Counter({
      name: 'sealwatch_processes_seen_total',
      help: 'processes inspected (each new process once)',
      registers,
    }),
    processesWatched: new Gauge({
      name: 'sealwatch_processes_watched',
      help: 'processes alive and watched',
      registers,
    }),
    pidGaps: new Counter({
      name: 'sealwatch_pid_gap_total',
      help: 'processes that lived and exited between two ticks and were not inspected',
      registers,
    }),
    parseSkipped: new Counter({
      name: 'sealwatch_proc_records_skipped_total',
      help: '/proc records that did not parse and were skipped',
      registers,
    }),
    tickFailures: new Counter({
      name: 'sealwatch_tick_failures_total',
      help: 'ticks that failed (logged); the loop goes on',
      registers,
    }),
    ruleErrors: new Counter({
      name: 'sealwatch_rule_errors_total',
      help: 'times a rule threw while judging an event (logged); the other rules still judged it',
      labelNames: ['rule'],
      registers,
    }),
    sight: createSightMetrics(registry),
    sightWatches: new Gauge({
      name: 'sealwatch_sight_watches',
      help: 'inotify watches file sight holds, by class (dropped, sensitive, executable, system-dir, writable)',
      labelNames: ['class'],
      registers,
    }),
  };
  if (options.outputs) bindOutputMetrics(registry, options.outputs);
  return metrics;
}

/** What /metrics shows of the kernel proc connector (host agent): its counters and whether it is in use. */
export interface ConnectorMetricsSource {
  readonly mode: 'proc-connector' | 'proc-poll';
  readonly stats: { execs: number; unreadable: number; partial: number; skipped: number; errors: number };
}

/** What /metrics shows of a container's Docker event stream: how often it ended and was subscribed again. */
export function bindDockerEventMetrics(
  metrics: WatchMetrics,
  source: { readonly interruptions: number; readonly skipped: number },
): void {
  scrapedCounter(
    metrics.registry,
    'sealwatch_docker_event_stream_interruptions_total',
    'times the Docker engine event stream ended (engine restart, dropped connection) and was subscribed again',
    () => source.interruptions,
  );
  scrapedCounter(
    metrics.registry,
    'sealwatch_docker_event_records_skipped_total',
    'Docker engine event records that did not parse or fit',
    () => source.skipped,
  );
}

/**
 * Adds the connector's counts to the registry (read at scrape time; the connector keeps plain counters):
 * execs seen, execs whose details were missed (reaped before any read, or exited before the exe link and argv
 * were read), unparsable records, socket errors, and the exec source (connector, or the /proc polling fallback).
 */
export function bindConnectorMetrics(metrics: WatchMetrics, connector: ConnectorMetricsSource): void {
  const registers = [metrics.registry];
  scrapedCounter(
    metrics.registry,
    'sealwatch_proc_connector_execs_total',
    'exec events received from the kernel proc connector',
    () => connector.stats.execs,
  );
  scrapedCounter(
    metrics.registry,
    'sealwatch_proc_connector_details_missed_total',
    'execs seen without full details, by why: reaped (gone before any /proc read: any process of the host, its container unknown) or exited (a watched process read after it exited: exe link or argv gone, comm/ppid/uids read)',
    () => ({ reaped: connector.stats.unreadable, exited: connector.stats.partial }),
    'why',
  );
  scrapedCounter(
    metrics.registry,
    'sealwatch_proc_connector_records_skipped_total',
    'proc connector records that did not parse',
    () => connector.stats.skipped,
  );
  scrapedCounter(
    metrics.registry,
    'sealwatch_proc_connector_errors_total',
    'proc connector socket errors (ENOBUFS: the kernel dropped events)',
    () => connector.stats.errors,
  );
  new Gauge({
    name: 'sealwatch_exec_source',
    help: 'where exec events come from: 1 for the source in use (proc-connector, or proc-poll when the connector is unavailable or off)',
    labelNames: ['source'],
    registers,
    collect() {
      this.set({ source: 'proc-connector' }, connector.mode === 'proc-connector' ? 1 : 0);
      this.set({ source: 'proc-poll' }, connector.mode === 'proc-poll' ? 1 : 0);
    },
  });
}
