import { z } from 'zod';
import { Profile } from '../profile/index.ts';
import { IdentityMaterial } from '../image/identity.ts';
import { CycloneDxBomPredicate, CYCLONEDX_PREDICATE } from './cyclonedx.ts';
import { RuntimeTracePredicate, RUNTIME_TRACE_PREDICATE } from './runtime-trace.ts';
import { ResourceDescriptor } from './statement.ts';

export { ResourceDescriptor };

/**
 * The predicates a seal holds, one zod schema each (the edge where a seal read from an image,
 * a registry or /proc/<pid>/root is validated). Ours live under https://sealwatch.dev/; the
 * others are the public in-toto / SLSA predicate types.
 */
export const PREDICATE = {
  provenance: 'https://slsa.dev/provenance/v1',
  testResult: 'https://in-toto.io/attestation/test-result/v0.1',
  vulns: 'https://in-toto.io/attestation/vulns/v0.2',
  inventory: 'https://sealwatch.dev/attestation/inventory/v1',
  profile: 'https://sealwatch.dev/attestation/profile/v1',
  sarifSummary: 'https://sealwatch.dev/attestation/sarif-summary/v1',
  manifest: 'https://sealwatch.dev/attestation/seal-manifest/v1',
  runtimeTrace: RUNTIME_TRACE_PREDICATE,
  sbom: CYCLONEDX_PREDICATE,
} as const;
export type PredicateKind = keyof typeof PREDICATE;
export type PredicateType = (typeof PREDICATE)[PredicateKind];

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');

// ---------------------------------------------------------------- SLSA Provenance v1
export const ProvenancePredicate = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: z.string(),
    externalParameters: z.record(z.string(), z.unknown()),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(ResourceDescriptor).optional(),
  }),
  runDetails: z.looseObject({
    builder: z.looseObject({ id: z.string(), version: z.record(z.string(), z.string()).optional() }),
    metadata: z
      .looseObject({
        invocationId: z.string().optional(),
        startedOn: z.string().optional(),
        finishedOn: z.string().optional(),
      })
      .optional(),
    byproducts: z.array(ResourceDescriptor).optional(),
  }),
});
export type ProvenancePredicate = z.infer<typeof ProvenancePredicate>;

// ---------------------------------------------------------------- in-toto test-result v0.1
export const TestSuiteSummary = z.object({
  name: z.string(),
  tests: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errored: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  durationSeconds: z.number().nonnegative(),
  security: z.boolean().describe('matched --security-suite'),
});
export type TestSuiteSummary = z.infer<typeof TestSuiteSummary>;

export const TestResultPredicate = z.looseObject({
  result: z.enum(['PASSED', 'WARNED', 'FAILED']),
  configuration: z.array(ResourceDescriptor).describe('the report file(s), with their sha256'),
  url: z.string().optional(),
  passedTests: z.array(z.string()),
  warnedTests: z.array(z.string()),
  failedTests: z.array(z.string()),
  /** Our extension: per-suite counts (skipped and errored are not in the public predicate). */
  suites: z.array(TestSuiteSummary),
});
export type TestResultPredicate = z.infer<typeof TestResultPredicate>;

