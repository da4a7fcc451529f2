import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError, errnoCode } from '../../shared/errors/index.ts';
import { ExternalSorter } from './external-sort.ts';
import { describeFilter, inWindow, matchesFilter, type EventFilter } from './filter.ts';
import { readEvents, type InputStats, type ReadProgress } from './read-events.ts';
import { createCsvRenderer } from './render-csv.ts';
import { createHtmlRenderer } from './render-html.ts';
import { createJsonRenderer } from './render-json.ts';
import { createMarkdownRenderer } from './render-md.ts';
import type { ReportFormat, ReportRenderer } from './renderer.ts';
import { ruleKey, SummaryBuilder, type ReportSummary } from './summary.ts';

export const RENDERERS = {
  md: createMarkdownRenderer,
  html: createHtmlRenderer,
  csv: createCsvRenderer,
  json: createJsonRenderer,
} satisfies Record<ReportFormat, () => ReportRenderer>;

export interface ReportRequest {
  files: readonly { path: string; source: string }[];
  filter: EventFilter;
  format: ReportFormat;
  /** Write here (a temp file beside it, renamed when complete); undefined: write to `stdout`. */
  outFile?: string;
  stdout: NodeJS.WritableStream;
  /** Progress lines (a TTY only); undefined: silent. */
  progress?: NodeJS.WritableStream;
  /** Events held in memory before a sorted chunk spills to a temp file. */
  chunkSize?: number;
}

/**
 * `audit report`: two passes with flat memory. Pass 1 streams the files once, filters, builds the
 * (bounded) summary and feeds matching events to an external sorter; pass 2 renders the header from
 * the summary and then the events in sorted order straight to the output.
 */
export async function runReport(request: ReportRequest): Promise<ReportSummary> {
  const renderer = RENDERERS[request.format]();
  const stats: InputStats[] = [];
  const builder = new SummaryBuilder();
  const sorter = new ExternalSorter(request.chunkSize);
  const progress = request.progress ? progressPrinter(request.progress) : undefined;
  try {
    for await (const item of readEvents(request.files, stats, progress)) {
      if (!inWindow(item.ms, request.filter.window) || !matchesFilter(item.event, request.filter)) {
        builder.exclude();
        continue;
      }
      builder.add(item.event, item.ms);
      await sorter.add({
        group: renderer.groupByRule ? ruleKey(item.event) : '',
        ms: item.ms,
        id: item.event.event.id,
        fileIndex: item.fileIndex,
        line: item.line,
        event: item.event,
      });
    }
    if (request.progress) request.progress.write('\n');
    const summary = builder.finish(request.filter.window, describeFilter(request.filter), stats);
    await writeOutput(request, async (write) => {
      await write(renderer.begin(summary));
      const rules = new Map(summary.rules.map((r) => [r.id, r]));
      let current: string | undefined;
      for await (const record of sorter.sorted()) {
        if (record.group !== current) {
          if (current !== undefined) await write(renderer.groupEnd(rules.get(current)!));
          current = record.group;
          await write(renderer.groupStart(rules.get(current)!));
        }
        await write(renderer.event(record.event));
      }
      if (current !== undefined) await write(renderer.groupEnd(rules.get(current)!));
      await write(renderer.end(summary));
    });
    return summary;
  } finally {
    sorter.cleanup();
  }
}

type Write = (text: string, flush?: boolean) => Promise<void>;

async function writeOutput(request: ReportRequest, body: (write: Write) => Promise<void>): Promise<void> {
  if (request.outFile === undefined) {
    const write = bufferedWriter(request.stdout);
    await body(write);
    await write('', true);
    return;
  }
  const target = request.outFile;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let stream: WriteStream;
  try {
    stream = createWriteStream(temp, { flags: 'wx' });
    await once(stream, 'open');
  } catch (error) {
    throw new EnvironmentError('IO', `--out ${target}: cannot write (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
  try {
    const write = bufferedWriter(stream);
    await body(write);
    await write('', true);
    stream.end();
    await once(stream, 'finish');
    renameSync(temp, target);
  } catch (error) {
    stream.destroy();
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Collects small strings into ~256 KB writes and respects backpressure. */
function bufferedWriter(stream: NodeJS.WritableStream): (text: string, flush?: boolean) => Promise<void> {
  let pending: string[] = [];
  let size = 0;
  const flushNow = async (): Promise<void> => {
    if (size === 0) return;
    const text = pending.join('');
    pending = [];
    size = 0;
    if (!stream.write(text)) await once(stream, 'drain');
  };
  return async (text, flush = false) => {
    if (text !== '') {
      pending.push(text);
      size += text.length;
    }
    if (flush || size >= 1 << 18) await flushNow();
  };
}

function progressPrinter(stream: NodeJS.WritableStream): (p: ReadProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200 && p.bytesRead < p.bytesTotal) return;
    last = now;
    const pct = p.bytesTotal > 0 ? Math.min(100, Math.floor((p.bytesRead / p.bytesTotal) * 100)) : 100;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    stream.write(
      `\r${basename(p.file)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${(p.bytesRead / 1e6).toFixed(1)}/${(p.bytesTotal / 1e6).toFixed(1)} MB, ${p.events} events`,
    );
  };
}
