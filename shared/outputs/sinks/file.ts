import { mkdirSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Event } from '../../events/index.ts';
import { OutputError } from '../../errors/index.ts';
import type { OutputSpec } from '../url.ts';
import { formatterFor } from '../formatters/index.ts';
import { cappedRenderer } from '../size-cap.ts';
import type { Sink, SinkDeps, SinkStats } from '../types.ts';
import { oneLine } from '../transports/one-line.ts';

export const FILE_DEFAULTS = { rotateMb: 100, keep: 5, fsyncMs: 1000 } as const;

/**
 * `file:///path.jsonl`: one rendered event per line, appended. Rotated by size (`rotate-mb=`, default 100):
 * path → path.1 → … → path.5. Lines are written in batches by one writer chain (never concurrently),
 * fsync'd on a timer and on flush/close.
 */
export function createFileSink(
  spec: Extract<OutputSpec, { type: 'file' }>,
  deps: SinkDeps,
  options: { fsyncMs?: number; keep?: number } = {},
): Sink {
  const format = formatterFor(spec, deps);
  const render = cappedRenderer(spec, (event) => oneLine(format(event)));
  const rotateBytes = (spec.options['rotate-mb'] ?? FILE_DEFAULTS.rotateMb) * 1024 * 1024;
  const keep = options.keep ?? FILE_DEFAULTS.keep;
  const counters = { sent: 0, dropped: 0, truncated: 0 };
  try {
    mkdirSync(dirname(spec.path), { recursive: true });
  } catch (error) {
    throw new OutputError('UNSUPPORTED', `${spec.name}: cannot create the folder of ${spec.path}`, { cause: error });
  }
  let pending: string[] = [];
  let pendingCount = 0;
  let handle: FileHandle | undefined;
  let size = 0;
  let dirty = false;
  let healthy = true;
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;

  const openFile = async (): Promise<FileHandle> => {
    if (handle !== undefined) return handle;
    handle = await open(spec.path, 'a', 0o640);
    size = (await stat(spec.path)).size;
    return handle;
  };
  const rotate = async (): Promise<void> => {
    if (handle !== undefined) {
      await handle.sync();
      await handle.close();
      handle = undefined;
    }
    for (let i = keep - 1; i >= 1; i--) {
      await rename(`${spec.path}.${i}`, `${spec.path}.${i + 1}`).catch(() => undefined);
    }
    await rename(spec.path, `${spec.path}.1`).catch(() => undefined);
  };
  const writeBatch = async (): Promise<void> => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending;
    const count = pendingCount;
    pending = [];
    pendingCount = 0;
    try {
      const data = Buffer.from(lines.join(''), 'utf8');
      await openFile();
      if (size > 0 && size + data.length > rotateBytes) {
        await rotate();
        await openFile();
      }
      await handle!.write(data);
      size += data.length;
      dirty = true;
      counters.sent += count;
      if (!healthy) deps.logger.info('file output writes again', { output: spec.name });
      healthy = true;
    } catch (error) {
      counters.dropped += count;
      if (healthy) deps.logger.warn('file output write failed', { output: spec.name, error: String(error) });
      healthy = false;
      await handle?.close().catch(() => undefined);
      handle = undefined;
    }
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    chain = chain.then(writeBatch);
  };
  const sync = async (): Promise<void> => {
    if (!dirty || handle === undefined) return;
    dirty = false;
    await handle
      .sync()
      .catch((error: unknown) => deps.logger.warn('fsync failed', { output: spec.name, error: String(error) }));
  };
  const timer = setInterval(() => {
    chain = chain.then(sync);
  }, options.fsyncMs ?? FILE_DEFAULTS.fsyncMs);
  timer.unref();

  return {
    name: spec.name,
    send(event: Event) {
      try {
        const fitted = render(event);
        if (fitted.truncated) counters.truncated++;
        if (fitted.tooLarge) {
          counters.dropped++;
          deps.logger.warn('event too large for the file output even shortened; dropped', { output: spec.name });
          return;
        }
        pending.push(`${fitted.message}\n`);
        pendingCount++;
      } catch (error) {
        counters.dropped++;
        deps.logger.warn('could not render event for the file output', { output: spec.name, error: String(error) });
        return;
      }
      schedule();
    },
    async flush() {
      schedule();
      chain = chain.then(sync);
      await chain;
    },
    async close() {
      clearInterval(timer);
      await this.flush();
      await handle?.close().catch(() => undefined);
      handle = undefined;
    },
    stats(): SinkStats {
      return {
        name: spec.name,
        ...counters,
        retried: 0,
        queued: pendingCount,
        spoolBytes: 0,
        connected: healthy,
      };
    },
  };
}