// ---------------------------------------------------------------- in-toto vulns v0.2
export const VulnSeverityLabel = z.enum(['unknown', 'low', 'medium', 'high', 'critical']);
export type VulnSeverityLabel = z.infer<typeof VulnSeverityLabel>;
export const VulnResult = z.looseObject({
  id: z.string(),
  severity: z.array(z.object({ method: z.string(), score: z.string() })),
  annotations: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type VulnResult = z.infer<typeof VulnResult>;
export const VulnsPredicate = z.looseObject({
  scanner: z.looseObject({
    uri: z.string(),
    version: z.string(),
    db: z
      .looseObject({ uri: z.string().optional(), version: z.string().optional(), lastUpdate: z.string().optional() })
      .optional(),
    result: z.array(VulnResult),
  }),
  metadata: z.looseObject({ scanStartedOn: z.string().optional(), scanFinishedOn: z.string().optional() }),
  /** Our extension: counts by severity label and the report's digest. */
  summary: z.object({
    report: ResourceDescriptor,
    counts: z.record(VulnSeverityLabel, z.number().int().nonnegative()),
  }),
});
export type VulnsPredicate = z.infer<typeof VulnsPredicate>;

// ---------------------------------------------------------------- SARIF summary (ours)
export const SarifSummaryPredicate = z.object({
  report: ResourceDescriptor,
  tool: z.object({ name: z.string(), version: z.string().optional() }),
  runs: z.number().int().nonnegative(),
  results: z.object({
    error: z.number().int().nonnegative(),
    warning: z.number().int().nonnegative(),
    note: z.number().int().nonnegative(),
    none: z.number().int().nonnegative(),
  }),
  rules: z.array(z.object({ id: z.string(), level: z.string(), count: z.number().int().positive() })),
});
export type SarifSummaryPredicate = z.infer<typeof SarifSummaryPredicate>;

// ---------------------------------------------------------------- inventory (ours)
export const InventoryExecutable = z.object({
  path: z.string(),
  sha256: Sha256Hex,
  size: z.number().int().nonnegative(),
  mode: z.number().int().nonnegative().describe('permission bits, e.g. 0o755 as a number'),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  setuid: z.boolean(),
  setgid: z.boolean(),
});
export type InventoryExecutable = z.infer<typeof InventoryExecutable>;
export const InventoryPackage = z.object({
  manager: z.enum(['dpkg', 'apk']),
  name: z.string(),
  version: z.string(),
  arch: z.string().optional(),
});
export type InventoryPackage = z.infer<typeof InventoryPackage>;
export const InventoryUser = z.object({
  name: z.string(),
  uid: z.number().int(),
  gid: z.number().int(),
  home: z.string(),
  shell: z.string(),
});
export type InventoryUser = z.infer<typeof InventoryUser>;
export const InventoryPredicate = z.object({
  files: z.number().int().nonnegative().describe('regular files in the final rootfs'),
  bytes: z.number().int().nonnegative(),
  executables: z.array(InventoryExecutable).describe('regular files with any execute bit, sorted by path'),
  symlinks: z.array(z.object({ path: z.string(), target: z.string() })).describe('symlinks to executables'),
  setuid: z.array(z.string()),
  setgid: z.array(z.string()),
  worldWritableDirs: z.array(z.string()).describe('directories writable by anyone (sticky ones included)'),
  packages: z.array(InventoryPackage),
  users: z.array(InventoryUser),
});
export type InventoryPredicate = z.infer<typeof InventoryPredicate>;

// ---------------------------------------------------------------- profile (ours)
export const ProfilePredicate = z.object({
  sources: z.array(z.enum(['declared', 'learned'])),
  profile: Profile,
});
export type ProfilePredicate = z.infer<typeof ProfilePredicate>;

// ---------------------------------------------------------------- seal manifest (ours)
export const ManifestPredicate = z.object({
  statements: z
    .array(z.object({ predicateType: z.string(), digest: z.object({ sha256: Sha256Hex }) }))
    .describe('sha256 of the exact payload bytes of every other statement in the seal'),
  image: IdentityMaterial.describe('what the identity digest was computed from'),
  baseImage: z.string().optional(),
  sealedAt: z.string(),
  tool: z.object({ name: z.literal('sealwatch'), version: z.string() }),
});
export type ManifestPredicate = z.infer<typeof ManifestPredicate>;

/** Predicate type URI → schema; `satisfies` makes a missing kind a compile error. */
export const PREDICATE_SCHEMAS = {
  provenance: ProvenancePredicate,
  testResult: TestResultPredicate,
  vulns: VulnsPredicate,
  inventory: InventoryPredicate,
  profile: ProfilePredicate,
  sarifSummary: SarifSummaryPredicate,
  manifest: ManifestPredicate,
  runtimeTrace: RuntimeTracePredicate,
  sbom: CycloneDxBomPredicate,
} satisfies Record<PredicateKind, z.ZodType>;

export function predicateKind(type: string): PredicateKind | undefined {
  return (Object.keys(PREDICATE) as PredicateKind[]).find((k) => PREDICATE[k] === type);
}
