import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, pack, type Header, type Pack } from 'tar-stream';
import { z } from 'zod';
import { EnvironmentError } from '../errors/index.ts';

/**
 * Reader/rewriter of `docker save` archives: the legacy layout (`manifest.json`, `<config>.json`,
 * `<dir>/layer.tar`, `repositories`) and the OCI layout Docker 25+ writes beside it
 * (`blobs/sha256/<hex>`, `index.json`, `oci-layout`; layers plain or gzip). The output always
 * uses the legacy manifest, which every `docker load` reads.
 *
 * One streaming pass: layer tars larger than SMALL_ENTRY go straight through to the output while
 * each is also handed to `onLayer` (the inventory reads it at the same time); small entries are
 * held until the end, so the old seal layer (tiny, found only once manifest.json is read) can be
 * dropped. `finish(stamp)` then appends the new seal layer, the rewritten config and manifest.
 * Memory stays bounded by the small entries, never the image size.
 */
const SMALL_ENTRY = 1024 * 1024;
const DROPPED = new Set(['repositories', 'index.json', 'oci-layout']);

type EntryKind = 'tar' | 'gzip' | 'other';

/** A tar has "ustar" at offset 257; gzip starts with 1f 8b. JSON configs are neither. */
function sniff(head: Buffer): EntryKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return 'other';
}

/** The layer's tar stream as the inventory reads it (gunzipped when the archive stores it compressed). */
function layerStream(stream: Readable, kind: EntryKind): Readable {
  if (kind !== 'gzip') return stream;
  const gunzip = createGunzip();
  stream.on('error', (error) => gunzip.destroy(error));
  return stream.pipe(gunzip);
}

/** Reads at least `bytes` (or everything, if shorter) and gives them back with the whole stream. */
async function peek(
  source: AsyncIterable<Uint8Array>,
  bytes: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.from(next.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, rest: rest() };
}

export const SaveManifest = z
  .array(z.looseObject({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) }))
  .min(1);
export type SaveManifest = z.infer<typeof SaveManifest>;

export const ImageConfigBlob = z.looseObject({
  config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(z.string()) }),
  history: z
    .array(
      z.looseObject({
        created_by: z.string().optional(),
        empty_layer: z.boolean().optional(),
        comment: z.string().optional(),
      }),
    )
    .optional(),
  created: z.string().optional(),
});
export type ImageConfigBlob = z.infer<typeof ImageConfigBlob>;

export interface ArchiveContents {
  configName: string;
  config: ImageConfigBlob;
  /** manifest Layers paths, bottom to top. */
  layerPaths: string[];
  repoTags: string[];
}

export interface LayerVisit {
  /** `<dir>/layer.tar` as in manifest.json. */
  path: string;
  size: number;
  /** The layer tar bytes; must be read to its end. */
  stream: Readable;
}

export interface ArchiveRewriteOptions {
  /** Called for each layer tar as it streams by (archive order, not layer order). */
  onLayer?: (layer: LayerVisit) => Promise<void>;
  /** Bytes of the input read so far (for progress). */
  onBytes?: (bytes: number) => void;
}

export interface Stamp {
  /** Decides, once the archive is read, what to drop and what to add. */
  dropTopLayer: boolean;
  layerTar: Buffer;
  labels: Record<string, string>;
  /** Existing labels whose key starts with this are removed before `labels` are added (ours replace, never mix). */
  replaceLabelsWithPrefix?: string;
  history: { created: string; created_by: string; comment: string };
  repoTags: string[];
}

export interface StampResult {
  /** `sha256:<hex>` of the new config: the new image id. */
  imageId: string;
  diffIds: string[];
}

export interface ArchiveRewrite {
  /** The rewritten archive, to hand to `docker load`. Ends after `finish` or errors after `abort`. */
  output: Readable;
  /** Resolves when the input has been read (layers passed through, small entries held). */
  contents: Promise<ArchiveContents>;
  finish(stamp: Stamp): Promise<StampResult>;
  abort(error: Error): void;
}

type Headers = Partial<Header> & Pick<Header, 'name'>;

