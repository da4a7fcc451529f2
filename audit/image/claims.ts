import {
  PREDICATE_SCHEMAS,
  predicateKind,
  Statement,
  type InventoryPredicate,
  type CycloneDxBomPredicate,
  type ManifestPredicate,
  type ParsedSeal,
  type ProfilePredicate,
  type ProvenancePredicate,
  type RuntimeTracePredicate,
  type SarifSummaryPredicate,
  type TestResultPredicate,
  type VerifiedSeal,
  type VulnsPredicate,
} from '../../shared/seal/index.ts';

/**
 * What a seal claims, by kind, whether or not it verified. Built from a VerifiedSeal (every claim
 * verified) or, when verification failed, decoded from the DSSE payloads WITHOUT checking
 * signatures so that the audit can still show what the seal says, marked unverified.
 */
export interface SealClaims {
  identity?: string;
  subjectName?: string;
  keyHint?: string;
  manifest?: ManifestPredicate;
  provenance?: ProvenancePredicate;
  testResults: TestResultPredicate[];
  vulns: VulnsPredicate[];
  sarif: SarifSummaryPredicate[];
  inventory?: InventoryPredicate;
  profile?: ProfilePredicate;
  runtimeTraces: RuntimeTracePredicate[];
  sbom?: CycloneDxBomPredicate;
}

export function claimsFromVerified(seal: VerifiedSeal): SealClaims {
  return {
    identity: seal.identity,
    subjectName: seal.subjectName,
    keyHint: seal.keyHint,
    manifest: seal.manifest.predicate,
    ...(seal.provenance ? { provenance: seal.provenance.predicate } : {}),
    testResults: seal.testResults.map((s) => s.predicate),
    vulns: seal.vulns.map((s) => s.predicate),
    sarif: seal.sarif.map((s) => s.predicate),
    ...(seal.inventory ? { inventory: seal.inventory.predicate } : {}),
    ...(seal.profile ? { profile: seal.profile.predicate } : {}),
    runtimeTraces: seal.runtimeTraces.map((s) => s.predicate),
    ...(seal.sbom ? { sbom: seal.sbom.predicate } : {}),
  };
}

/**
 * Decodes the statements of a seal that did NOT verify (tolerant: a line that cannot be decoded or
 * whose predicate has the wrong shape is left out). Never use the result as evidence: every claim
 * built from it is shown as unverified.
 */
export function claimsUnverified(seal: ParsedSeal): SealClaims {
  const claims: SealClaims = { testResults: [], vulns: [], sarif: [], runtimeTraces: [] };
  for (const line of seal.bundles) {
    const envelope = (line.bundle as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope;
    if (typeof envelope?.payload !== 'string') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    } catch {
      continue;
    }
    const statement = Statement.safeParse(raw);
    if (!statement.success) continue;
    const subject = statement.data.subject[0];
    if (subject && claims.identity === undefined) {
      claims.identity = `sha256:${subject.digest.sha256}`;
      claims.subjectName = subject.name;
    }
    const kind = predicateKind(statement.data.predicateType);
    if (kind === undefined) continue;
    const parsed = PREDICATE_SCHEMAS[kind].safeParse(statement.data.predicate);
    if (!parsed.success) continue;
    switch (kind) {
      case 'manifest':
        claims.manifest = parsed.data as ManifestPredicate;
        break;
      case 'provenance':
        claims.provenance = parsed.data as ProvenancePredicate;
        break;
      case 'testResult':
        claims.testResults.push(parsed.data as TestResultPredicate);
        break;
      case 'vulns':
        claims.vulns.push(parsed.data as VulnsPredicate);
        break;
      case 'sarifSummary':
        claims.sarif.push(parsed.data as SarifSummaryPredicate);
        break;
      case 'inventory':
        claims.inventory = parsed.data as InventoryPredicate;
        break;
      case 'profile':
        claims.profile = parsed.data as ProfilePredicate;
        break;
      case 'runtimeTrace':
        claims.runtimeTraces.push(parsed.data as RuntimeTracePredicate);
        break;
      case 'sbom':
        claims.sbom = parsed.data as CycloneDxBomPredicate;
        break;
    }
  }
  return claims;
}
