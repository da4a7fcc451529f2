import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The watcher's Prometheus metrics, in a registry of their own (no global default registry). */
export interface WatchMetrics {
  readonly registry: Registry;
  events: Counter<'rule' | 'severity' | 'outcome'>;
  ticks: Counter;
  tickSeconds: Histogram;
  processesSeen: Counter;
  processesWatched: Gauge;
  pidGaps: Counter;
  outputQueue: Gauge<'output'>;
  parseSkipped: Gauge;
  tickFailures: Counter;
  ruleErrors: Counter<'rule'>;
}

export function createWatchMetrics(): WatchMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'sealwatch_events_total',
      help: 'events dispatched, by rule id (none for observations), severity label and outcome',
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
    processesSeen: new Counter({ name: 'sealwatch_processes_seen_total', help: 'processes inspected', registers }),
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
    outputQueue: new Gauge({
      name: 'sealwatch_output_queue_depth',
      help: 'events waiting in memory per output',
      labelNames: ['output'],
      registers,
    }),
    parseSkipped: new Gauge({
      name: 'sealwatch_proc_records_skipped',
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
  };
}

/** What /metrics shows of the kernel proc connector (host agent): its counters and whether it is in use. */
export interface ConnectorMetricsSource {
  readonly mode: 'proc-connector' | 'proc-poll';
  readonly stats: { execs: number; unreadable: number; partial: number; skipped: number; errors: number };
}

/**
 * Adds the connector's counts to the registry (read at scrape time; the connector keeps plain counters):
 * execs seen, execs whose details were missed (reaped before any read, or exited before the exe link and argv
 * were read), unparsable records, socket errors, and the exec source (connector, or the /proc polling fallback).
 */
/** A counter read at scrape time from a plain running total kept by a source. */
function scrapedCounter(metrics: WatchMetrics, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [metrics.registry],
    collect() {
      const value = read();
      if (value > last) this.inc(value - last);
      last = value;
    },
  });
}

/** What /metrics shows of a container's Docker event stream: how often it ended and was subscribed again. */
export function bindDockerEventMetrics(
  metrics: WatchMetrics,
  source: { readonly interruptions: number; readonly skipped: number },
): void {
  scrapedCounter(
    metrics,
    'sealwatch_docker_event_stream_interruptions_total',
    'times the Docker engine event stream ended (engine restart, dropped connection) and was subscribed again',
    () => source.interruptions,
  );
  scrapedCounter(
    metrics,
    'sealwatch_docker_event_records_skipped_total',
    'Docker engine event records that did not parse or fit',
    () => source.skipped,
  );
}

export function bindConnectorMetrics(metrics: WatchMetrics, connector: ConnectorMetricsSource): void {
  const registers = [metrics.registry];
  const counter = (name: string, help: string, read: () => number): void => scrapedCounter(metrics, name, help, read);
  counter(
    'sealwatch_proc_connector_execs_total',
    'exec events received from the kernel proc connector',
    () => connector.stats.execs,
  );
  let lastMissed = { reaped: 0, exited: 0 };
  new Counter({
    name: 'sealwatch_proc_connector_details_missed_total',
    help: 'execs seen without full details, by why: reaped (gone before any /proc read: any process of the host, its container unknown) or exited (a watched process read after it exited: exe link or argv gone, comm/ppid/uids read)',
    labelNames: ['why'],
    registers,
    collect() {
      const now = { reaped: connector.stats.unreadable, exited: connector.stats.partial };
      for (const why of ['reaped', 'exited'] as const) {
        this.inc({ why }, Math.max(0, now[why] - lastMissed[why]));
      }
      lastMissed = now;
    },
  });
  counter(
    'sealwatch_proc_connector_records_skipped_total',
    'proc connector records that did not parse',
    () => connector.stats.skipped,
  );
  counter(
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
