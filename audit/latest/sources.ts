import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { SEAL_FILE, SEAL_LABEL } from '../../shared/seal/index.ts';
import type { DockerClient, ImageSummary } from '../../shared/docker/index.ts';
import { auditConfigAndSeal, auditImage } from '../image/audit-image.ts';
import type { ImageStory } from '../image/story.ts';
import type { RegistryClient } from './registry-client.ts';
import type { ListedImage } from './sealed-build.ts';

/** An image as `docker images` lists it (shared/docker). */
export type EngineImageSummary = ImageSummary;

/** Lists the engine's images whose reference matches a repository (any tag). */
export type EngineLister = (repository: string) => Promise<EngineImageSummary[]>;

type VerifiedFlag = Pick<ListedImage, 'verified' | 'verifyProblem' | 'buildNumber'>;

/** Verified or not; a verified seal's build number (from its provenance) is preferred to labels. */
function verdictOf(story: ImageStory): VerifiedFlag {
  if (!story.verified) return { verified: false, verifyProblem: story.seal.reason ?? 'seal did not verify' };
  return {
    verified: true,
    ...(story.build?.buildNumber !== undefined ? { buildNumber: story.build.buildNumber } : {}),
  };
}

/** Sealed-build candidates from the local engine; each seal verified (as `verify` does) when keys are given. */
export async function listEngineImages(
  docker: DockerClient,
  list: EngineLister,
  repository: string,
  keys: TrustedKeys | undefined,
): Promise<ListedImage[]> {
  const out: ListedImage[] = [];
  for (const s of await list(repository)) {
    const tags = (s.RepoTags ?? []).filter((t) => t.slice(0, t.lastIndexOf(':')) === repository);
    if (tags.length === 0) continue;
    const image: ListedImage = {
      repository,
      tags,
      imageId: s.Id,
      created: new Date(s.Created * 1000).toISOString(),
      labels: s.Labels ?? {},
    };
    if (keys && image.labels[SEAL_LABEL] !== undefined)
      Object.assign(image, verdictOf(await auditImage(docker, s.Id, keys)));
    out.push(image);
  }
  return out;
}

const SEAL_LAYER_MAX = 4 * 1024 * 1024;

/** The seal file from a registry layer blob (tar, or gzip tar); the layer is small or it is not a seal layer. */
async function sealFileFromLayer(blob: Buffer): Promise<{ file?: Buffer }> {
  const gz = blob[0] === 0x1f && blob[1] === 0x8b;
  const chunks: Buffer[] = [];
  const source = gz ? Readable.from([blob]).pipe(createGunzip()) : Readable.from([blob]);
  for await (const chunk of source) {
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > SEAL_LAYER_MAX) return {};
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
  return file !== undefined ? { file } : {};
}

/** Sealed-build candidates from a registry: every tag's config labels; seals verified when keys are given. */
export async function listRegistryImages(
  client: RegistryClient,
  path: string,
  keys: TrustedKeys | undefined,
): Promise<ListedImage[]> {
  const out: ListedImage[] = [];
  for (const tag of await client.listTags(path)) {
    const image = await client.getImage(path, tag);
    const listed: ListedImage = {
      repository: path,
      tags: [`${path}:${tag}`],
      imageId: image.imageId,
      manifestDigest: image.manifestDigest,
      ...(image.created !== undefined ? { created: image.created } : {}),
      labels: image.labels,
    };
    if (keys && image.labels[SEAL_LABEL] !== undefined) {
      const ref = `${client.origin.replace(/^https?:\/\//, '')}/${path}:${tag}`;
      const top = image.layers.at(-1);
      let sealText: string | undefined;
      if (top && (top.size ?? 0) <= SEAL_LAYER_MAX) {
        sealText = (await sealFileFromLayer(await client.blob(path, top.digest, ref, SEAL_LAYER_MAX))).file?.toString(
          'utf8',
        );
      }
      const story = await auditConfigAndSeal(
        ref,
        JSON.stringify(image.config),
        image.config.rootfs?.diff_ids ?? [],
        sealText,
        keys,
      );
      Object.assign(listed, verdictOf(story));
    }
    out.push(listed);
  }
  return out;
}
