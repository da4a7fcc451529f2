import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Sorts a stream of rendered events too large for memory, in one read, with memory bounded whatever
 * the input size. Event files are nearly in time order (a writer emits in time order, a merge of
 * several writers interleaves closely), so the sorter is built for that case and correct for any:
 * - records pass through a reorder window (the last `windowSize` records, in time order), which puts
 *   a nearly ordered stream back in order at the cost of a compare or two per record;
 * - each record leaving the window is appended to its group's run when it does not go before that
 *   run's last record (one run per group, up to MAX_RUNS groups): an ordered input is written once,
 *   in runs, and read back as bytes without being decoded or compared again;
 * - the others (stragglers) are buffered, sorted and spilled as chunks of `chunkSize` records (or
 *   CHUNK_BYTES), and then everything is merged with a min-heap.
 * Records are encoded once, where they are rendered (RecordBatch, in a reading thread or in this one),
 * and from then on only copied as bytes. Runs and chunks stay in memory until they pass BLOCK bytes,
 * so a small report never touches the disk. The sort key is (group, time, rank, id, file, line):
 * total, so the output order is deterministic whatever the input order.
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
  text: Buffer;
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
 * A record, little-endian, the same in a batch, in memory and in a spilled file: u32 size of what
 * follows, f64 time, u32 rank, file, line, then the UTF-8 byte lengths of group, id and text (u32
 * each), then the three strings' bytes.
 */
const HEADER = 36;
const BLOCK = 1 << 18;
/** Stragglers held in memory before they are sorted and spilled, whichever comes first: records or bytes. */
const CHUNK_BYTES = 32 << 20;

/** Per record of a batch: time, rank, line (as given to `add`), offset of the record, index of its group. */
const KEY_FIELDS = 5;

/** A batch as plain data: its buffers move between threads without a copy. */
export interface EncodedBatch {
  bytes: Uint8Array<ArrayBuffer>;
  keys: Float64Array<ArrayBuffer>;
  groups: string[];
}

/**
 * Sort records encoded where they are made (a reading thread, or this one when it reads alone): each
 * string is encoded once, into one buffer, and the batch crosses to the sorter as bytes and numbers.
 */
export class RecordBatch {
  private buffer: Buffer<ArrayBuffer>;
  private used = 0;
  private keys: number[] = [];
  private groups: string[] = [];
  private readonly groupIndex = new Map<string, number>();

  constructor(private readonly initialBytes = 1 << 20) {
    this.buffer = Buffer.alloc(0);
  }

  get byteLength(): number {
    return this.used;
  }

  get count(): number {
    return this.keys.length / KEY_FIELDS;
  }

  /** Records the line as given: the sorter adds the block's first line number to it (`addBatch`). */
  add(group: string, ms: number, rank: number, id: string, line: number, text: string): void {
    const bound = HEADER + 3 * (group.length + id.length + text.length);
    if (this.used + bound > this.buffer.length) this.grow(this.used + bound);
    const b = this.buffer;
    const at = this.used;
    let p = at + HEADER;
    const groupBytes = b.write(group, p);
    p += groupBytes;
    const idBytes = b.write(id, p);
    p += idBytes;
    const textBytes = b.write(text, p);
    p += textBytes;
    b.writeUInt32LE(p - at - 4, at);
    b.writeDoubleLE(ms, at + 4);
    b.writeUInt32LE(rank, at + 12);
    b.writeUInt32LE(groupBytes, at + 24);
    b.writeUInt32LE(idBytes, at + 28);
    b.writeUInt32LE(textBytes, at + 32);
    this.used = p;
    let index = this.groupIndex.get(group);
    if (index === undefined) {
      index = this.groups.length;
      this.groups.push(group);
      this.groupIndex.set(group, index);
    }
    this.keys.push(ms, rank, line, at, index);
  }

