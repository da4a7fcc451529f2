import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';

/**
 * The image identity (the subject of a seal, docs/seal.md): sha256 over the canonical JSON of
 *   { v: 1, chainId: <rootfs ChainID from the layer diff_ids>, config: <runtime config> }
 * where the runtime config is every field of the image config that changes what runs: User, Entrypoint,
 * Cmd, Env, WorkingDir, ExposedPorts, Volumes, and, when set, Healthcheck (commands the engine runs in the
 * container), StopSignal, Shell and OnBuild (commands run by builds FROM the image). It is normalized so
 * `docker inspect` output and the config blob of a `docker save` archive agree (null and absent are the same;
 * port and volume maps become sorted key lists). The four later fields enter the material only when set, so
 * an image without them keeps the identity it had before they were covered, and adding one after sealing
 * changes it. Labels are excluded: adding labels does not change the identity.
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
  Healthcheck: z
    .looseObject({
      Test: StringOrList,
      Interval: z.number().nullish(),
      Timeout: z.number().nullish(),
      StartPeriod: z.number().nullish(),
      StartInterval: z.number().nullish(),
      Retries: z.number().nullish(),
    })
    .nullish(),
  StopSignal: z.string().nullish(),
  Shell: StringOrList,
  OnBuild: StringOrList,
});

/** A health check as the engine runs it: the command, and only the timings that are set. */
const HealthcheckConfig = z
  .object({
    Test: z.array(z.string()),
    Interval: z.number().optional(),
    Timeout: z.number().optional(),
    StartPeriod: z.number().optional(),
    StartInterval: z.number().optional(),
    Retries: z.number().optional(),
  })
  .strict();

export const RuntimeConfig = z
  .object({
    User: z.string(),
    Entrypoint: z.array(z.string()),
    Cmd: z.array(z.string()),
    Env: z.array(z.string()),
    WorkingDir: z.string(),
    ExposedPorts: z.array(z.string()),
    Volumes: z.array(z.string()),
    Healthcheck: HealthcheckConfig.optional(),
    StopSignal: z.string().optional(),
    Shell: z.array(z.string()).optional(),
    OnBuild: z.array(z.string()).optional(),
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
    ...(c.Healthcheck ? { Healthcheck: normalizeHealthcheck(c.Healthcheck) } : {}),
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.Shell.length > 0 ? { Shell: c.Shell } : {}),
    ...(c.OnBuild.length > 0 ? { OnBuild: c.OnBuild } : {}),
  };
}

function normalizeHealthcheck(h: {
  Test: string[];
  Interval?: number | null;
  Timeout?: number | null;
  StartPeriod?: number | null;
  StartInterval?: number | null;
  Retries?: number | null;
}): z.infer<typeof HealthcheckConfig> {
  const out: z.infer<typeof HealthcheckConfig> = { Test: h.Test };
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const v = h[key];
    if (typeof v === 'number' && v !== 0) out[key] = v;
  }
  return out;
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
  const keys = new Set([...Object.keys(sealed.config), ...Object.keys(actual.config)]) as Set<keyof RuntimeConfig>;
  for (const key of keys) {
    const a = JSON.stringify(sealed.config[key]) ?? 'none';
    const b = JSON.stringify(actual.config[key]) ?? 'none';
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
