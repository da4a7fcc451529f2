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
 * and from then on only copied as bytes. A run or chunk keeps its records' keys and texts apart, each
 * in memory until it outgrows its buffer (so a small report never touches the disk): when no record
 * came out of order, the texts of each run are the report's events in order, copied out in bulk
 * (`inOrder`). The sort key is (group, time, rank, id, file, line): total, so the output order is
 * deterministic whatever the input order.
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
 * A record, little-endian: u32 size of what follows, f64 time, u32 rank, file, line, then the UTF-8
 * byte lengths of group, id and text (u32 each), then the three strings' bytes. So in a batch and in
 * the sorter's memory; a run or chunk writes the text apart from the rest (RecordSpool).
 */
const HEADER = 36;
/** Bytes from a record's start to its id (the header, then its group). */
function idOffset(b: Buffer, at: number): number {
  return HEADER + b.readUInt32LE(at + 24);
}

/** Bytes from a record's start to its text (the header, its group and its id: the record's key). */
function textOffset(b: Buffer, at: number): number {
  return idOffset(b, at) + b.readUInt32LE(at + 28);
}

/** The buffer of a run's or chunk's texts, and of its keys (about a tenth of its bytes); reads of a spilled file. */
const BLOCK = 1 << 18;
const KEY_BLOCK = 1 << 16;
const READ_BLOCK = 1 << 20;
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
  private groupBytes: Buffer[] = [];

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
    // A group is encoded once a batch (a few rules), then copied.
    let index = this.groupIndex.get(group);
    if (index === undefined) {
      index = this.groups.length;
      this.groups.push(group);
      this.groupIndex.set(group, index);
      this.groupBytes.push(Buffer.from(group));
    }
    const groupBytes = this.groupBytes[index]!;
    if (groupBytes.length > 0) b.set(groupBytes, p);
    p += groupBytes.length;
    const idBytes = b.write(id, p);
    p += idBytes;
    const textBytes = b.write(text, p);
    p += textBytes;
    b.writeUInt32LE(p - at - 4, at);
    b.writeDoubleLE(ms, at + 4);
    b.writeUInt32LE(rank, at + 12);
    b.writeUInt32LE(groupBytes.length, at + 24);
    b.writeUInt32LE(idBytes, at + 28);
    b.writeUInt32LE(textBytes, at + 32);
    this.used = p;
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
    this.groupBytes = [];
    return batch;
  }

  /** Gives an empty batch a buffer to write into: one taken before, whose records were sorted (copied out). */
  reuse(spare: ArrayBuffer): void {
    if (this.used === 0 && spare.byteLength > this.buffer.length) this.buffer = Buffer.from(spare);
  }
}

/**
 * One record in the sorter: its key, and where its bytes are: in the batch it came in (`batch` is
 * that batch's number) or, for one that waits longer, in a copy of its own. The id is decoded only
 * for a tie.
 */
class Entry implements Key {
  private decodedId: string | undefined;

  constructor(
    readonly group: string,
    readonly ms: number,
    readonly rank: number,
    readonly fileIndex: number,
    readonly line: number,
    public bytes: Buffer,
    public start: number,
    public end: number,
    public batch: number,
  ) {}

  get id(): string {
    if (this.decodedId === undefined) {
      const b = this.bytes;
      const idStart = this.start + idOffset(b, this.start);
      this.decodedId = b.toString('utf8', idStart, this.start + textOffset(b, this.start));
    }
    return this.decodedId;
  }

  /** Copies the bytes out of the batch (into memory of their exact size: this record waits long). */
  own(): void {
    const own = Buffer.allocUnsafeSlow(this.end - this.start);
    this.bytes.copy(own, 0, this.start, this.end);
    this.bytes = own;
    this.start = 0;
    this.end = own.length;
    this.batch = OWNED;
  }

  /** Keeps only the key (a run's last record, compared with the next ones): the bytes are no longer read. */
  keyOnly(): void {
    void this.id;
    this.bytes = NO_BYTES;
    this.batch = OWNED;
  }
}

const OWNED = Infinity;
const NO_BYTES = Buffer.alloc(0);

/**
 * Bytes appended through a buffer; a file (made by `open`) only once the buffer overflows, so a short
 * run or chunk never touches the disk.
 */
class Spool {
  private buffer: Buffer;
  private used = 0;
  private fd: number | undefined;
  private file: string | undefined;

  constructor(
    private readonly open: () => { file: string; fd: number },
    size: number,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(size);
  }

