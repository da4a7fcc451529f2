import { createReadStream, statSync, openSync, readSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConfigError, errnoCode } from '../../shared/errors/index.ts';
import type { Event } from '../../shared/events/index.ts';
import { createEventCheck, type EventCheck } from './event-check.ts';

/** Why a line was skipped. */
export const BAD_LINE_REASONS = ['too-long', 'not-json', 'not-event', 'bad-time'] as const;
export type BadLineReason = (typeof BAD_LINE_REASONS)[number];

/**
 * The longest line read as an event. The watcher's events are a few KB; a longer line is skipped
 * and counted without ever being held whole (a 1 GB line is read past, not into memory).
 */
export const MAX_LINE_BYTES = 1 << 20;

export const BAD_LINE_TEXT: Record<BadLineReason, string> = {
  'too-long': `longer than ${MAX_LINE_BYTES / (1 << 20)} MiB`,
  'not-json': 'not JSON',
  'not-event': 'not an event',
  'bad-time': 'bad @timestamp',
};

/** What one input file held: every line is either an event or a bad line (skipped and counted). */
export interface InputStats {
  file: string;
  gzip: boolean;
  lines: number;
  events: number;
  badLines: number;
  /** Bad lines by reason (only reasons that occurred). */
  badReasons: Partial<Record<BadLineReason, number>>;
  /** The first few bad line numbers (1-based), so a reader can look at them. */
  firstBadLines: number[];
}

export interface ReadEvent {
  /** The parsed line itself, checked against the event schema (fields unknown to it are kept). */
  event: Event;
  /** `@timestamp` as epoch milliseconds. */
  ms: number;
  fileIndex: number;
  line: number;
}

const MAX_BAD_LINES_LISTED = 10;

/** "3 bad line(s) skipped: 2 not JSON, 1 longer than 1 MiB (line 2, 3, 9)": how many, why, where. */
export function describeBadLines(input: InputStats): string {
  const why = BAD_LINE_REASONS.filter((r) => input.badReasons[r] !== undefined)
    .map((r) => `${input.badReasons[r]} ${BAD_LINE_TEXT[r]}`)
    .join(', ');
  const more = input.badLines > input.firstBadLines.length ? ', …' : '';
  return `${input.badLines} bad line(s) skipped: ${why} (line ${input.firstBadLines.join(', ')}${more})`;
}

/** The same over every input, for one line on stderr; undefined when no line was skipped. */
export function describeAllBadLines(inputs: readonly InputStats[]): string | undefined {
  const total = inputs.reduce((n, i) => n + i.badLines, 0);
  if (total === 0) return undefined;
  const why = BAD_LINE_REASONS.map((r) => [r, inputs.reduce((n, i) => n + (i.badReasons[r] ?? 0), 0)] as const)
    .filter(([, count]) => count > 0)
    .map(([r, count]) => `${count} ${BAD_LINE_TEXT[r]}`)
    .join(', ');
  return `${total} bad line(s) skipped: ${why}`;
}
const GZIP_MAGIC = [0x1f, 0x8b];
const NEWLINE = 0x0a;

/** gzip is detected by its magic bytes, not by the file name. */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    closeSync(fd);
  }
}

function openInput(path: string, source: string): { size: number; gzip: boolean } {
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new ConfigError('UNREADABLE', `--events ${source}: is a directory, not a file`);
    return { size: stat.size, gzip: isGzipFile(path) };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new ConfigError('NOT_FOUND', `--events ${source}: no such file`, { cause: error });
    throw new ConfigError('UNREADABLE', `--events ${source}: cannot read (${code ?? String(error)})`, { cause: error });
  }
}

/** Parses one JSONL line into an event, or says why it is not one; `seen` gets every JSON value. */
export function parseEventLine(
  line: string,
  check: EventCheck = defaultCheck(),
  seen?: (raw: unknown) => void,
): { event: Event; ms: number } | { bad: BadLineReason } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { bad: 'not-json' };
  }
  seen?.(raw);
  if (!check(raw)) return { bad: 'not-event' };
  const ms = Date.parse(raw['@timestamp']);
  if (Number.isNaN(ms)) return { bad: 'bad-time' };
  return { event: raw, ms };
}

let sharedCheck: EventCheck | undefined;
function defaultCheck(): EventCheck {
  sharedCheck ??= createEventCheck();
  return sharedCheck;
}

/**
 * Splits a byte stream into lines (LF; a CR before it is JSON whitespace) and hands each to `onLine`
 * as it is found, so nothing outlives its line. A line longer than `maxBytes` is dropped as it
 * streams past: `onLine(undefined)` stands for it.
 */
