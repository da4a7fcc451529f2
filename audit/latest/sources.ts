import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { SEAL_FILE } from '../../shared/seal/index.ts';
import { auditSeal } from '../image/audit-seal.ts';
import { checkImageSeal, loadImageSeal, type ImageReader, type SealLayerDigest } from '../image/load-image.ts';
import type { RegistryClient } from './registry-client.ts';
import type { ListedImage } from './sealed-build.ts';

/** An image as `docker images` lists it. */
export interface EngineImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  /** Unix seconds. */
  Created: number;
  Labels?: Record<string, string> | null;
}

export interface EngineImages extends ImageReader {
  /** Images whose reference matches `repository` (any tag). */
  listImages(repository: string): Promise<EngineImageSummary[]>;
}

type VerifiedFlag = Pick<ListedImage, 'verified' | 'verifyProblem'>;

function verdictOf(story: { verified: boolean; seal: { reason?: string } }): {
  verified: boolean;
  verifyProblem?: string;
} {
  return story.verified
    ? { verified: true }
    : { verified: false, verifyProblem: story.seal.reason ?? 'seal did not verify' };
}

/** Sealed-build candidates from the local engine; each seal verified when keys are given. */
export async function listEngineImages(
  engine: EngineImages,
  repository: string,
  keys: TrustedKeys | undefined,
  sealLayerDigest: SealLayerDigest,
): Promise<(ListedImage & VerifiedFlag)[]> {
  const summaries = await engine.listImages(repository);
  const out: (ListedImage & VerifiedFlag)[] = [];
  for (const s of summaries) {
    const tags = (s.RepoTags ?? []).filter((t) => t.slice(0, t.lastIndexOf(':')) === repository);
    if (tags.length === 0) continue;
    const image: ListedImage & VerifiedFlag = {
      repository,
      tags,
      imageId: s.Id,
      created: new Date(s.Created * 1000).toISOString(),
      labels: s.Labels ?? {},
    };
    if (keys)
      Object.assign(
        image,
        verdictOf(
          auditSeal({ ...(await loadImageSeal(engine, s.Id, sealLayerDigest)), ref: tags[0]!, trustedKeys: keys }),
        ),
      );
    out.push(image);
  }
  return out;
}

const SEAL_LAYER_MAX = 4 * 1024 * 1024;

/** The seal file from a registry layer blob (tar, or gzip tar), and the blob's uncompressed digest source. */
async function sealFileFromLayer(blob: Buffer): Promise<{ tar: Buffer; file?: Buffer }> {
  const gz = blob[0] === 0x1f && blob[1] === 0x8b;
  const chunks: Buffer[] = [];
  const source = gz ? Readable.from([blob]).pipe(createGunzip()) : Readable.from([blob]);
  for await (const chunk of source) {
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > SEAL_LAYER_MAX) return { tar: Buffer.alloc(0) };
  }
  const tar = Buffer.concat(chunks);
  const reader = extract();
  Readable.from([tar]).pipe(reader);
  let file: Buffer | undefined;
  for await (const entry of reader) {
    const parts: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
    const name = entry.header.name.replace(/^\.\//, '').replace(/^\//, '');
    if (name === SEAL_FILE && entry.header.type === 'file') file = Buffer.concat(parts);
  }
  return { tar, ...(file !== undefined ? { file } : {}) };
}

/** Sealed-build candidates from a registry: every tag's config labels; seals verified when keys are given. */
export async function listRegistryImages(
  client: RegistryClient,
  path: string,
  keys: TrustedKeys | undefined,
  sealLayerDigest: SealLayerDigest,
): Promise<(ListedImage & VerifiedFlag)[]> {
  const out: (ListedImage & VerifiedFlag)[] = [];
  for (const tag of await client.listTags(path)) {
    const image = await client.getImage(path, tag);
    const listed: ListedImage & VerifiedFlag = {
      repository: path,
      tags: [`${path}:${tag}`],
      imageId: image.imageId,
      manifestDigest: image.manifestDigest,
      ...(image.created !== undefined ? { created: image.created } : {}),
      labels: image.labels,
    };
    if (keys) {
      const ref = `${client.origin}/${path}:${tag}`;
      const top = image.layers[image.layers.length - 1];
      const checked = await checkImageSeal(
        {
          ref,
          labels: image.labels,
          diffIds: image.config.rootfs?.diff_ids ?? [],
          runtimeConfig: image.config.config ?? {},
          readSealFile: async () => {
            if (!top || (top.size ?? 0) > SEAL_LAYER_MAX) return undefined;
            const { file } = await sealFileFromLayer(await client.blob(path, top.digest, ref, SEAL_LAYER_MAX));
            return file;
          },
        },
        sealLayerDigest,
      );
      Object.assign(listed, verdictOf(auditSeal({ ...checked, trustedKeys: keys })));
    }
    out.push(listed);
  }
  return out;
}