  /** A buffer of its own (it may move to another thread), at least `needed` bytes. */
  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(needed, this.initialBytes, 2 * this.buffer.length));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }

  /** Hands the records over; the batch starts empty, without a buffer (see `reuse`). */
  take(): EncodedBatch {
    const batch: EncodedBatch = {
      bytes: new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.used),
      keys: Float64Array.from(this.keys),
      groups: this.groups,
    };
    this.buffer = Buffer.alloc(0);
    this.used = 0;
    this.keys = [];
    this.groups = [];
    this.groupIndex.clear();
    return batch;
  }

  /** Gives an empty batch a buffer to write into: one taken before, whose records were sorted (copied out). */
  reuse(spare: ArrayBuffer): void {
    if (this.used === 0 && spare.byteLength > this.buffer.length) this.buffer = Buffer.from(spare);
  }
}

/** One record in the sorter: its key, and its bytes (a copy of its own); the id is decoded only for a tie. */
class Entry implements Key {
  private decodedId: string | undefined;

  constructor(
    readonly group: string,
    readonly ms: number,
    readonly rank: number,
    readonly fileIndex: number,
    readonly line: number,
    readonly bytes: Buffer,
  ) {}

  get id(): string {
    if (this.decodedId === undefined) {
      const b = this.bytes;
      const idStart = HEADER + b.readUInt32LE(24);
      this.decodedId = b.toString('utf8', idStart, idStart + b.readUInt32LE(28));
    }
    return this.decodedId;
  }
}

/**
 * Appends records through a 256 KiB buffer; the file is made (by `open`) only when the buffer
 * overflows, so a short run or chunk stays in memory.
 */
class RecordWriter {
  private buffer = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  private fd: number | undefined;
  file: string | undefined;

  constructor(private readonly open: () => { file: string; fd: number }) {}

