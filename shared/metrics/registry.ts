import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { SinkStats } from '../outputs/index.ts';

/**
 * A Prometheus registry of its own (never prom-client's global default) with what every sealwatch /metrics
 * shows: the process metrics (`process_*`, `nodejs_*`) and `sealwatch_build_info`. The watcher and the
 * admission webhook each add their own metrics to it.
 */
export function createMetricsRegistry(component: 'watcher' | 'webhook', version: string | undefined): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'sealwatch_build_info',
    help: `always 1: the sealwatch and Node versions of this ${component}`,
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: version ?? 'unknown', node_version: process.version }, 1);
  return registry;
}

/**
 * A counter read at scrape time from a plain running total a component keeps (it takes what is new), or, with
 * `label`, from one total per value of that label (each series there from the first scrape, at 0).
 */
export function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void;
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Readonly<Record<string, number>>,
  label: string,
): void;
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | Readonly<Record<string, number>>,
  label?: string,
): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
    collect() {
      const now = read();
      for (const [value, total] of Object.entries(typeof now === 'number' ? { '': now } : now)) {
        const added = Math.max(0, total - (last.get(value) ?? 0));
        if (label === undefined) this.inc(added);
        else this.inc({ [label]: value }, added);
        last.set(value, total);
      }
    },
  });
}

/**
 * Each output's delivery, read from the dispatcher at scrape time: counters of events delivered, retried, dropped
 * and shortened (the output's running totals), and gauges of events waiting in memory, bytes waiting in the disk
 * spool, and the connection.
 */
export function bindOutputMetrics(registry: Registry, outputs: () => readonly SinkStats[]): void {
  const registers = [registry];
  const counters: ReadonlyArray<[keyof SinkStats & ('sent' | 'retried' | 'dropped' | 'truncated'), string, string]> = [
    ['sent', 'sealwatch_output_events_delivered_total', 'events the output delivered (UDP: handed to the network)'],
    ['retried', 'sealwatch_output_events_retried_total', 'events sent again after a failed attempt'],
    ['dropped', 'sealwatch_output_events_dropped_total', 'events lost: the memory queue and the disk spool were full'],
    ['truncated', 'sealwatch_output_events_truncated_total', 'messages shortened to fit the transport or size limit'],
  ];
  for (const [field, name, help] of counters) {
    const last = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ['output'],
      registers,
      collect() {
        for (const s of outputs()) {
          const before = last.get(s.name) ?? 0;
          this.inc({ output: s.name }, Math.max(0, s[field] - before));
          last.set(s.name, Math.max(before, s[field]));
        }
      },
    });
  }
  const gauges: ReadonlyArray<[(s: SinkStats) => number, string, string]> = [
    [(s) => s.queued, 'sealwatch_output_queue_depth', 'events waiting in memory'],
    [(s) => s.spoolBytes, 'sealwatch_output_spool_bytes', 'bytes waiting in the disk spool'],
    [(s) => (s.connected ? 1 : 0), 'sealwatch_output_connected', '1 when the output has a connection (or needs none)'],
  ];
  for (const [read, name, help] of gauges) {
    new Gauge({
      name,
      help,
      labelNames: ['output'],
      registers,
      collect() {
        for (const s of outputs()) this.set({ output: s.name }, read(s));
      },
    });
  }
}
