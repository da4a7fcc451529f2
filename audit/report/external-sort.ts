import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Sorts a stream of rendered events too large for memory, in one read, with memory bounded whatever
 * the input size. Event files are nearly in time order (a writer emits in time order, a merge of
 * several writers interleaves closely), so the sorter is built for that case and correct for any:
 * - records pass through a reorder window (the last `windowSize` records, in time order), which puts
 *   a nearly ordered stream back in order at the cost of a compare or two per record;
 * - each record leaving the window is appended to its group's run file when it does not go before
 *   that run's last record (one run per group, up to MAX_RUNS groups): an ordered input is written
 *   once, in runs, and read back as bytes without being decoded or compared again;
 * - the others (stragglers) are buffered, sorted and spilled as chunks of `chunkSize`, and then
 *   everything is merged with a min-heap.
 * Nothing touches the disk while everything fits in one chunk. The sort key is (group, time, rank,
 * id, file, line): total, so the output order is deterministic whatever the input order.
 */
export interface SortRecord {
  group: string;
  ms: number;
  /** Orders events of the same millisecond: an alert before the response to it. */
  rank: number;
  id: string;
  fileIndex: number;
  line: number;
  /** The event as the renderer wrote it. */
  text: string;
}

/** What `sorted()` yields: one object, reused; `text` is valid until the next item. */
export interface SortedText {
  group: string;
  text: string | Buffer;
}

type Key = Omit<SortRecord, 'text'>;

function compare(a: Key, b: Key): number {
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return compareTime(a, b);
}

/** The key without the group: the reorder window's order. */
function compareTime(a: Key, b: Key): number {
  if (a.ms !== b.ms) return a.ms - b.ms;
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  if (a.fileIndex !== b.fileIndex) return a.fileIndex - b.fileIndex;
  return a.line - b.line;
}

/**
 * A spilled record, little-endian: u32 size of what follows, f64 time, u32 rank, file, line, then the
 * UTF-8 byte lengths of group, id and text (u32 each), then the three strings' bytes.
 */
const HEADER = 36;
const BLOCK = 1 << 18;

/** Appends records to one file through a 256 KiB buffer: each string is encoded once, into the buffer. */
class RecordWriter {
  private buffer = Buffer.allocUnsafe(BLOCK);
  private used = 0;

  constructor(private readonly fd: number) {}

  add(r: SortRecord): void {
    const bound = HEADER + 3 * (r.group.length + r.id.length + r.text.length);
    if (this.used + bound > this.buffer.length) {
      this.flush();
      if (bound > this.buffer.length) this.buffer = Buffer.allocUnsafe(bound);
    }
    const b = this.buffer;
    const at = this.used;
    let p = at + HEADER;
    const groupBytes = b.write(r.group, p);
    p += groupBytes;
    const idBytes = b.write(r.id, p);
    p += idBytes;
    const textBytes = b.write(r.text, p);
    p += textBytes;
    b.writeUInt32LE(p - at - 4, at);
    b.writeDoubleLE(r.ms, at + 4);
    b.writeUInt32LE(r.rank, at + 12);
    b.writeUInt32LE(r.fileIndex, at + 16);
    b.writeUInt32LE(r.line, at + 20);
    b.writeUInt32LE(groupBytes, at + 24);
    b.writeUInt32LE(idBytes, at + 28);
    b.writeUInt32LE(textBytes, at + 32);
    this.used = p;
  }

  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buffer, done, this.used - done);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Reads the records of one file in order; the current record's text is a view, valid until `next()`. */
class RecordReader implements Key {
  group = '';
  id = '';
  ms = 0;
  rank = 0;
  fileIndex = 0;
  line = 0;
  private buffer = Buffer.allocUnsafe(BLOCK);
  private start = 0;
  private end = 0;
  private textStart = 0;
  private textEnd = 0;
  private eof = false;
  private readonly fd: number;

  constructor(file: string) {
    this.fd = openSync(file, 'r');
  }