async function splitLines(
  input: AsyncIterable<Buffer>,
  maxBytes: number,
  onLine: (line: string | undefined) => void,
  afterChunk: () => void,
): Promise<void> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflow = false;
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        if (!overflow && start < chunk.length) {
          pendingBytes += chunk.length - start;
          if (pendingBytes > maxBytes) {
            overflow = true;
            pending = [];
          } else pending.push(chunk.subarray(start));
        }
        break;
      }
      if (overflow || pendingBytes + end - start > maxBytes) onLine(undefined);
      else if (pendingBytes > 0) onLine(Buffer.concat([...pending, chunk.subarray(start, end)]).toString('utf8'));
      else onLine(chunk.toString('utf8', start, end));
      overflow = false;
      pending = [];
      pendingBytes = 0;
      start = end + 1;
    }
    afterChunk();
  }
  if (overflow) onLine(undefined);
  else if (pendingBytes > 0) onLine(Buffer.concat(pending).toString('utf8'));
}

/** Also sees every line as read, before any schema (the event record's verifier: it hashes each line's content). */
export interface LineObserver {
  add(raw: unknown, at: { file: string; line: number }): void;
  /** A line that is not JSON (or too long to read). */
  addBad(at: { file: string; line: number }): void;
}

export interface ReadProgress {
  file: string;
  bytesRead: number;
  bytesTotal: number;
  events: number;
}

/**
 * Streams the events of JSONL files (plain or gzip) to `onEvent`, one at a time as they are read:
 * memory does not grow with the file, and no line is ever held longer than MAX_LINE_BYTES. A line
 * that is not an event is skipped and counted in `stats` by reason, never fatal; empty lines are
 * ignored. Files are read in the order given.
 */
export async function readEvents(
  files: readonly { path: string; source: string }[],
  stats: InputStats[],
  onEvent: (item: ReadEvent) => void,
  onProgress?: (progress: ReadProgress) => void,
  observer?: LineObserver,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<void> {
  const check = defaultCheck();
  const opened = files.map((f) => ({ ...f, ...openInput(f.path, f.source) }));
  for (const [fileIndex, file] of opened.entries()) {
    const stat: InputStats = {
      file: file.source,
      gzip: file.gzip,
      lines: 0,
      events: 0,
      badLines: 0,
      badReasons: {},
      firstBadLines: [],
    };
    stats.push(stat);
    const raw = createReadStream(file.path, { highWaterMark: 1 << 20 });
    let bytesRead = 0;
    raw.on('data', (chunk) => {
      bytesRead += chunk.length;
    });
    let input: Readable = raw;
    if (file.gzip) {
      const gunzip = createGunzip({ chunkSize: 1 << 18 });
      raw.on('error', (error) => gunzip.destroy(error));
      input = raw.pipe(gunzip);
    }
    const bad = (reason: BadLineReason): void => {
      stat.badLines++;
      stat.badReasons[reason] = (stat.badReasons[reason] ?? 0) + 1;
      if (stat.firstBadLines.length < MAX_BAD_LINES_LISTED) stat.firstBadLines.push(stat.lines);
    };
    // Only a failure of the input (a read error, corrupt gzip) is "cannot read"; the caller's own errors pass.
    let consumerFailed = false;
    const seen = observer && ((raw: unknown): void => observer.add(raw, { file: file.source, line: stat.lines }));
    const onLine = (line: string | undefined): void => {
      stat.lines++;
      if (line === undefined) {
        observer?.addBad({ file: file.source, line: stat.lines });
        return bad('too-long');
      }
      if (line.length === 0 || (line.length < 3 && line.trim() === '')) return;
      const parsed = parseEventLine(line, check, seen);
      if ('bad' in parsed) {
        if (parsed.bad !== 'not-json' || line.trim() !== '') {
          if (parsed.bad === 'not-json') observer?.addBad({ file: file.source, line: stat.lines });
          bad(parsed.bad);
        }
        return;
      }
      stat.events++;
      try {
        onEvent({ event: parsed.event, ms: parsed.ms, fileIndex, line: stat.lines });
      } catch (error) {
        consumerFailed = true;
        throw error;
      }
    };
    const afterChunk = (): void =>
      onProgress?.({ file: file.source, bytesRead, bytesTotal: file.size, events: stat.events });
    try {
      await splitLines(input as AsyncIterable<Buffer>, maxLineBytes, onLine, afterChunk);
    } catch (error) {
      if (consumerFailed) throw error;
      throw new ConfigError(
        'UNREADABLE',
        `--events ${file.source}: cannot read past line ${stat.lines} (${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    } finally {
      raw.destroy();
    }
    onProgress?.({ file: file.source, bytesRead: file.size, bytesTotal: file.size, events: stat.events });
  }
}
