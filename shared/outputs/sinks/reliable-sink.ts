import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createEvent, type Event } from '../../events/index.ts';
import { severityLabel, SEVERITY_LABELS } from '../../severity/index.ts';
import { DiskSpool, type DropCounts, type SpoolRecord } from '../spool/index.ts';
import type { OutputSpec } from '../url.ts';
import type { Sink, SinkDeps, SinkStats } from '../types.ts';
import type { Transport } from '../transports/transport.ts';
import type { Fitted } from '../size-cap.ts';

/**
 * Nothing lost: a bounded in-memory queue in front of a disk spool, for one output.
 * - While the transport delivers and the spool is empty, events go memory → transport.
 * - When a delivery fails (or memory is full), the memory queue spills to the spool and new events
 *   are appended to the spool until it has been replayed in order; a SIGKILL loses nothing spooled.
 * - Retries back off exponentially (100 ms … 30 s, full jitter). Delivery is at-least-once; the SIEM
 *   de-duplicates on `sealwatch.run_id` + `sealwatch.seq`.
 * - At the spool cap (or the memory cap without a spool) the oldest lowest-severity events go first
 *   and a `sealwatch.events.dropped` event with the counts says so.
 */
export interface ReliableSinkOptions {
  /** Renders one event into the message the transport carries, within the output's size cap. */
  render: (event: Event) => Fitted;
  transport: Transport;
  /** Memory queue bound (events); default 10,000. */
  maxQueue?: number;
  /** Messages per transport.send; default 500. */
  batchSize?: number;
  /** Time close() waits for delivery before leaving the rest in the spool; default 5 s. */
  closeTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export const DEFAULT_SPOOL_MB = 256;
export const DROPPED_ACTION = 'sealwatch.events.dropped';
export const SPOOL_DAMAGED_ACTION = 'sealwatch.spool.damaged';
export const REJECTED_ACTION = 'sealwatch.events.rejected';
/** Messages over this size (what RFC 5425 receivers should accept) are suspects when a receiver keeps closing. */
const SUSPECT_BYTES = 8192;

interface Item {
  severity: number;
  payload: Buffer;
}

export function spoolFolder(root: string, name: string): string {
  const slug = name.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 60);
  return join(root, `${slug}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`);
}

