import type { Event } from '../../shared/events/index.ts';

/**
 * Repeated identical alerts (same rule, program, executable, arguments, user, destination) are
 * sent once; repeats within `windowMs` are counted, and when the window ends one summary event
 * carries `sealwatch.count`, `first_seen` and `last_seen`. A loop cannot flood the SIEM.
 */
export interface Aggregator {
  /** true: send this alert now; false: it was counted into an open window. */
  admit(alert: Event, nowMs: number): boolean;
  /** Summary events for windows that ended (count > 1), or all open windows when `all`. */
  drain(nowMs: number, all?: boolean): Event[];
  readonly open: number;
}

interface Window {
  first: Event;
  count: number;
  firstSeen: string;
  lastSeen: string;
  startedMs: number;
}

export function alertKey(e: Event): string {
  return JSON.stringify([
    e.rule?.id,
    e.sealwatch.outcome,
    e.process?.name,
    e.process?.executable,
    e.process?.args,
    e.process?.user?.id,
    e.destination?.ip,
    e.destination?.port,
    e.source?.port,
    e.file?.path,
  ]);
}

export function createAggregator(options: { windowMs?: number; maxOpen?: number } = {}): Aggregator {
  const windowMs = options.windowMs ?? 60_000;
  const maxOpen = options.maxOpen ?? 10_000;
  const windows = new Map<string, Window>();
  const summary = (w: Window): Event => ({
    ...w.first,
    message: `${w.first.message} (repeated ${w.count} times between ${w.firstSeen} and ${w.lastSeen})`,
    '@timestamp': w.lastSeen,
    event: { ...w.first.event, id: `${w.first.event.id}-x${w.count}` },
    sealwatch: { ...w.first.sealwatch, count: w.count, first_seen: w.firstSeen, last_seen: w.lastSeen },
  });
  return {
    get open() {
      return windows.size;
    },
    admit(alert, nowMs) {
      const key = alertKey(alert);
      const w = windows.get(key);
      if (w && nowMs - w.startedMs < windowMs) {
        w.count++;
        w.lastSeen = alert['@timestamp'];
        return false;
      }
      if (windows.size >= maxOpen) {
        // bounded memory: the oldest window is closed early (its summary is lost, its first alert was sent)
        windows.delete(windows.keys().next().value as string);
      }
      windows.set(key, {
        first: alert,
        count: 1,
        firstSeen: alert['@timestamp'],
        lastSeen: alert['@timestamp'],
        startedMs: nowMs,
      });
      return true;
    },
    drain(nowMs, all = false) {
      const out: Event[] = [];
      for (const [key, w] of windows) {
        if (!all && nowMs - w.startedMs < windowMs) continue;
        windows.delete(key);
        if (w.count > 1) out.push(summary(w));
      }
      return out;
    },
  };
}
