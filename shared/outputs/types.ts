import type { Event } from '../events/index.ts';
import type { Logger } from '../logging/index.ts';
import type { RecordOptions } from '../record/index.ts';
import type { OutputSpec } from './url.ts';

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
  /** The last delivery error, when the output is failing (no secrets: transport messages only). */
  lastError?: string;
}

export interface Sink {
  readonly name: string;
  /** Takes the event (already filtered by min-severity); never throws, never blocks the caller. */
  send(event: Event): void;
  /** Resolves when everything accepted so far has been delivered or spooled to disk. */
  flush(): Promise<void>;
  /** Delivers what it can within `timeoutMs` (default: the sink's own, 5 s), spools the rest, stops. */
  close(options?: CloseOptions): Promise<void>;
  stats(): SinkStats;
}

export interface CloseOptions {
  timeoutMs?: number;
}

export interface Dispatcher {
  /** Stamps `sealwatch.run_id` and `sealwatch.seq`, then hands the event to every sink whose min-severity admits it. */
  dispatch(event: Event): Event;
  flush(): Promise<void>;
  close(options?: CloseOptions): Promise<void>;
  stats(): SinkStats[];
}

/** What the composition root hands to createDispatcher; everything but the logger has a default. */
export interface DispatcherDeps {
  logger: Logger;
  /** Root folder for the per-sink disk spools; without it, network sinks keep only the in-memory queue. */
  spoolDir?: string;
  /** Id of this producing run (default: a random UUID); with seq, the SIEM's de-duplication key. */
  runId?: string;
  /** sealwatch version, written into CEF/LEEF headers and `sealwatch.version`. */
  version?: string;
  now?: () => Date;
  /** Where `stdout://` writes (default process.stdout; passed in so tests and the CLI choose). */
  stdout?: NodeJS.WritableStream;
  /** Environment for `token-env=` lookups (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Host name for syslog headers (default os.hostname()). */
  hostname?: string;
  /** How long a connection (TCP connect + TLS handshake, or an HTTP request) may take; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * The tamper-evident event record (hash chain + signed checkpoints, shared/record): off without a key.
   * Its head is kept in `stateFile`, by default `record-head.json` in `spoolDir`.
   */
  record?: RecordOptions;
}

/** What a sink factory gets: the dispatcher's deps plus a way to emit its own notices (e.g. drops). */
export interface SinkDeps extends Required<
  Pick<DispatcherDeps, 'logger' | 'version' | 'now' | 'hostname' | 'connectTimeoutMs'>
> {
  spoolDir?: string;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /**
   * Dispatches an event the sink makes itself, such as `sealwatch.events.dropped`, to every output:
   * stamped, chained and fanned out like any other, so every copy of the record stays complete.
   */
  emit(event: Event): void;
}

export type SinkFactory<S extends OutputSpec = OutputSpec> = (spec: S, deps: SinkDeps) => Sink;

/** Renders one event as one message (no framing); pure. */
export interface FormatOptions {
  /** Product version for CEF/LEEF headers. */
  version: string;
  /** LEEF 2.0 attribute delimiter (one character; default tab). */
  leefDelimiter?: string;
  /** Syslog HOSTNAME for `format=rfc5424` (the machine running sealwatch). */
  hostname?: string;
  /** Syslog facility (0–23) for `format=rfc5424`; default 16 (local0). */
  facility?: number;
}
export type Formatter = (event: Event, options: FormatOptions) => string;
