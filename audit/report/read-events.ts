import { createReadStream, statSync, openSync, readSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ConfigError, errnoCode } from '../../shared/errors/index.ts';
import type { Event } from '../../shared/events/index.ts';
import { forEachLine, splitBlocks, type ReadInto } from '../../shared/text/index.ts';
import { createEventCheck, type EventCheck } from './event-check.ts';

/** Why a line was skipped. */
export const BAD_LINE_REASONS = ['too-long', 'not-json', 'not-event', 'bad-time'] as const;
export type BadLineReason = (typeof BAD_LINE_REASONS)[number];

/**
 * The longest line read as an event. The watcher's events are a few KB; a longer line is skipped
 * and counted without ever being held whole (a 1 GB line is read past, not into memory).
 */
export const MAX_LINE_BYTES = 1 << 20;

/** Bytes asked of each read of an input file: a block of lines is about this size. */
const READ_BYTES = 1 << 20;

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
  check: EventCheck,
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

/** What a line is: an event, a bad line (why), or nothing (an empty line). */
export type LineOutcome = { event: Event; ms: number } | { bad: BadLineReason } | undefined;

/** Classifies one line; `seen` gets every JSON value, before the schema. */
export function classifyLine(line: string | undefined, check: EventCheck, seen?: (raw: unknown) => void): LineOutcome {
  if (line === undefined) return { bad: 'too-long' };
  if (line.length === 0 || (line.length < 3 && line.trim() === '')) return undefined;
  const parsed = parseEventLine(line, check, seen);
  if ('bad' in parsed && parsed.bad === 'not-json' && line.trim() === '') return undefined;
  return parsed;
}

/** Counts one bad line (1-based line number) in a file's stats. */
export function countBadLine(stat: InputStats, reason: BadLineReason, line: number): void {
  stat.badLines++;
  stat.badReasons[reason] = (stat.badReasons[reason] ?? 0) + 1;
  if (stat.firstBadLines.length < MAX_BAD_LINES_LISTED) stat.firstBadLines.push(line);
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

/** One input file being read: where its stats go, and its place in the order of files. */
export interface OpenInput {
  fileIndex: number;
  source: string;
  stat: InputStats;
}

/**
 * Streams JSONL files (plain or gzip) as blocks of whole lines (see splitBlocks), in the order given:
 * memory does not grow with the file, and no line is ever held longer than `maxLineBytes`. A plain
 * file is read straight into each block's buffer (from `newBuffer` when given: the consumer owns each
 * block's memory). A failure of the input (a read error, a corrupt gzip) becomes one ConfigError
 * naming the file; an error thrown by `onBlock` passes as it is.
 */
export async function readBlocks(
  files: readonly { path: string; source: string }[],
  stats: InputStats[],
  onBlock: (input: OpenInput, block: Buffer | undefined) => void | Promise<void>,
  onProgress?: (progress: ReadProgress) => void,
  maxLineBytes = MAX_LINE_BYTES,
  newBuffer?: (size: number) => Buffer,
): Promise<void> {
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
    const input: OpenInput = { fileIndex, source: file.source, stat };
    let bytesRead = 0;
    let close: (() => unknown) | undefined;
    let consumerFailed = false;
    try {
      let source: AsyncIterable<Buffer> | ReadInto;
      if (file.gzip) {
        const raw = createReadStream(file.path, { highWaterMark: READ_BYTES });
        close = () => raw.destroy();
        raw.on('data', (chunk) => {
          bytesRead += chunk.length;
        });
        const gunzip = createGunzip({ chunkSize: 1 << 18 });
        raw.on('error', (error) => gunzip.destroy(error));
        source = raw.pipe(gunzip);
      } else {
        const handle = await open(file.path, 'r');
        close = () => handle.close();
        source = async (buffer, offset, length) => {
          const { bytesRead: n } = await handle.read(buffer, offset, length, null);
          bytesRead += n;
          return n;
        };
      }
      const options = newBuffer ? { readBytes: READ_BYTES, newBuffer } : { readBytes: READ_BYTES };
      await splitBlocks(
        source,
        maxLineBytes,
        async (block) => {
          try {
            await onBlock(input, block);
          } catch (error) {
            consumerFailed = true;
            throw error;
          }
          onProgress?.({ file: file.source, bytesRead, bytesTotal: file.size, events: stat.events });
        },
        options,
      );
    } catch (error) {
      if (consumerFailed) throw error;
      throw new ConfigError(
        'UNREADABLE',
        `--events ${file.source}: cannot read past line ${stat.lines} (${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    } finally {
      await close?.();
    }
    onProgress?.({ file: file.source, bytesRead: file.size, bytesTotal: file.size, events: stat.events });
  }
}

/**
 * Streams the events of JSONL files to `onEvent`, one at a time as they are read, in this thread. A
 * line that is not an event is skipped and counted in `stats` by reason, never fatal; empty lines
 * are ignored. `observer` sees every line too (the event record's verifier).
 */
export async function readEvents(
  files: readonly { path: string; source: string }[],
  stats: InputStats[],
  onEvent: (item: ReadEvent) => void,
  onProgress?: (progress: ReadProgress) => void,
  observer?: LineObserver,
  checkFile?: string,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<void> {
  const check = await createEventCheck(checkFile);
  await readBlocks(
    files,
    stats,
    ({ fileIndex, source, stat }, block) => {
      const seen = observer && ((raw: unknown): void => observer.add(raw, { file: source, line: stat.lines }));
      const onLine = (line: string | undefined): void => {
        stat.lines++;
        const outcome = classifyLine(line, check, seen);
        if (outcome === undefined) return;
        if ('bad' in outcome) {
          if (outcome.bad === 'too-long' || outcome.bad === 'not-json')
            observer?.addBad({ file: source, line: stat.lines });
          countBadLine(stat, outcome.bad, stat.lines);
          return;
        }
        stat.events++;
        onEvent({ event: outcome.event, ms: outcome.ms, fileIndex, line: stat.lines });
      };
      if (block === undefined) onLine(undefined);
      else forEachLine(block, maxLineBytes, onLine);
    },
    onProgress,
    maxLineBytes,
  );
}