/** What we need of a writable (node or streamx). */
interface SinkLike {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface HeldEntry {
  header: Headers;
  body: Buffer;
}

export function rewriteImageArchive(input: Readable, options: ArchiveRewriteOptions = {}): ArchiveRewrite {
  const out: Pack = pack();
  const held: HeldEntry[] = [];
  let manifestText: string | undefined;
  let bytes = 0;
  if (options.onBytes) {
    const onBytes = options.onBytes;
    input.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      onBytes(bytes);
    });
  }

  const contents = (async (): Promise<ArchiveContents> => {
    const reader = extract();
    const piping = pump(input, reader as unknown as SinkLike & { destroy(error?: Error): void });
    for await (const source of reader) {
      const header = source.header;
      const name = header.name.replace(/^\.\//, '');
      const size = header.size ?? 0;
      if (name === 'manifest.json') {
        manifestText = (await readAll(chunksOf(source))).toString('utf8');
        continue;
      }
      if (DROPPED.has(name)) {
        // Our manifest.json replaces them; an OCI index left behind would make `docker load`
        // (Docker 25+) load the original image instead of ours.
        await readAll(chunksOf(source));
        continue;
      }
      // Layers are recognised by content, not name: `<id>/layer.tar` (legacy layout) and
      // `blobs/sha256/<hex>` (OCI layout of Docker 25+), plain tar or gzip.
      const { head, rest } = await peek(chunksOf(source), 512);
      const kind = header.type === 'file' ? sniff(head) : 'other';
      if (size <= SMALL_ENTRY || header.type !== 'file') {
        const body = await readAll(rest);
        held.push({ header: { ...header, name }, body });
        if (kind !== 'other' && options.onLayer) {
          await options.onLayer({
            path: name,
            size,
            stream: layerStream(Readable.from([body], { objectMode: false }), kind),
          });
        }
        continue;
      }
      const sink = out.entry({ ...header, name }) as unknown as SinkLike;
      if (kind !== 'other' && options.onLayer) {
        const visit = new PassThrough({ highWaterMark: 1024 * 1024 });
        const visiting = options.onLayer({ path: name, size, stream: layerStream(visit, kind) });
        await tee(rest, [sink, visit]);
        await visiting;
      } else {
        await tee(rest, [sink]);
      }
    }
    await piping;
    if (manifestText === undefined) throw new EnvironmentError('IO', 'image archive has no manifest.json');
    const manifest = SaveManifest.parse(JSON.parse(manifestText));
    const first = manifest[0]!;
    const configEntry = held.find((h) => h.header.name === first.Config);
    if (!configEntry) throw new EnvironmentError('IO', `image archive has no config ${first.Config}`);
    const config = ImageConfigBlob.parse(JSON.parse(configEntry.body.toString('utf8')));
    if (config.rootfs.diff_ids.length !== first.Layers.length) {
      throw new EnvironmentError('IO', 'image archive: manifest layers and config diff_ids disagree');
    }
    return { configName: first.Config, config, layerPaths: first.Layers, repoTags: first.RepoTags ?? [] };
  })();
  // The output must not see an unhandled rejection before a caller awaits `contents`.
  contents.catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));

  const output = Readable.from(out, { objectMode: false });
  // An aborted rewrite destroys the output with an error; its consumer (docker load) sees it on
  // its own listener. This one only keeps an unconsumed output from crashing the process.
  output.on('error', () => undefined);
  return {
    output,
    contents,
    abort: (error) => {
      input.destroy();
      out.destroy(error);
      output.destroy(error);
    },
    finish: async (stamp) => {
      const c = await contents;
      const layerPaths = stamp.dropTopLayer ? c.layerPaths.slice(0, -1) : c.layerPaths;
      const dropped = stamp.dropTopLayer ? c.layerPaths.at(-1) : undefined;
      // Legacy layout: the layer's directory (`<id>/layer.tar`, `<id>/json`, `<id>/VERSION`) goes;
      // OCI layout: only the blob itself.
      const droppedDir = dropped?.endsWith('/layer.tar') ? dropped.slice(0, -'layer.tar'.length) : undefined;
      for (const h of held) {
        if (h.header.name === c.configName) continue;
        if (
          dropped !== undefined &&
          (h.header.name === dropped || (droppedDir && h.header.name.startsWith(droppedDir)))
        ) {
          // keep a layer dir another manifest entry still uses (dedup in docker save)
          if (!layerPaths.some((p) => p === h.header.name || (droppedDir && p.startsWith(droppedDir)))) continue;
        }
        await writeEntry(out, h.header, h.body);
      }
      const sealDiffId = `sha256:${createHash('sha256').update(stamp.layerTar).digest('hex')}`;
      const sealDir = sealDiffId.slice('sha256:'.length);
      await writeEntry(
        out,
        { name: `${sealDir}/`, type: 'directory', mode: 0o755, mtime: new Date(0) },
        Buffer.alloc(0),
      );
      await writeEntry(
        out,
        { name: `${sealDir}/layer.tar`, type: 'file', mode: 0o644, mtime: new Date(0) },
        stamp.layerTar,
      );

      const diffIds = [
        ...(stamp.dropTopLayer ? c.config.rootfs.diff_ids.slice(0, -1) : c.config.rootfs.diff_ids),
        sealDiffId,
      ];
      const history = [...(c.config.history ?? [])];
      if (stamp.dropTopLayer) {
        const last = findLastIndex(history, (h) => h.empty_layer !== true);
        if (last >= 0) history.splice(last, 1);
      }
      history.push(stamp.history);
      const config = {
        ...c.config,
        created: stamp.history.created,
        config: {
          ...(c.config.config ?? {}),
          Labels: { ...keptLabels(c.config.config?.Labels, stamp), ...stamp.labels },
        },
        rootfs: { ...c.config.rootfs, diff_ids: diffIds },
        history,
      };
      const configBytes = Buffer.from(JSON.stringify(config), 'utf8');
      const configHex = createHash('sha256').update(configBytes).digest('hex');
      await writeEntry(out, { name: `${configHex}.json`, type: 'file', mode: 0o644, mtime: new Date(0) }, configBytes);
      const manifest = [
        { Config: `${configHex}.json`, RepoTags: stamp.repoTags, Layers: [...layerPaths, `${sealDir}/layer.tar`] },
      ];
      await writeEntry(
        out,
        { name: 'manifest.json', type: 'file', mode: 0o644, mtime: new Date(0) },
        Buffer.from(JSON.stringify(manifest), 'utf8'),
      );
      out.finalize();
      return { imageId: `sha256:${configHex}`, diffIds };
    },
  };
}

