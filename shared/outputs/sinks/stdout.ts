import type { Event } from '../../events/index.ts';
import type { OutputSpec } from '../url.ts';
import { formatterFor } from '../formatters/index.ts';
import { cappedRenderer } from '../size-cap.ts';
import type { Sink, SinkDeps, SinkStats } from '../types.ts';
import { oneLine } from '../transports/one-line.ts';

/**
 * `stdout://`: one rendered event per line on the stream the composition root passed in.
 * Respects backpressure: while the stream is full, lines wait in memory (counted in `queued`).
 */
export function createStdoutSink(spec: Extract<OutputSpec, { type: 'stdout' }>, deps: SinkDeps): Sink {
  const format = formatterFor(spec, deps);
  const render = cappedRenderer(spec, (event) => oneLine(format(event)));
  const stream = deps.stdout;
  const counters = { sent: 0, dropped: 0, truncated: 0 };
  let waiting = 0;
  let drained: Promise<void> = Promise.resolve();
  let failed = false;
  stream.on('error', (error: Error) => {
    if (!failed) deps.logger.warn('stdout output failed; its events are dropped', { error: error.message });
    failed = true;
  });
  return {
    name: spec.name,
    send(event: Event) {
      if (failed) {
        counters.dropped++;
        return;
      }
      let line: string;
      try {
        const fitted = render(event);
        if (fitted.truncated) counters.truncated++;
        if (fitted.tooLarge) throw new Error('event too large for stdout even shortened');
        line = `${fitted.message}\n`;
      } catch (error) {
        counters.dropped++;
        deps.logger.warn('could not render event for stdout', { error: String(error) });
        return;
      }
      waiting++;
      const ok = stream.write(line, () => {
        waiting--;
        counters.sent++;
      });
      if (!ok) drained = new Promise((resolve) => stream.once('drain', resolve));
    },
    async flush() {
      await drained;
      if (waiting > 0) await new Promise<void>((resolve) => stream.write('', () => resolve()));
    },
    async close() {
      await this.flush();
    },
    stats(): SinkStats {
      return {
        name: spec.name,
        ...counters,
        retried: 0,
        queued: waiting,
        spoolBytes: 0,
        connected: !failed,
      };
    },
  };
}
