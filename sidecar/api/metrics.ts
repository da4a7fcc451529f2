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
  };
}