export function createReliableSink(
  spec: OutputSpec,
  deps: SinkDeps,
  options: ReliableSinkOptions,
): Sink & { readonly spool: DiskSpool | undefined } {
  const { transport, render } = options;
  const maxQueue = options.maxQueue ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 30_000 };
  const log = deps.logger.child({ output: spec.name });
  const capBytes = (spec.options['spool-mb'] ?? DEFAULT_SPOOL_MB) * 1024 * 1024;
  const spool =
    deps.spoolDir === undefined ? undefined : new DiskSpool(spoolFolder(deps.spoolDir, spec.name), { capBytes });
  if (spool !== undefined && spool.pendingRecords > 0) {
    log.info('replaying spooled events', { records: spool.pendingRecords, bytes: spool.pendingBytes });
  }

  /** A notice about this output (drops, a damaged spool, a refused message), sent to every output. */
  const notice = (action: string, message: string, details: Record<string, number>): void =>
    deps.emit(
      createEvent(
        {
          event: {
            kind: 'metric',
            category: ['host'],
            type: ['info'],
            action,
            severity: 7,
            dataset: 'sealwatch.runtime',
          },
          message,
          sealwatch: { details },
        },
        deps.now,
      ),
    );
  const counters = { sent: 0, retried: 0, dropped: 0, truncated: 0, tooLarge: 0 };
  if (spool !== undefined && spool.lost.regions > 0) {
    // Each damaged stretch held at least one record; the records around it are kept and replayed.
    counters.dropped += spool.lost.regions;
    const { regions, bytes } = spool.lost;
    log.warn('spool damaged: skipped corrupted records, kept the rest', { regions, bytes });
    // After the dispatcher is built: the notice goes to every output like any event.
    setImmediate(() =>
      notice(
        SPOOL_DAMAGED_ACTION,
        `output ${spec.name}: its disk spool was damaged; ${regions} corrupted stretch${regions === 1 ? '' : 'es'} (${bytes} bytes, at least ${regions} event${regions === 1 ? '' : 's'}) skipped, the other spooled events kept`,
        { 'spool.damaged_regions': regions, 'spool.damaged_bytes': bytes },
      ),
    );
  }
  let memory: Item[] = [];
  let resend: Buffer[] = [];
  let down = false;
  let closed = false;
  let pumping: Promise<void> | undefined;
  let attempt = 0;
  let lastError: string | undefined;
  let wake: (() => void) | undefined;
  let syncScheduled = false;
  let checkpointTimer: NodeJS.Timeout | undefined;

  const spoolActive = (): boolean => spool !== undefined && (down || spool.pendingRecords > 0);

  const scheduleSync = (): void => {
    if (syncScheduled || spool === undefined) return;
    syncScheduled = true;
    setImmediate(() => {
      syncScheduled = false;
      try {
        spool.sync();
        reportDrops(spool.enforceCap());
      } catch (error) {
        log.error('spool write failed', { error: String(error) });
      }
    });
  };

  /**
   * Drops are counted at once and announced at most once a second, in one `sealwatch.events.dropped`
   * event with the counts since the last one. The notice bypasses the memory bound (so announcing a
   * drop never causes another one); at one a second it cannot grow the queue meaningfully.
   */
  let unannounced: DropCounts = {};
  let lastNotice = 0;
  let noticeTimer: NodeJS.Timeout | undefined;
  const announceDrops = (): void => {
    noticeTimer = undefined;
    const counts = unannounced;
    unannounced = {};
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    lastNotice = Date.now();
    log.warn('output queue full: dropped events', { counts });
    notice(
      DROPPED_ACTION,
      `output ${spec.name} dropped ${total} events (${SEVERITY_LABELS.filter((l) => counts[l])
        .map((l) => `${l}: ${counts[l]}`)
        .join(', ')}) because its queue was full`,
      Object.fromEntries(
        SEVERITY_LABELS.filter((l) => counts[l] !== undefined).map((l) => [`dropped.${l}`, counts[l]!]),
      ),
    );
  };
  const reportDrops = (counts: DropCounts): void => {
    let total = 0;
    for (const label of SEVERITY_LABELS) {
      const n = counts[label] ?? 0;
      if (n === 0) continue;
      unannounced[label] = (unannounced[label] ?? 0) + n;
      total += n;
    }
    if (total === 0) return;
    counters.dropped += total;
    if (noticeTimer === undefined && !closed) {
      noticeTimer = setTimeout(announceDrops, Math.max(0, lastNotice + 1000 - Date.now()));
      noticeTimer.unref();
    }
  };

  /** Without a spool: drop the oldest event of the lowest band present to make room. */
  const makeRoomInMemory = (): void => {
    const counts: DropCounts = {};
    while (memory.length >= maxQueue) {
      let victim = -1;
      for (const band of SEVERITY_LABELS) {
        victim = memory.findIndex((m) => severityLabel(m.severity) === band);
        if (victim >= 0) break;
      }
      const [gone] = memory.splice(Math.max(0, victim), 1);
      const band = severityLabel(gone!.severity);
      counts[band] = (counts[band] ?? 0) + 1;
    }
    reportDrops(counts);
  };

  const spillMemory = (): void => {
    if (spool === undefined || memory.length === 0) return;
    for (const m of memory) spool.append(m.severity, m.payload);
    memory = [];
    scheduleSync();
  };

  const enqueue = (event: Event, unbounded = false): void => {
    let payload: Buffer;
    try {
      const fitted = render(event);
      if (fitted.truncated) counters.truncated++;
      if (fitted.tooLarge) {
        counters.dropped++;
        counters.tooLarge++;
        log.warn('event too large for this output even shortened; dropped', {
          run_id: event.sealwatch.run_id,
          seq: event.sealwatch.seq,
        });
        return;
      }
      payload = Buffer.from(fitted.message, 'utf8');
    } catch (error) {
      counters.dropped++;
      log.warn('could not render an event', { error: String(error) });
      return;
    }
    const item = { severity: event.event.severity, payload };
    if (spoolActive()) {
      spool!.append(item.severity, item.payload);
      scheduleSync();
    } else {
      if (memory.length >= maxQueue && !unbounded) {
        if (spool !== undefined) {
          spillMemory();
          spool.append(item.severity, item.payload);
          scheduleSync();
          kick();
          return;
        }
        makeRoomInMemory();
      }
      memory.push(item);
    }
    kick();
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  const nextBatch = (): { messages: Buffer[]; fromSpool: SpoolRecord[]; fromMemory: Item[] } => {
    if (resend.length > 0) {
      const messages = resend.splice(0, batchSize);
      return { messages, fromSpool: [], fromMemory: [] };
    }
    if (spool !== undefined && spool.pendingRecords > 0) {
      const records = spool.read(batchSize);
      if (records.length > 0) return { messages: records.map((r) => r.payload), fromSpool: records, fromMemory: [] };
    }
    const items = memory.splice(0, batchSize);
    return { messages: items.map((i) => i.payload), fromSpool: [], fromMemory: items };
  };

  /**
   * A receiver that closes the connection on one message (syslog-ng does for a frame over its
   * log-msg-size) would otherwise get the resend window again and again, and nothing behind that
   * message would ever arrive. When the connection broke twice in a row with the same message over
   * SUSPECT_BYTES as the largest one waiting to be resent, that message is dropped, counted and
   * announced (sealwatch.events.rejected); the others go on. Resent copies stay at-least-once.
   */
  let suspect: { message: Buffer; strikes: number } | undefined;
  const isolateRejected = (): void => {
    let largest: Buffer | undefined;
    for (const m of resend)
      if (m.length > SUSPECT_BYTES && (largest === undefined || m.length > largest.length)) largest = m;
    if (largest === undefined) {
      suspect = undefined;
      return;
    }
    suspect =
      suspect?.message === largest
        ? { message: largest, strikes: suspect.strikes + 1 }
        : { message: largest, strikes: 1 };
    if (suspect.strikes < 2) return;
    const rejected = largest;
    resend = resend.filter((m) => m !== rejected);
    suspect = undefined;
    attempt = 0;
    counters.dropped++;
    log.warn('the receiver keeps closing the connection on one message; dropped it', { bytes: rejected.length });
    setImmediate(() =>
      notice(
        REJECTED_ACTION,
        `output ${spec.name}: the receiver closed the connection twice on a message of ${rejected.length} bytes; it was dropped so the events behind it are delivered (set max-bytes= to what the receiver accepts)`,
        { 'rejected.bytes': rejected.length },
      ),
    );
  };

  const pump = async (): Promise<void> => {
    for (;;) {
      const batch = nextBatch();
      if (batch.messages.length === 0) return;
      try {
        await transport.send(batch.messages);
        counters.sent += batch.messages.length;
        if (spool !== undefined && batch.fromSpool.length > 0) spool.ack(batch.fromSpool);
        if (down) log.info('output delivers again', { spooled: spool?.pendingRecords ?? 0 });
        down = false;
        lastError = undefined;
        attempt = 0;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        if (!down) log.warn('output unreachable; spooling and retrying', { error: lastError });
        down = true;
        counters.retried += batch.messages.length;
        const unconfirmed = transport.takeUnconfirmed();
        if (batch.fromSpool.length === 0 && batch.fromMemory.length === 0) {
          resend = [...unconfirmed, ...batch.messages, ...resend];
        } else {
          resend = unconfirmed;
        }
        isolateRejected();
        if (batch.fromSpool.length > 0) spool!.rewind();
        if (batch.fromMemory.length > 0) {
          if (spool !== undefined) {
            memory = [...batch.fromMemory, ...memory];
            spillMemory();
          } else {
            memory = [...batch.fromMemory, ...memory];
          }
        } else {
          spillMemory();
        }
        if (closed) return;
        const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
        attempt++;
        await sleep(backoff.initialMs / 2 + Math.random() * ceiling);
      }
    }
  };

  // A connection that breaks while nothing is being sent: resend its window now, not with the next event.
  transport.onBreak?.(() => {
    if (pumping !== undefined || closed) return;
    const unconfirmed = transport.takeUnconfirmed();
    if (unconfirmed.length === 0) return;
    resend = [...unconfirmed, ...resend];
    down = true;
    isolateRejected();
    kick();
  });

  function kick(): void {
    if (pumping !== undefined || closed) return;
    pumping = pump()
      .catch((error: unknown) => log.error('output pump failed', { error: String(error) }))
      .finally(() => {
        pumping = undefined;
        if (!closed && (memory.length > 0 || (spool !== undefined && spool.pendingRecords > 0 && !down))) kick();
      });
  }

  if (spool !== undefined) {
    checkpointTimer = setInterval(() => {
      try {
        spool.checkpoint();
      } catch (error) {
        log.warn('spool checkpoint failed', { error: String(error) });
      }
      // A spool replay pending while idle (e.g. after backoff) gets a kick.
      if (spool.pendingRecords > 0) kick();
    }, 200);
    checkpointTimer.unref();
    if (spool.pendingRecords > 0) kick();
  }

  const idle = (): boolean =>
    memory.length === 0 &&
    resend.length === 0 &&
    (spool === undefined || spool.pendingRecords === 0) &&
    pumping === undefined;

  return {
    name: spec.name,
    spool,
    send(event: Event) {
      if (closed) {
        counters.dropped++;
        return;
      }
      // A drop notice bypasses the memory bound, so announcing a drop never causes another one.
      enqueue(event, event.event.action === DROPPED_ACTION);
    },
    async flush() {
      // Delivered, or (when the output is down) safely in the spool, or waiting in memory without one.
      for (;;) {
        if (idle()) break;
        // Down without a spool: the events wait in memory; nothing more to wait for.
        if (down && spool === undefined) break;
        if (down && spool !== undefined) {
          spillMemory();
          spool.sync();
          reportDrops(spool.enforceCap());
          spool.sync({ fsync: true });
          spool.checkpoint();
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close(closeOptions) {
      if (closed) return;
      if (noticeTimer !== undefined) {
        clearTimeout(noticeTimer);
        announceDrops();
      }
      const deadline = Date.now() + (closeOptions?.timeoutMs ?? options.closeTimeoutMs ?? 5000);
      while (!idle() && Date.now() < deadline) {
        wake?.();
        await new Promise((r) => setTimeout(r, 10));
      }
      closed = true;
      wake?.();
      await pumping;
      if (spool !== undefined) {
        for (const m of resend) spool.append(10, m);
        resend = [];
        spillMemory();
        spool.close();
        if (checkpointTimer !== undefined) clearInterval(checkpointTimer);
      } else if (memory.length + resend.length > 0) {
        counters.dropped += memory.length + resend.length;
        log.warn('output closed with undelivered events and no spool', { events: memory.length + resend.length });
      }
      await transport.close(closeOptions?.timeoutMs);
    },
    stats(): SinkStats {
      return {
        name: spec.name,
        sent: counters.sent,
        retried: counters.retried,
        dropped: counters.dropped,
        queued: memory.length + resend.length,
        spoolBytes: spool?.pendingBytes ?? 0,
        truncated: transport.truncated + counters.truncated,
        connected: transport.connected && !down,
        ...(lastError === undefined ? {} : { lastError }),
      };
    },
  };
}
