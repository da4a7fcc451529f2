import type { DockerClient } from '../../shared/docker/index.ts';
import { EnvironmentError } from '../../shared/errors/index.ts';
import {
  rewriteImageArchive,
  sealLayerTar,
  sha256Digest,
  type ArchiveContents,
  type StampResult,
} from '../../shared/image/index.ts';
import { SEAL_FILE, SEAL_DIR, SEAL_LABEL, parseSealLabel } from '../../shared/seal/index.ts';
import { buildInventory, mergeLayers, readLayerTar, type LayerRecord } from '../inventory/index.ts';
import type { InventoryPredicate } from '../../shared/seal/index.ts';

export interface ImageRead {
  contents: ArchiveContents;
  /** diff_ids and runtime config of the image as built (an old seal layer excluded). */
  diffIds: string[];
  runtimeConfig: unknown;
  inventory: InventoryPredicate;
  /** The image was sealed already; its seal layer will be replaced, not stacked. */
  resealing: boolean;
  /**
   * A `dev.sealwatch.seal` label named the top layer, but that layer is not a seal layer (it holds more than
   * the seal, or not our deterministic tar of it): a forged label. The layer is kept and the label replaced.
   */
  forgedLabel: boolean;
}

export interface SealStamp {
  sealJsonl: string;
  labels: Record<string, string>;
  repoTags: string[];
  createdAt: string;
}

export interface ImagePass {
  /** Reads the whole image once (inventory included) while the engine already receives the copy. */
  read(): Promise<ImageRead>;
  /** Appends the seal layer and labels, and waits for `docker load`. */
  stamp(stamp: SealStamp): Promise<StampResult>;
  /** Stops the load: nothing is written to the engine. */
  abort(reason: string): Promise<void>;
}

/**
 * The one pass over the image: `docker save` → (inventory of every layer, streamed) → rewritten
 * archive → `docker load`. Nothing but the small archive entries is held in memory.
 */
export async function openImagePass(
  docker: DockerClient,
  ref: string,
  options: { onBytes?: (bytes: number) => void; load?: boolean } = {},
): Promise<ImagePass> {
  const inspect = await docker.inspectImage(ref);
  const labelText = inspect.Config?.Labels?.[SEAL_LABEL];
  const top = inspect.RootFS?.Layers?.at(-1);
  const oldLabel = labelText ? parseSealLabel(labelText).label : undefined;
  const labelNamesTop = oldLabel !== undefined && top !== undefined && oldLabel.layer === top;
  let resealing = false;

  const save = await docker.saveImage(ref);
  const records = new Map<string, LayerRecord>();
  const rewrite = rewriteImageArchive(save, {
    onLayer: async ({ path, stream }) => {
      records.set(path, await readLayerTar(stream));
    },
    ...(options.onBytes ? { onBytes: options.onBytes } : {}),
  });
  const loading =
    options.load === false ? (rewrite.output.resume(), Promise.resolve()) : docker.loadImage(rewrite.output);
  // Surface a load failure only when we wait for it (stamp); never as an unhandled rejection.
  loading.catch(() => undefined);
  let aborted = false;

  return {
    read: async () => {
      const contents = await rewrite.contents;
      const topRecord = records.get(contents.layerPaths.at(-1) ?? '');
      resealing = labelNamesTop && topRecord !== undefined && (await isSealLayer(topRecord, top));
      const layerPaths = resealing ? contents.layerPaths.slice(0, -1) : contents.layerPaths;
      const diffIds = resealing ? contents.config.rootfs.diff_ids.slice(0, -1) : contents.config.rootfs.diff_ids;
      const layers = layerPaths.map((p) => {
        const r = records.get(p);
        if (!r) throw new EnvironmentError('IO', `image ${ref}: layer ${p} is listed but not in the archive`);
        return r;
      });
      return {
        contents,
        diffIds,
        runtimeConfig: contents.config.config ?? {},
        inventory: buildInventory(mergeLayers(layers)),
        resealing,
        forgedLabel: labelNamesTop && !resealing,
      };
    },
    stamp: async (stamp) => {
      const layerTar = await sealLayerTar(stamp.sealJsonl);
      const result = await rewrite.finish({
        dropTopLayer: resealing,
        layerTar,
        labels: stamp.labels,
        replaceLabelsWithPrefix: 'dev.sealwatch.',
        history: {
          created: stamp.createdAt,
          created_by: 'sealwatch seal',
          comment: 'sealwatch seal layer: /.sealwatch/seal.jsonl',
        },
        repoTags: stamp.repoTags,
      });
      await loading;
      return result;
    },
    abort: async (reason) => {
      if (aborted) return;
      aborted = true;
      rewrite.abort(new Error(reason));
      await loading.catch(() => undefined);
    },
  };
}

/**
 * A previous seal is replaced only when the top layer is exactly a seal layer: our deterministic tar of its
 * own `/.sealwatch/seal.jsonl` hashes to the layer's diff_id, so dropping it can never remove anything but a
 * seal. A label alone proves nothing (anyone can write one naming any layer).
 */
async function isSealLayer(record: LayerRecord, diffId: string): Promise<boolean> {
  if (record.whiteouts.length > 0 || record.opaqueDirs.length > 0) return false;
  if ([...record.entries.keys()].some((p) => p !== SEAL_DIR && p !== SEAL_FILE)) return false;
  const content = record.entries.get(SEAL_FILE)?.content;
  if (content === undefined) return false;
  return sha256Digest(await sealLayerTar(content)) === diffId;
}
