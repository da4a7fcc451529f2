import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Event } from '../events/index.ts';
import { CHECKPOINT_ACTION, createRecorder, type Recorder } from '../record/index.ts';
import type { OutputSpec } from './url.ts';
import type { CloseOptions, Dispatcher, DispatcherDeps, Sink, SinkDeps, SinkStats } from './types.ts';
import { SINKS } from './sinks/registry.ts';

/**
 * The fan-out in front of every output: stamps `sealwatch.run_id` and a monotonically increasing
 * `sealwatch.seq`, links the event into the record's hash chain when a record key is given (and
 * dispatches a signed checkpoint when one is due), filters by each output's `min-severity`
 * (checkpoints pass every filter), and hands the event to every sink.
 * A sink that throws is logged and counted; it never stops the others.
 */
export function createDispatcher(specs: readonly OutputSpec[], deps: DispatcherDeps): Dispatcher {
  const runId = deps.runId ?? randomUUID();
  const version = deps.version ?? '0.0.0';
  const now = deps.now ?? (() => new Date());
  let seq = 0;
  const recorder: Recorder | undefined =
    deps.record === undefined
      ? undefined
      : createRecorder(
          runId,
          {
            ...deps.record,
            stateFile:
              deps.record.stateFile ??
              (deps.spoolDir === undefined ? undefined : join(deps.spoolDir, 'record-head.json')),
          },
          now,
        );
  if (recorder?.stateProblem !== undefined) deps.logger.warn(recorder.stateProblem);
  const stamp = (event: Event): Event => {
    const stamped: Event = {
      ...event,
      sealwatch: { ...event.sealwatch, version: event.sealwatch.version ?? version, run_id: runId, seq: ++seq },
    };
    return recorder === undefined ? stamped : recorder.link(stamped);
  };
  const outputs: Array<{ spec: OutputSpec; sink: Sink; failures: number }> = [];
  const fanOut = (stamped: Event): void => {
    const everywhere = stamped.event.action === CHECKPOINT_ACTION;
    for (const o of outputs) {
      if (stamped.event.severity < o.spec.minSeverity && !everywhere) continue;
      try {
        o.sink.send(stamped);
      } catch (error) {
        o.failures++;
        deps.logger.warn('output rejected an event', { output: o.spec.name, error: String(error) });
      }
    }
  };
  const checkpoint = (atShutdown = false): void => {
    const reason = recorder?.due(atShutdown);
    if (recorder === undefined || reason === undefined) return;
    fanOut(stamp(recorder.checkpoint(reason)));
    try {
      recorder.saveHead();
    } catch (error) {
      deps.logger.warn('cannot keep the event record head for the next run', { error: String(error) });
    }
  };
  const dispatch = (event: Event): Event => {
    const stamped = stamp(event);
    fanOut(stamped);
    checkpoint();
    return stamped;
  };
  const sinkDeps: SinkDeps = {
    logger: deps.logger,
    version,
    now,
    hostname: deps.hostname ?? osHostname(),
    connectTimeoutMs: deps.connectTimeoutMs ?? 10_000,
    spoolDir: deps.spoolDir,
    stdout: deps.stdout ?? process.stdout,
    env: deps.env ?? process.env,
    emit: (event) => void dispatch(event),
  };
  try {
    for (const spec of specs) {
      const factory = SINKS[spec.type] as (s: OutputSpec, d: SinkDeps) => Sink;
      outputs.push({ spec, sink: factory(spec, sinkDeps), failures: 0 });
    }
  } catch (error) {
    for (const o of outputs) void o.sink.close().catch(() => undefined);
    throw error;
  }
  // Checkpoints owed by time come from a timer too, so a quiet run still signs its last events.
  const timer =
    recorder === undefined
      ? undefined
      : setInterval(() => checkpoint(), Math.min(1000, (deps.record?.seconds ?? 60) * 1000));
  timer?.unref();

  const each = async (what: 'flush' | 'close', options?: CloseOptions): Promise<void> => {
    const results = await Promise.allSettled(
      outputs.map((o) => (what === 'close' ? o.sink.close(options) : o.sink.flush())),
    );
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        deps.logger.warn(`output ${what} failed`, { output: outputs[i]!.spec.name, error: String(r.reason) });
      }
    });
  };

  let closed = false;
  return {
    dispatch,
    flush: () => each('flush'),
    close: async (options) => {
      if (!closed) {
        closed = true;
        if (timer !== undefined) clearInterval(timer);
        checkpoint(true);
      }
      await each('close', options);
    },
    stats(): SinkStats[] {
      return outputs.map((o) => {
        const s = o.sink.stats();
        return { ...s, dropped: s.dropped + o.failures };
      });
    },
  };
}