  add(bytes: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.used + n > this.buffer.length) {
      this.flush();
      if (n > this.buffer.length) {
        this.writeAll(bytes.subarray(start, end));
        return;
      }
    }
    bytes.copy(this.buffer, this.used, start, end);
    this.used += n;
  }

  private flush(): void {
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Buffer): void {
    if (this.fd === undefined) ({ file: this.file, fd: this.fd } = this.open());
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
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
  reader(): SpoolReader {
    return new SpoolReader(this.file, this.file === undefined ? this.buffer.subarray(0, this.used) : undefined);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads a spool's bytes in order, from its file or from memory. */
class SpoolReader {
  buffer: Buffer;
  start = 0;
  private end: number;
  private eof: boolean;
  private readonly fd: number | undefined;

  constructor(file: string | undefined, data: Buffer | undefined) {
    this.fd = file === undefined ? undefined : openSync(file, 'r');
    this.buffer = data ?? Buffer.allocUnsafeSlow(READ_BLOCK);
    this.end = data?.length ?? 0;
    this.eof = data !== undefined;
  }

  /** Makes `n` bytes available from `start` (moving what is left to the buffer's start); false at the end. */
  ensure(n: number): boolean {
    while (this.end - this.start < n) {
      if (this.eof) return false;
      if (this.start > 0) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (n > this.buffer.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(n, 2 * this.buffer.length));
        this.buffer.copy(bigger, 0, 0, this.end);
        this.buffer = bigger;
      }
      const read = readSync(this.fd!, this.buffer, this.end, this.buffer.length - this.end, null);
      if (read === 0) this.eof = true;
      this.end += read;
    }
    return true;
  }

  /** True when every byte was read. */
  done(): boolean {
    return !this.ensure(1);
  }

  /** The next `n` bytes (made available by `ensure`), as a view valid until the next `ensure`. */
  take(n: number): Buffer {
    const view = this.buffer.subarray(this.start, this.start + n);
    this.start += n;
    return view;
  }

  /** The bytes left, in pieces as they are read (each valid until the next). */
  *pieces(): Generator<Buffer> {
    while (this.ensure(1)) yield this.take(this.end - this.start);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

/**
 * A run or a chunk: its records' keys (the header, group and id) in one spool and their texts in
 * another, so that the texts of a run, already in order, are copied out in bulk.
 */
class RecordSpool {
  private readonly keys: Spool;
  private readonly texts: Spool;

  constructor(open: () => { file: string; fd: number }) {
    this.keys = new Spool(open, KEY_BLOCK);
    this.texts = new Spool(open, BLOCK);
  }

  add(record: Entry): void {
    const { bytes, start, end } = record;
    const textStart = start + textOffset(bytes, start);
    this.keys.add(bytes, start, textStart);
    this.texts.add(bytes, textStart, end);
  }

  end(): void {
    this.keys.end();
    this.texts.end();
  }

  /** After `end`: the records one by one. */
  reader(): RecordReader {
    return new RecordReader(this.keys.reader(), this.texts.reader());
  }

  /** After `end`: the texts only, in order, in pieces as they are read. */
  *textPieces(): Generator<Buffer> {
    const reader = this.texts.reader();
    try {
      yield* reader.pieces();
    } finally {
      reader.close();
    }
  }

  close(): void {
    this.keys.close();
    this.texts.close();
  }
}

const BROKEN = 'audit report: a sorted temporary file ended inside a record';

/** Reads records in order; the current record's text is a view, valid until `next()`. */
class RecordReader implements Key {
  group = '';
  id = '';
  ms = 0;
  rank = 0;
  fileIndex = 0;
  line = 0;
  private current: Buffer = Buffer.alloc(0);

  constructor(
    private readonly keys: SpoolReader,
    private readonly texts: SpoolReader,
  ) {}

  /** Moves to the next record; `decode` decodes group and id (needed to merge, not to copy). */
  next(decode: boolean): boolean {
    const keys = this.keys;
    if (!keys.ensure(HEADER)) {
      if (!keys.done() || !this.texts.done()) throw new Error(BROKEN);
      return false;
    }
    const keyBytes = textOffset(keys.buffer, keys.start);
    if (!keys.ensure(keyBytes)) throw new Error(BROKEN);
    const b = keys.buffer;
    const at = keys.start;
    this.ms = b.readDoubleLE(at + 4);
    this.rank = b.readUInt32LE(at + 12);
    this.fileIndex = b.readUInt32LE(at + 16);
    this.line = b.readUInt32LE(at + 20);
    const textBytes = b.readUInt32LE(at + 32);
    if (decode) {
      const idStart = at + idOffset(b, at);
      this.group = b.toString('utf8', at + HEADER, idStart);
      this.id = b.toString('utf8', idStart, at + keyBytes);
    }
    keys.take(keyBytes);
    if (!this.texts.ensure(textBytes)) throw new Error(BROKEN);
    this.current = this.texts.take(textBytes);
    return true;
  }

  text(): Buffer {
    return this.current;
  }

  close(): void {
    this.keys.close();
    this.texts.close();
  }
}

/** One group's ordered run: its last record's key, and its records. */
interface Run {
  group: string;
  last: Entry | undefined;
  spool: RecordSpool;
}

/** A group whose records are all in its run, in order (see `inOrder`). */
export interface OrderedGroup {
  group: string;
  /** The group's texts, one after the other, in pieces of any size (each valid until the next). */
  bytes(): Generator<Buffer>;
}

const MAX_RUNS = 64;
const WINDOW = 64;
/** Batches whose memory records in the window may use: the current one and the one before. */
const HELD_BATCHES = 1;

export class ExternalSorter {
  private readonly window: Entry[] = [];
  private readonly runs = new Map<string, Run>();
  private stragglers: Entry[] = [];
  private stragglerBytes = 0;
  private readonly chunks: RecordSpool[] = [];
  private dir: string | undefined;
  private files = 0;
  private finished = false;
  private readonly windowSize: number;
  /** Batches added so far, and the memory of those records may still be in. */
  private batches = 0;
  private readonly held: { number: number; memory: ArrayBuffer }[] = [];

  constructor(private readonly chunkSize = 20_000) {
    this.windowSize = Math.min(WINDOW, chunkSize);
  }

  /**
   * Adds a batch's records, from file `fileIndex`; `lineBase` is added to each record's line (the
   * lines before the batch's block). The records stay in the batch's memory while they pass through
   * the window; returned: the memory of earlier batches no record uses any more (to be used again).
   */
  addBatch(batch: EncodedBatch, fileIndex: number, lineBase: number): ArrayBuffer[] {
    const number = this.batches++;
    const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    this.held.push({ number, memory: batch.bytes.buffer });
    const { keys, groups } = batch;
    for (let k = 0; k < keys.length; k += KEY_FIELDS) {
      const at = keys[k + 3]!;
      const line = lineBase + keys[k + 2]!;
      bytes.writeUInt32LE(fileIndex, at + 16);
      bytes.writeUInt32LE(line, at + 20);
      const end = at + 4 + bytes.readUInt32LE(at);
      this.add(new Entry(groups[keys[k + 4]!]!, keys[k]!, keys[k + 1]!, fileIndex, line, bytes, at, end, number));
    }
    return this.release(number - HELD_BATCHES);
  }

  /**
   * Frees the memory of batches up to `last`: a record of theirs still in the window is copied out,
   * a run's last record keeps only its key. Bounds what the window holds to a few batches, whatever
   * the input.
   */
  private release(last: number): ArrayBuffer[] {
    const free: ArrayBuffer[] = [];
    if (this.held.length === 0 || this.held[0]!.number > last) return free;
    for (const record of this.window) if (record.batch <= last) record.own();
    for (const run of this.runs.values()) if (run.last !== undefined && run.last.batch <= last) run.last.keyOnly();
    while (this.held.length > 0 && this.held[0]!.number <= last) free.push(this.held.shift()!.memory);
    return free;
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
      run = { group: record.group, last: undefined, spool: new RecordSpool(() => this.newFile()) };
      this.runs.set(record.group, run);
    }
    if (run !== undefined && (run.last === undefined || compare(record, run.last) >= 0)) {
      run.last = record;
      run.spool.add(record);
      return;
    }
    if (record.batch !== OWNED) record.own();
    this.stragglers.push(record);
    this.stragglerBytes += record.end - record.start;
    if (this.stragglers.length >= this.chunkSize || this.stragglerBytes >= CHUNK_BYTES) this.spill();
  }

  private newFile(): { file: string; fd: number } {
    this.dir ??= mkdtempSync(join(tmpdir(), 'sealwatch-audit-'));
    const file = join(this.dir, `sorted-${this.files++}`);
    return { file, fd: openSync(file, 'wx', 0o600) };
  }

  /** Sorts the stragglers into a chunk (in memory while it is small, else in files). */
  private spill(): void {
    const rows = this.stragglers.sort(compare);
    this.stragglers = [];
    this.stragglerBytes = 0;
    const chunk = new RecordSpool(() => this.newFile());
    for (const row of rows) chunk.add(row);
    chunk.end();
    this.chunks.push(chunk);
  }

  /** Ends the adding: the window's records placed, the stragglers spilled, every spool ended. */
  private finish(): Run[] {
    if (!this.finished) {
      this.finished = true;
      for (const record of this.window) this.place(record);
      this.window.length = 0;
      if (this.stragglers.length > 0) this.spill();
      for (const run of this.runs.values()) run.spool.end();
    }
    return [...this.runs.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  /**
   * When every record went into its group's run in order (no straggler: the usual case), the groups
   * in order, whose texts are copied out in bulk; otherwise undefined (then `sorted()` merges).
   */
  inOrder(): OrderedGroup[] | undefined {
    const runs = this.finish();
    if (this.chunks.length > 0) return undefined;
    return runs.map((run) => ({ group: run.group, bytes: () => run.spool.textPieces() }));
  }

  /** Yields every record's group and text in order; the sorter is spent afterwards. */
  *sorted(): Generator<SortedText> {
    const item: SortedText = { group: '', text: Buffer.alloc(0) };
    const readers: RecordReader[] = [];
    try {
      const runs = this.finish();
      if (this.chunks.length === 0) {
        // Every record is in its group's run, in order: each run's records, group after group.
        for (const run of runs) {
          const reader = run.spool.reader();
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
      for (const spool of [...runs.map((r) => r.spool), ...this.chunks]) {
        const reader = spool.reader();
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
    for (const run of this.runs.values()) run.spool.close();
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
