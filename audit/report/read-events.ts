import { createReadStream, statSync, openSync, readSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConfigError, errnoCode } from '../../shared/errors/index.ts';
import { Event } from '../../shared/events/index.ts';

/** What one input file held: every line is either an event or a bad line (skipped and counted). */
export interface InputStats {
  file: string;
  gzip: boolean;
  lines: number;
  events: number;
  badLines: number;
  /** The first few bad line numbers (1-based), so a reader can look at them. */
  firstBadLines: number[];
}

export interface ReadEvent {
  event: Event;
  /** `@timestamp` as epoch milliseconds. */
  ms: number;
  fileIndex: number;
  line: number;
}

const MAX_BAD_LINES_LISTED = 10;
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

/** Parses one JSONL line into an event; undefined for a bad line (not JSON, not an event, bad time). */
export function parseEventLine(line: string): { event: Event; ms: number } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = Event.safeParse(raw);
  if (!parsed.success) return undefined;
  const ms = Date.parse(parsed.data['@timestamp']);
  if (Number.isNaN(ms)) return undefined;
  return { event: parsed.data, ms };
}

export interface ReadProgress {
  file: string;
  bytesRead: number;
  bytesTotal: number;
  events: number;
}

/**
 * Streams the events of JSONL files (plain or gzip) line by line: memory does not grow with the
 * file. A line that is not an event is skipped and counted in `stats`, never fatal; empty lines are
 * ignored. Files are read in the order given.
 */
export async function* readEvents(
  files: readonly { path: string; source: string }[],
  stats: InputStats[],
  onProgress?: (progress: ReadProgress) => void,
): AsyncGenerator<ReadEvent> {
  const opened = files.map((f) => ({ ...f, ...openInput(f.path, f.source) }));
  for (const [fileIndex, file] of opened.entries()) {
    const stat: InputStats = {
      file: file.source,
      gzip: file.gzip,
      lines: 0,
      events: 0,
      badLines: 0,
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
      const gunzip = createGunzip();
      raw.on('error', (error) => gunzip.destroy(error));
      input = raw.pipe(gunzip);
    }
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        stat.lines++;
        if (line.trim() === '') continue;
        const parsed = parseEventLine(line);
        if (!parsed) {
          stat.badLines++;
          if (stat.firstBadLines.length < MAX_BAD_LINES_LISTED) stat.firstBadLines.push(stat.lines);
          continue;
        }
        stat.events++;
        if (onProgress && (stat.events & 0x3fff) === 0) {
          onProgress({ file: file.source, bytesRead, bytesTotal: file.size, events: stat.events });
        }
        yield { event: parsed.event, ms: parsed.ms, fileIndex, line: stat.lines };
      }
    } catch (error) {
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
