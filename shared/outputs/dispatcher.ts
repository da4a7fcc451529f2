import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { Event } from '../events/index.ts';
import type { OutputSpec } from './url.ts';
import type { Dispatcher, DispatcherDeps, Sink, SinkDeps, SinkStats } from './types.ts';
import { SINKS } from './sinks.ts';

/**
 * The fan-out in front of every output: stamps `sealwatch.run_id` and a monotonically increasing
 * `sealwatch.seq`, filters by each output's `min-severity`, and hands the event to every sink.
 * A sink that throws is logged and counted; it never stops the others.
 */
export function createDispatcher(specs: readonly OutputSpec[], deps: DispatcherDeps): Dispatcher {
  const runId = deps.runId ?? randomUUID();
  const version = deps.version ?? '0.0.0';
  let seq = 0;
  const stamp = (event: Event): Event => ({
    ...event,
    sealwatch: { ...event.sealwatch, version: event.sealwatch.version ?? version, run_id: runId, seq: ++seq },
  });
  const sinkDeps: SinkDeps = {
    logger: deps.logger,
    version,
    now: deps.now ?? (() => new Date()),
    hostname: deps.hostname ?? osHostname(),
    spoolDir: deps.spoolDir,
    stdout: deps.stdout ?? process.stdout,
    env: deps.env ?? process.env,
    stamp,
  };
  const outputs: Array<{ spec: OutputSpec; sink: Sink; failures: number }> = [];
  try {
    for (const spec of specs) {
      const factory = SINKS[spec.type] as (s: OutputSpec, d: SinkDeps) => Sink;
      outputs.push({ spec, sink: factory(spec, sinkDeps), failures: 0 });
    }
  } catch (error) {
    for (const o of outputs) void o.sink.close().catch(() => undefined);
    throw error;
  }

  const each = async (what: 'flush' | 'close'): Promise<void> => {
    const results = await Promise.allSettled(outputs.map((o) => o.sink[what]()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        deps.logger.warn(`output ${what} failed`, { output: outputs[i]!.spec.name, error: String(r.reason) });
      }
    });
  };

  return {
    dispatch(event: Event): Event {
      const stamped = stamp(event);
      for (const o of outputs) {
        if (stamped.event.severity < o.spec.minSeverity) continue;
        try {
          o.sink.send(stamped);
        } catch (error) {
          o.failures++;
          deps.logger.warn('output rejected an event', { output: o.spec.name, error: String(error) });
        }
      }
      return stamped;
    },
    flush: () => each('flush'),
    close: () => each('close'),
    stats(): SinkStats[] {
      return outputs.map((o) => {
        const s = o.sink.stats();
        return { ...s, dropped: s.dropped + o.failures };
      });
    },
  };
}
