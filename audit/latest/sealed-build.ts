import { parseSealLabel, SEAL_LABEL } from '../../shared/seal/index.ts';

/**
 * One sealed build of a repository, as its labels describe it. The `dev.sealwatch.seal` label is a
 * pointer, not proof: a build is `verified` only after its seal was checked (audit image).
 */
export interface SealedBuild {
  repository: string;
  /** Every tag pointing at this image, sorted. */
  tags: string[];
  /** `sha256:<hex>` of the image config (the engine's image id; the same in a registry). */
  imageId: string;
  /** Registry manifest digest, when listed from a registry. */
  manifestDigest?: string;
  identity: string;
  keyHint: string;
  sealedAt: string;
  /** Build time: `org.opencontainers.image.created`, else the config's `created`, else sealedAt. */
  buildTime: string;
  /** CI build/run number when a label carries it (dev.sealwatch.build-number, or a numeric image version). */
  buildNumber?: number;
  revision?: string;
  source?: string;
  verified?: boolean;
  verifyProblem?: string;
}

export interface UnsealedImage {
  repository: string;
  tags: string[];
  imageId: string;
  /** Why it does not count: no label, or a label that does not parse. */
  reason: string;
}

export interface ListedImage {
  repository: string;
  tags: string[];
  imageId: string;
  manifestDigest?: string;
  created?: string;
  labels: Record<string, string>;
  /** Set when the seal was checked (keys given): true only for a seal that verified on this image. */
  verified?: boolean;
  verifyProblem?: string;
  /** From a verified seal's provenance; preferred to labels. */
  buildNumber?: number;
}

const NUMBER_LABELS = ['dev.sealwatch.build-number', 'org.opencontainers.image.version'] as const;

/** Splits listed images into sealed builds (valid seal label) and the rest. */
export function classify(image: ListedImage): { build?: SealedBuild; unsealed?: UnsealedImage } {
  const text = image.labels[SEAL_LABEL];
  const base = { repository: image.repository, tags: [...image.tags].sort(), imageId: image.imageId };
  if (text === undefined) return { unsealed: { ...base, reason: `no ${SEAL_LABEL} label` } };
  const { label, error } = parseSealLabel(text);
  if (!label) return { unsealed: { ...base, reason: error ?? 'bad seal label' } };
  // Checked with trusted keys and failed: not a sealed build, whatever its label says.
  if (image.verified === false) {
    return { unsealed: { ...base, reason: `seal does not verify: ${image.verifyProblem ?? 'invalid'}` } };
  }
  const build: SealedBuild = {
    ...base,
    identity: label.identity,
    keyHint: label.keyHint,
    sealedAt: label.sealedAt,
    buildTime: image.labels['org.opencontainers.image.created'] ?? image.created ?? label.sealedAt,
  };
  if (image.manifestDigest !== undefined) build.manifestDigest = image.manifestDigest;
  if (image.verified !== undefined) build.verified = image.verified;
  if (image.verifyProblem !== undefined) build.verifyProblem = image.verifyProblem;
  if (image.buildNumber !== undefined) build.buildNumber = image.buildNumber;
  else
    for (const key of NUMBER_LABELS) {
      const value = image.labels[key];
      if (value !== undefined && /^\d+$/.test(value)) {
        build.buildNumber = Number(value);
        break;
      }
    }
  const revision = image.labels['org.opencontainers.image.revision'];
  if (revision !== undefined) build.revision = revision;
  const source = image.labels['org.opencontainers.image.source'];
  if (source !== undefined) build.source = source;
  return { build };
}

function timeOf(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** Newest first: build time, then build number, then image id (total, so deterministic). */
export function compareBuilds(a: SealedBuild, b: SealedBuild): number {
  const t = timeOf(b.buildTime) - timeOf(a.buildTime);
  if (t !== 0 && !Number.isNaN(t)) return t;
  const n = (b.buildNumber ?? -1) - (a.buildNumber ?? -1);
  if (n !== 0) return n;
  return a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0;
}

/** Merges images listed once per tag into one entry per image id. */
export function mergeByImage(images: readonly ListedImage[]): ListedImage[] {
  const byId = new Map<string, ListedImage>();
  for (const image of images) {
    const seen = byId.get(image.imageId);
    if (seen) seen.tags = [...new Set([...seen.tags, ...image.tags])];
    else byId.set(image.imageId, { ...image, tags: [...image.tags] });
  }
  return [...byId.values()];
}