  add(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buffer.length) {
      this.flush();
      if (bytes.length > this.buffer.length) {
        this.writeAll(bytes, bytes.length);
        return;
      }
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  private flush(): void {
    this.writeAll(this.buffer, this.used);
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array, length: number): void {
    if (this.fd === undefined) ({ file: this.file, fd: this.fd } = this.open());
    let done = 0;
    while (done < length) done += writeSync(this.fd, bytes, done, length - done);
  }

  /** Ends the writing: what was written stays in the file, or in memory (exactly its bytes). */
  end(): void {
    if (this.fd === undefined) {
      if (this.used < this.buffer.length) this.buffer = Buffer.from(this.buffer.subarray(0, this.used));
      return;
    }
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    this.buffer = Buffer.alloc(0);
  }

  /** A reader of what was written (after `end`). */
  reader(): RecordReader {
    return this.file === undefined
      ? new RecordReader(undefined, this.buffer.subarray(0, this.used))
      : new RecordReader(this.file, undefined);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads records in order; the current record's text is a view, valid until `next()`. */
class RecordReader implements Key {
  group = '';
  id = '';
  ms = 0;
  rank = 0;
  fileIndex = 0;
  line = 0;
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  private textStart = 0;
  private textEnd = 0;
  private eof: boolean;
  private readonly fd: number | undefined;

  /** From a file, or from bytes in memory. */
  constructor(file: string | undefined, data: Buffer | undefined) {
    this.fd = file === undefined ? undefined : openSync(file, 'r');
    this.buffer = data ?? Buffer.allocUnsafe(BLOCK);
    this.end = data?.length ?? 0;
    this.eof = data !== undefined;
  }

  /** Makes `n` bytes available from `start`; false at a clean end. */
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
      const read = readSync(this.fd!, this.buffer, this.end, this.buffer.length - this.end, null);
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
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

/** One group's ordered run: its last record's key, and its records as bytes. */
interface Run {
  group: string;
  last: Entry | undefined;
  writer: RecordWriter;
}

const MAX_RUNS = 64;
const WINDOW = 64;

export class ExternalSorter {
  private readonly window: Entry[] = [];
  private readonly runs = new Map<string, Run>();
  private stragglers: Entry[] = [];
  private stragglerBytes = 0;
  private readonly chunks: RecordWriter[] = [];
  private dir: string | undefined;
  private files = 0;
  private readonly windowSize: number;

  constructor(private readonly chunkSize = 20_000) {
    this.windowSize = Math.min(WINDOW, chunkSize);
  }

  /**
   * Adds a batch's records, from file `fileIndex`; `lineBase` is added to each record's line (the
   * lines before the batch's block). Each record's bytes are copied: the batch may be reused at once.
   */
  addBatch(batch: EncodedBatch, fileIndex: number, lineBase: number): void {
    const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    const { keys, groups } = batch;
    for (let k = 0; k < keys.length; k += KEY_FIELDS) {
      const at = keys[k + 3]!;
      const line = lineBase + keys[k + 2]!;
      const copy = Buffer.allocUnsafe(4 + bytes.readUInt32LE(at));
      bytes.copy(copy, 0, at, at + copy.length);
      copy.writeUInt32LE(fileIndex, 16);
      copy.writeUInt32LE(line, 20);
      this.add(new Entry(groups[keys[k + 4]!]!, keys[k]!, keys[k + 1]!, fileIndex, line, copy));
    }
  }

  /**
   * The window is an array in key order. A record goes in by a short scan from the end (one step for
   * an ordered input); one that would go further back than the window's length is a straggler.
   */
  private add(record: Entry): void {
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

  private place(record: Entry): void {
    let run = this.runs.get(record.group);
    if (run === undefined && this.runs.size < MAX_RUNS) {
      run = { group: record.group, last: undefined, writer: new RecordWriter(() => this.newFile()) };
      this.runs.set(record.group, run);
    }
    if (run !== undefined && (run.last === undefined || compare(record, run.last) >= 0)) {
      run.last = record;
      run.writer.add(record.bytes);
      return;
    }
    // A copy of its exact size: a straggler may wait long, and a small buffer shares its memory with others.
    const own = Buffer.allocUnsafeSlow(record.bytes.length);
    own.set(record.bytes);
    this.stragglers.push(new Entry(record.group, record.ms, record.rank, record.fileIndex, record.line, own));
    this.stragglerBytes += record.bytes.length;
    if (this.stragglers.length >= this.chunkSize || this.stragglerBytes >= CHUNK_BYTES) this.spill();
  }

  private newFile(): { file: string; fd: number } {
    this.dir ??= mkdtempSync(join(tmpdir(), 'sealwatch-audit-'));
    const file = join(this.dir, `sorted-${this.files++}`);
    return { file, fd: openSync(file, 'wx', 0o600) };
  }

  /** Sorts the stragglers into a chunk (in memory while it fits in one block, else a file). */
  private spill(): void {
    const rows = this.stragglers.sort(compare);
    this.stragglers = [];
    this.stragglerBytes = 0;
    const writer = new RecordWriter(() => this.newFile());
    for (const row of rows) writer.add(row.bytes);
    writer.end();
    this.chunks.push(writer);
  }

  /** Yields every record's group and text in order; the sorter is spent afterwards. */
  *sorted(): Generator<SortedText> {
    const item: SortedText = { group: '', text: Buffer.alloc(0) };
    const readers: RecordReader[] = [];
    try {
      for (const record of this.window) this.place(record);
      this.window.length = 0;
      if (this.stragglers.length > 0) this.spill();
      const runs = [...this.runs.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
      if (this.chunks.length === 0) {
        // Every record is in its group's run, in order: copy each run's texts, group after group.
        for (const run of runs) {
          run.writer.end();
          const reader = run.writer.reader();
          readers.push(reader);
          item.group = run.group;
          while (reader.next(false)) {
            item.text = reader.text();
            yield item;
          }
        }
        return;
      }
      // A min-heap of the readers' current records: O(log k) per event whatever the number of runs and chunks.
      const heap: RecordReader[] = [];
      for (const run of runs) run.writer.end();
      for (const writer of [...runs.map((r) => r.writer), ...this.chunks]) {
        const reader = writer.reader();
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
    for (const run of this.runs.values()) run.writer.close();
    for (const chunk of this.chunks) chunk.close();
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
