import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Event } from '../../shared/events/index.ts';

/**
 * Sorts a stream of events too large for memory: events are buffered up to `chunkSize`, each full
 * buffer is sorted and spilled to a temporary JSONL file, and `sorted()` merges the files. Memory
 * stays at about one chunk plus one line per spilled file, whatever the input size.
 * The sort key is (group, time, id, file, line): total, so the output order is deterministic.
 */
export interface SortRecord {
  group: string;
  ms: number;
  id: string;
  fileIndex: number;
  line: number;
  event: Event;
}

type Row = [string, number, string, number, number, Event];

function compare(a: Row, b: Row): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] - b[1];
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  if (a[3] !== b[3]) return a[3] - b[3];
  return a[4] - b[4];
}

async function writeAll(stream: WriteStream, rows: Row[]): Promise<void> {
  // One chunk is bounded (chunkSize rows): write it in a few large writes, not one per row.
  const BATCH = 2_000;
  for (let i = 0; i < rows.length; i += BATCH) {
    const text = rows
      .slice(i, i + BATCH)
      .map((row) => JSON.stringify(row))
      .join('\n');
    if (!stream.write(`${text}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

export class ExternalSorter {
  private buffer: Row[] = [];
  private readonly chunks: string[] = [];

  private dir: string | undefined;

  constructor(private readonly chunkSize = 10_000) {}

  async add(record: SortRecord): Promise<void> {
    this.buffer.push([record.group, record.ms, record.event.event.id, record.fileIndex, record.line, record.event]);
    if (this.buffer.length >= this.chunkSize) await this.spill();
  }

  private async spill(): Promise<void> {
    this.dir ??= mkdtempSync(join(tmpdir(), 'sealwatch-audit-'));
    const file = join(this.dir, `chunk-${this.chunks.length}.jsonl`);
    const rows = this.buffer.sort(compare);
    this.buffer = [];
    // Written before reading goes on: one chunk in memory at a time keeps the peak flat.
    await writeAll(createWriteStream(file), rows);
    this.chunks.push(file);
  }

  /** Yields every record in order; the sorter is spent afterwards. */
  async *sorted(): AsyncGenerator<SortRecord> {
    try {
      if (this.chunks.length === 0) {
        const rows = this.buffer.sort(compare);
        this.buffer = [];
        for (const row of rows) yield toRecord(row);
        return;
      }
      if (this.buffer.length > 0) await this.spill();
      const readers = this.chunks.map((file) =>
        createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator](),
      );
      // A min-heap of the readers' current rows: O(log k) per event whatever the number of chunks.
      const heap: { row: Row; reader: AsyncIterator<string> }[] = [];
      for (const reader of readers) {
        const row = await nextRow(reader);
        if (row !== undefined) heapPush(heap, { row, reader });
      }
      while (heap.length > 0) {
        const top = heap[0]!;
        yield toRecord(top.row);
        const next = await nextRow(top.reader);
        if (next === undefined) heapPop(heap);
        else {
          top.row = next;
          siftDown(heap, 0);
        }
      }
    } finally {
      this.cleanup();
    }
  }

  cleanup(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

async function nextRow(reader: AsyncIterator<string>): Promise<Row | undefined> {
  const next = await reader.next();
  return next.done ? undefined : (JSON.parse(next.value) as Row);
}

function toRecord(row: Row): SortRecord {
  return { group: row[0], ms: row[1], id: row[2], fileIndex: row[3], line: row[4], event: row[5] };
}

type HeapItem = { row: Row; reader: AsyncIterator<string> };

function heapPush(heap: HeapItem[], item: HeapItem): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (compare(heap[i]!.row, heap[parent]!.row) >= 0) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: HeapItem[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  siftDown(heap, 0);
}

function siftDown(heap: HeapItem[], start: number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && compare(heap[l]!.row, heap[m]!.row) < 0) m = l;
    if (r < heap.length && compare(heap[r]!.row, heap[m]!.row) < 0) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}