  /** Makes `n` bytes available from `start`; false at a clean end of the file. */
  private ensure(n: number): boolean {
    while (this.end - this.start < n) {
      if (this.eof) {
        if (this.end > this.start) throw new Error('audit report: a sorted temporary file ended inside a record');
        return false;
      }
      if (this.start > 0) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (n > this.buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.max(n, 2 * this.buffer.length));
        this.buffer.copy(bigger, 0, 0, this.end);
        this.buffer = bigger;
      }
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
      if (read === 0) this.eof = true;
      this.end += read;
    }
    return true;
  }

  /** Moves to the next record; `keys` decodes group and id (needed to merge, not to copy). */
  next(keys: boolean): boolean {
    if (!this.ensure(4)) return false;
    const size = this.buffer.readUInt32LE(this.start);
    if (!this.ensure(4 + size)) throw new Error('audit report: a sorted temporary file ended inside a record');
    const b = this.buffer;
    const at = this.start;
    this.ms = b.readDoubleLE(at + 4);
    this.rank = b.readUInt32LE(at + 12);
    this.fileIndex = b.readUInt32LE(at + 16);
    this.line = b.readUInt32LE(at + 20);
    const groupStart = at + HEADER;
    const idStart = groupStart + b.readUInt32LE(at + 24);
    this.textStart = idStart + b.readUInt32LE(at + 28);
    this.textEnd = this.textStart + b.readUInt32LE(at + 32);
    if (keys) {
      this.group = b.toString('utf8', groupStart, idStart);
      this.id = b.toString('utf8', idStart, this.textStart);
    }
    this.start = at + 4 + size;
    return true;
  }

  text(): Buffer {
    return this.buffer.subarray(this.textStart, this.textEnd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** One group's ordered run: records in memory until `flushAt`, then appended to its file. */
interface Run {
  group: string;
  last: SortRecord | undefined;
  pending: SortRecord[];
  file: string | undefined;
  writer: RecordWriter | undefined;
}

const MAX_RUNS = 64;
const WINDOW = 64;

export class ExternalSorter {
  private readonly window: SortRecord[] = [];
  private readonly runs = new Map<string, Run>();
  private stragglers: SortRecord[] = [];
  private readonly chunks: string[] = [];
  private dir: string | undefined;
  private files = 0;
  private readonly windowSize: number;
  private readonly flushAt: number;

  constructor(private readonly chunkSize = 20_000) {
    this.windowSize = Math.min(WINDOW, chunkSize);
    // Small: a record waits in memory only briefly (it survives no collection), then sits encoded in a buffer.
    this.flushAt = Math.min(32, chunkSize);
  }

  /**
   * The window is an array in key order. A record goes in by a short scan from the end (one step for
   * an ordered input); one that would go further back than the window's length is a straggler.
   */
  add(record: SortRecord): void {
    const window = this.window;
    let i = window.length;
    while (i > 0 && compareTime(record, window[i - 1]!) < 0) i--;
    if (i === 0 && window.length >= this.windowSize) {
      this.place(record);
      return;
    }
    if (i === window.length) window.push(record);
    else window.splice(i, 0, record);
    if (window.length > this.windowSize) this.place(window.shift()!);
  }

  private place(record: SortRecord): void {
    let run = this.runs.get(record.group);
    if (run === undefined && this.runs.size < MAX_RUNS) {
      run = { group: record.group, last: undefined, pending: [], file: undefined, writer: undefined };
      this.runs.set(record.group, run);
    }
    if (run !== undefined && (run.last === undefined || compare(record, run.last) >= 0)) {
      run.last = record;
      run.pending.push(record);
      if (run.pending.length >= this.flushAt) this.flushRun(run);
      return;
    }
    this.stragglers.push(record);
    if (this.stragglers.length >= this.chunkSize) this.spill();
  }

  private newFile(): { file: string; writer: RecordWriter } {
    this.dir ??= mkdtempSync(join(tmpdir(), 'sealwatch-audit-'));
    const file = join(this.dir, `sorted-${this.files++}`);
    return { file, writer: new RecordWriter(openSync(file, 'wx', 0o600)) };
  }

  private flushRun(run: Run): void {
    if (run.writer === undefined) ({ file: run.file, writer: run.writer } = this.newFile());
    for (const record of run.pending) run.writer.add(record);
    run.pending = [];
  }

  private spill(): void {
    const rows = this.stragglers.sort(compare);
    this.stragglers = [];
    const { file, writer } = this.newFile();
    for (const row of rows) writer.add(row);
    writer.close();
    this.chunks.push(file);
  }

  /** Yields every record's group and text in order; the sorter is spent afterwards. */
  *sorted(): Generator<SortedText> {
    const item: SortedText = { group: '', text: '' };
    const readers: RecordReader[] = [];
    try {
      for (const record of this.window) this.place(record);
      this.window.length = 0;
      const runs = [...this.runs.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
      if (this.dir === undefined) {
        // Everything is still in memory: one sort, no files.
        for (const r of [...this.stragglers, ...runs.flatMap((run) => run.pending)].sort(compare)) {
          item.group = r.group;
          item.text = r.text;
          yield item;
        }
        return;
      }
      for (const run of runs) {
        this.flushRun(run);
        run.writer!.close();
        run.writer = undefined;
      }
      if (this.stragglers.length > 0) this.spill();
      if (this.chunks.length === 0) {
        // Every record is in its group's run, in order: copy each run's texts, group after group.
        for (const run of runs) {
          const reader = new RecordReader(run.file!);
          readers.push(reader);
          item.group = run.group;
          while (reader.next(false)) {
            item.text = reader.text();
            yield item;
          }
        }
        return;
      }
      // A min-heap of the readers' current records: O(log k) per event whatever the number of files.
      const heap: RecordReader[] = [];
      for (const file of [...runs.map((r) => r.file!), ...this.chunks]) {
        const reader = new RecordReader(file);
        readers.push(reader);
        if (reader.next(true)) heapPush(heap, reader, compare);
      }
      while (heap.length > 0) {
        const top = heap[0]!;
        item.group = top.group;
        item.text = top.text();
        yield item;
        if (top.next(true)) siftDown(heap, 0, compare);
        else heapPop(heap, compare);
      }
    } finally {
      for (const reader of readers) reader.close();
      this.cleanup();
    }
  }

  cleanup(): void {
    for (const run of this.runs.values()) {
      run.writer?.close();
      run.writer = undefined;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function heapPush<T>(heap: T[], item: T, cmp: (a: T, b: T) => number): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (cmp(heap[i]!, heap[parent]!) >= 0) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

/** Removes the smallest item and returns it. */
function heapPop<T>(heap: T[], cmp: (a: T, b: T) => number): T | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0 && last !== undefined) {
    heap[0] = last;
    siftDown(heap, 0, cmp);
  }
  return top;
}

function siftDown<T>(heap: T[], start: number, cmp: (a: T, b: T) => number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && cmp(heap[l]!, heap[m]!) < 0) m = l;
    if (r < heap.length && cmp(heap[r]!, heap[m]!) < 0) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}