/** Reads a docker-save archive to the end without writing anything: layers go to `onLayer`. */
export async function readImageArchive(input: Readable, options: ArchiveRewriteOptions = {}): Promise<ArchiveContents> {
  const rewrite = rewriteImageArchive(input, options);
  rewrite.output.resume();
  rewrite.output.on('error', () => undefined);
  const contents = await rewrite.contents;
  rewrite.output.destroy();
  return contents;
}

/** streamx streams are async iterables of Uint8Array; their typings do not say so. */
function chunksOf(stream: unknown): AsyncIterable<Uint8Array> {
  return stream as AsyncIterable<Uint8Array>;
}

function findLastIndex<T>(list: T[], test: (t: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) return i;
  return -1;
}

async function writeEntry(out: Pack, header: Headers, body: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.entry({ ...header, size: header.type === 'directory' ? 0 : body.length }, body, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Copies src into every sink, honouring each sink's backpressure, then ends them. */
async function tee(src: AsyncIterable<Uint8Array>, sinks: SinkLike[]): Promise<void> {
  for await (const chunk of src) {
    for (const sink of sinks) {
      if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
    }
  }
  await Promise.all(
    sinks.map(async (sink) => {
      const finished = once(sink as unknown as NodeJS.EventEmitter, 'finish');
      sink.end();
      await finished;
    }),
  );
}

/** Feeds a node stream into a (streamx) writable with backpressure; ends it; forwards errors. */
async function pump(src: Readable, dst: SinkLike & { destroy(error?: Error): void }): Promise<void> {
  try {
    for await (const chunk of src) {
      if (!dst.write(chunk as Uint8Array)) await once(dst as unknown as NodeJS.EventEmitter, 'drain');
    }
    dst.end();
  } catch (error) {
    dst.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

function keptLabels(labels: Record<string, string> | null | undefined, stamp: Stamp): Record<string, string> {
  const prefix = stamp.replaceLabelsWithPrefix;
  return Object.fromEntries(
    Object.entries(labels ?? {}).filter(([key]) => prefix === undefined || !key.startsWith(prefix)),
  );
}
