import type { Event } from '../events/index.ts';

/**
 * The contract between event producers (the watcher, the seal step, send-test) and the outputs.
 * Producers only ever see a Dispatcher; sinks (one per --output URL) sit behind it.
 */
export interface SinkStats {
  /** The output's name: its URL without secrets. */
  name: string;
  sent: number;
  retried: number;
  dropped: number;
  /** Events waiting in memory. */
  queued: number;
  /** Bytes waiting in the disk spool. */
  spoolBytes: number;
  /** Messages shortened to fit a transport limit (UDP datagram, RFC 3164). */
  truncated: number;
  connected: boolean;
}

export interface Sink {
  readonly name: string;
  /** Takes the event (already filtered by min-severity); never throws, never blocks the caller. */
  send(event: Event): void;
  /** Resolves when everything accepted so far has been delivered or spooled to disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
}

export interface Dispatcher {
  /** Stamps `sealwatch.run_id` and `sealwatch.seq`, then hands the event to every sink whose min-severity admits it. */
  dispatch(event: Event): Event;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats[];
}
