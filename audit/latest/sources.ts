import type { TrustedKeys } from '../../shared/signing/index.ts';
import { SEAL_LABEL } from '../../shared/seal/index.ts';
import type { RegistryClient } from '../../shared/registry/index.ts';
import type { DockerClient, ImageSummary } from '../../shared/docker/index.ts';
import { auditImage, auditRegistryImage } from '../image/audit-image.ts';
import type { ImageStory } from '../image/story.ts';
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
      Object.assign(listed, verdictOf(await auditRegistryImage(client, image, ref, keys)));
    }
    out.push(listed);
  }
  return out;
}
