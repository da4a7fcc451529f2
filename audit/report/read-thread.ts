import { parentPort, workerData } from 'node:worker_threads';
import { createEventCheck, type EventCheck } from './event-check.ts';
import { RecordBatch, type EncodedBatch } from './external-sort.ts';
import type { EventFilter } from './filter.ts';
import { createPassOne } from './pass-one.ts';
import { forEachLine } from '../../shared/text/index.ts';
import { BAD_LINE_REASONS, classifyLine } from './read-events.ts';
import type { ReportFormat } from './renderer.ts';
import { SummaryBuilder, type SummaryPart } from './summary.ts';

/**
 * A reading thread of `audit report` (read-parallel.ts starts them): it takes blocks of whole lines
 * and does for them what the report does for each event in one thread (pass-one.ts): parse, check,
 * filter, count, render. It answers each block with its counts, its bad lines and the kept events,
 * in the order the blocks came.
 */
export interface ThreadSetup {
  format: ReportFormat;
  filter: EventFilter;
  maxLineBytes: number;
  /** The validator compiled ahead of time, when there is one (see event-check.ts). */
  checkFile?: string;
}

export interface BlockTask {
  id: number;
  data: Uint8Array<ArrayBuffer>;
  /** A batch buffer handed back after its records were sorted: the next batch is written into it. */
  spare?: ArrayBuffer;
}

export interface BlockResult {
  id: number;
  lines: number;
  events: number;
  /** Pairs: line within the block (1-based), index into BAD_LINE_REASONS. */
  bad: number[];
  /** The kept events' sort records (lines within the block), encoded here. */
  records: EncodedBatch;
  /** The block's memory, handed back for a next read. */
  block: ArrayBuffer;
  part: SummaryPart;
}

const setup = workerData as ThreadSetup;
const checkReady = createEventCheck(setup.checkFile);
const reasonIndex = new Map(BAD_LINE_REASONS.map((r, i) => [r, i]));

const batch = new RecordBatch();

function answer(task: BlockTask, check: EventCheck): void {
  if (task.spare) batch.reuse(task.spare);
  const builder = new SummaryBuilder();
  const passOne = createPassOne(setup.format, setup.filter, builder, batch);
  const result: Omit<BlockResult, 'records' | 'part' | 'block'> = { id: task.id, lines: 0, events: 0, bad: [] };
  const block = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength);
  forEachLine(block, setup.maxLineBytes, (line) => {
    const at = ++result.lines;
    const outcome = classifyLine(line, check);
    if (outcome === undefined) return;
    if ('bad' in outcome) {
      result.bad.push(at, reasonIndex.get(outcome.bad)!);
      return;
    }
    result.events++;
    passOne(outcome.event, outcome.ms, at);
  });
  const records = batch.take();
  const message: BlockResult = { ...result, records, part: builder.part(), block: task.data.buffer };
  parentPort!.postMessage(message, [records.bytes.buffer, records.keys.buffer, task.data.buffer]);
}

// Blocks are answered in the order they came: each waits for the check (ready once), then runs at once.
// A failure is left unhandled on purpose: it ends this thread, and read-parallel.ts fails the report.
parentPort!.on('message', (task: BlockTask) => {
  void checkReady.then((check) => answer(task, check));
});
