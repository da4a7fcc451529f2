import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';

/**
 * The image identity (DESIGN.md "The seal"): sha256 over the canonical JSON of
 *   { v: 1, chainId: <rootfs ChainID from the layer diff_ids>, config: <runtime config> }
 * where the runtime config is User, Entrypoint, Cmd, Env, WorkingDir, ExposedPorts, Volumes,
 * normalized so `docker inspect` output and the config blob of a `docker save` archive agree
 * (null and absent are the same; port and volume maps become sorted key lists). Labels are
 * excluded: adding labels does not change the identity; changing a layer, the user or the
 * entrypoint does.
 */
export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

const StringOrList = z
  .union([z.array(z.string()), z.string(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined ? [] : typeof v === 'string' ? [v] : v));
const KeySet = z
  .union([z.record(z.string(), z.unknown()), z.null()])
  .optional()
  .transform((v) => (v ? Object.keys(v).sort() : []));

/** The runtime config as found in `docker inspect` (`Config`) or an image config blob (`config`). */
export const RuntimeConfigInput = z.looseObject({
  User: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  Entrypoint: StringOrList,
  Cmd: StringOrList,
  Env: StringOrList,
  WorkingDir: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  ExposedPorts: KeySet,
  Volumes: KeySet,
});

export const RuntimeConfig = z
  .object({
    User: z.string(),
    Entrypoint: z.array(z.string()),
    Cmd: z.array(z.string()),
    Env: z.array(z.string()),
    WorkingDir: z.string(),
    ExposedPorts: z.array(z.string()),
    Volumes: z.array(z.string()),
  })
  .strict();
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

export const IdentityMaterial = z
  .object({
    chainId: z.string().describe('rootfs ChainID (OCI image spec) of the layers; "" for no layers'),
    layers: z.number().int().nonnegative(),
    config: RuntimeConfig,
  })
  .strict();
export type IdentityMaterial = z.infer<typeof IdentityMaterial>;

/** Normalizes a raw runtime config (from inspect or a config blob); throws a ZodError on a wrong shape. */
export function normalizeRuntimeConfig(raw: unknown): RuntimeConfig {
  const c = RuntimeConfigInput.parse(raw ?? {});
  return {
    User: c.User,
    Entrypoint: c.Entrypoint,
    Cmd: c.Cmd,
    Env: c.Env,
    WorkingDir: c.WorkingDir,
    ExposedPorts: c.ExposedPorts,
    Volumes: c.Volumes,
  };
}

/** OCI ChainID: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainId(diffIds: readonly string[]): string {
  let chain = '';
  for (const diffId of diffIds) {
    chain = chain === '' ? diffId : `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}`;
  }
  return chain;
}

export function identityMaterial(diffIds: readonly string[], rawConfig: unknown): IdentityMaterial {
  return { chainId: chainId(diffIds), layers: diffIds.length, config: normalizeRuntimeConfig(rawConfig) };
}

/** `sha256:<hex>` of the canonical JSON of the identity material. */
export function computeImageIdentity(material: IdentityMaterial): string {
  const body = canonicalJson({ v: 1, chainId: material.chainId, config: material.config });
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * One line naming what differs between the sealed identity material and the image's, e.g.
 * `User changed after sealing ("" → "1000")` or `layers changed after sealing (3 → 4 layers)`.
 */
export function describeIdentityChange(sealed: IdentityMaterial, actual: IdentityMaterial): string {
  const changes: string[] = [];
  for (const key of Object.keys(sealed.config) as (keyof RuntimeConfig)[]) {
    const a = JSON.stringify(sealed.config[key]);
    const b = JSON.stringify(actual.config[key]);
    if (a !== b) changes.push(`${key} changed after sealing (${a} → ${b})`);
  }
  if (sealed.chainId !== actual.chainId) {
    changes.push(
      sealed.layers === actual.layers
        ? `filesystem layers differ from the sealed ones (rootfs ChainID ${short(actual.chainId)} ≠ sealed ${short(sealed.chainId)})`
        : `filesystem layers differ from the sealed ones (${actual.layers} layers, sealed ${sealed.layers})`,
    );
  }
  return changes.length > 0 ? changes.join('; ') : 'identity differs from the sealed subject';
}

function short(digest: string): string {
  return digest.slice(0, 19);
}
