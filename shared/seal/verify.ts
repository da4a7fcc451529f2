import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { VerificationError } from '../errors/index.ts';
import { formatIssues } from '../config/index.ts';
import { IN_TOTO_PAYLOAD_TYPE, trustedKeySet, verifyDsseBundle, type TrustedKeys } from '../signing/index.ts';
import {
  PREDICATE_SCHEMAS,
  predicateKind,
  type InventoryPredicate,
  type ManifestPredicate,
  type ProfilePredicate,
  type ProvenancePredicate,
  type SarifSummaryPredicate,
  type TestResultPredicate,
  type VulnsPredicate,
  type PredicateKind,
} from './predicates.ts';
import type { CycloneDxBomPredicate } from './cyclonedx.ts';
import type { RuntimeTracePredicate } from './runtime-trace.ts';
import { Statement, sha256Hex, type Subject } from './statement.ts';
import type { ParsedSeal, SealLine } from './parse.ts';

export interface VerifySealOptions {
  /** The keys the seal must be signed by (PEM text or KeyObjects, or an already built set). */
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys;
  /** `sha256:<hex>` the subject must equal (the identity recomputed from the image); unchecked when absent. */
  expectedIdentity?: string;
}

/** One verified statement: its predicate typed by kind, where it came from, its payload digest. */
export interface VerifiedStatement<P> {
  predicateType: string;
  predicate: P;
  /** sha256 hex of the exact signed payload. */
  digest: string;
  line: number;
}

export interface VerifiedSeal {
  /** `sha256:<hex>`: the image identity every statement is about. */
  identity: string;
  /** The subject name (the image reference given at seal time; informative only). */
  subjectName: string;
  /** Key hint of the key that signed every statement. */
  keyHint: string;
  manifest: VerifiedStatement<ManifestPredicate>;
  provenance?: VerifiedStatement<ProvenancePredicate>;
  testResults: VerifiedStatement<TestResultPredicate>[];
  vulns: VerifiedStatement<VulnsPredicate>[];
  sarif: VerifiedStatement<SarifSummaryPredicate>[];
  inventory?: VerifiedStatement<InventoryPredicate>;
  profile?: VerifiedStatement<ProfilePredicate>;
  /** in-toto runtime traces: what the image did while CI's tests ran it. */
  runtimeTraces: VerifiedStatement<RuntimeTracePredicate>[];
  /** the sealed inventory as a CycloneDX BOM (`seal --sbom`) */
  sbom?: VerifiedStatement<CycloneDxBomPredicate>;
  /** Statements with predicate types we do not know (signed and listed in the manifest). */
  other: VerifiedStatement<unknown>[];
}

function isTrustedKeys(value: VerifySealOptions['trustedKeys']): value is TrustedKeys {
  return !Array.isArray(value) && typeof value === 'object' && value !== null && 'byHint' in value;
}

/**
 * Verifies a parsed seal, offline:
 *  1. every line is a bundle (an unreadable or truncated line is BUNDLE_INVALID, naming the line);
 *  2. every bundle's DSSE signature verifies with a trusted key (UNTRUSTED_KEY, BAD_SIGNATURE);
 *  3. every payload is an in-toto Statement v1 with a known-shaped predicate (BUNDLE_INVALID);
 *  4. all statements share one subject, equal to `expectedIdentity` if given (SUBJECT_MISMATCH);
 *  5. exactly one manifest lists the digest of every other statement, no more, no fewer
 *     (STATEMENT_MISSING, STATEMENT_UNEXPECTED).
 * Throws VerificationError with one line naming the seal source and the line; returns typed statements.
 */
export function verifySeal(seal: ParsedSeal, options: VerifySealOptions): VerifiedSeal {
  const where = (line: number): string => `${seal.source} line ${line}`;
  const firstInvalid = seal.invalid[0];
  if (firstInvalid) {
    throw new VerificationError('BUNDLE_INVALID', `${where(firstInvalid.line)}: ${firstInvalid.reason}`);
  }
  if (seal.bundles.length === 0) throw new VerificationError('UNSEALED', `${seal.source}: holds no statements`);
  const trusted = isTrustedKeys(options.trustedKeys) ? options.trustedKeys : trustedKeySet(options.trustedKeys);

  const verified = seal.bundles.map((entry) => verifyLine(entry, trusted, where(entry.line)));

  const first = verified[0]!;
  for (const v of verified) {
    if (v.keyHint !== first.keyHint) {
      throw new VerificationError(
        'UNTRUSTED_KEY',
        `${where(v.line)}: signed by key ${v.keyHint}, the rest of the seal by ${first.keyHint}; a seal has one signer`,
      );
    }
    if (v.subject.digest.sha256 !== first.subject.digest.sha256) {
      throw new VerificationError(
        'SUBJECT_MISMATCH',
        `${where(v.line)}: statement is about sha256:${v.subject.digest.sha256}, the rest of the seal about sha256:${first.subject.digest.sha256}`,
      );
    }
  }
  const identity = `sha256:${first.subject.digest.sha256}`;
  if (options.expectedIdentity !== undefined && options.expectedIdentity !== identity) {
    throw new VerificationError(
      'SUBJECT_MISMATCH',
      `${seal.source}: the seal is about image ${identity}, but this image is ${options.expectedIdentity}`,
    );
  }

  const manifests = verified.filter((v) => v.kind === 'manifest');
  if (manifests.length === 0) {
    throw new VerificationError(
      'STATEMENT_MISSING',
      `${seal.source}: no seal manifest statement (a statement was removed)`,
    );
  }
  if (manifests.length > 1) {
    throw new VerificationError(
      'STATEMENT_UNEXPECTED',
      `${seal.source}: ${manifests.length} manifest statements; a seal has one`,
    );
  }
  const manifest = manifests[0]! as Verified & { predicate: ManifestPredicate };
  const listed = new Map(manifest.predicate.statements.map((s) => [s.digest.sha256, s.predicateType]));
  const present = new Set<string>();
  for (const v of verified) {
    if (v === manifest) continue;
    if (!listed.has(v.digest)) {
      throw new VerificationError(
        'STATEMENT_UNEXPECTED',
        `${where(v.line)}: ${v.predicateType} statement sha256:${v.digest.slice(0, 12)}… is not listed in the seal manifest (added after sealing)`,
      );
    }
    if (present.has(v.digest)) {
      throw new VerificationError('STATEMENT_UNEXPECTED', `${where(v.line)}: statement appears twice`);
    }
    present.add(v.digest);
  }
  for (const [digest, type] of listed) {
    if (!present.has(digest)) {
      throw new VerificationError(
        'STATEMENT_MISSING',
        `${seal.source}: the manifest lists a ${type} statement sha256:${digest.slice(0, 12)}… that is not in the seal (a statement was removed)`,
      );
    }
  }

  const pick = <K extends PredicateKind>(kind: K) =>
    verified.filter((v) => v.kind === kind).map((v) => toVerifiedStatement(v)) as VerifiedStatement<
      z.infer<(typeof PREDICATE_SCHEMAS)[K]>
    >[];
  const one = <K extends PredicateKind>(kind: K) => {
    const all = pick(kind);
    if (all.length > 1) {
      throw new VerificationError('STATEMENT_UNEXPECTED', `${where(all[1]!.line)}: a second ${kind} statement`);
    }
    return all[0];
  };
  return {
    identity,
    subjectName: first.subject.name,
    keyHint: first.keyHint,
    manifest: toVerifiedStatement(manifest) as VerifiedStatement<ManifestPredicate>,
    provenance: one('provenance'),
    testResults: pick('testResult'),
    vulns: pick('vulns'),
    sarif: pick('sarifSummary'),
    inventory: one('inventory'),
    profile: one('profile'),
    runtimeTraces: pick('runtimeTrace'),
    sbom: one('sbom'),
    other: verified.filter((v) => v.kind === undefined).map((v) => toVerifiedStatement(v)),
  };
}

interface Verified {
  line: number;
  keyHint: string;
  subject: Subject;
  predicateType: string;
  kind: PredicateKind | undefined;
  predicate: unknown;
  digest: string;
}

function toVerifiedStatement(v: Verified): VerifiedStatement<unknown> {
  return { predicateType: v.predicateType, predicate: v.predicate, digest: v.digest, line: v.line };
}

function verifyLine(entry: SealLine, trusted: TrustedKeys, where: string): Verified {
  const envelope = verifyDsseBundle(entry.bundle, trusted, where);
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VerificationError(
      'BUNDLE_INVALID',
      `${where}: payload type ${envelope.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(envelope.payload.toString('utf8'));
  } catch {
    throw new VerificationError('BUNDLE_INVALID', `${where}: the signed payload is not JSON`);
  }
  const statement = Statement.safeParse(raw);
  if (!statement.success) {
    throw new VerificationError(
      'BUNDLE_INVALID',
      `${where}: not an in-toto Statement v1 (${formatIssues(statement.error.issues, 'statement')[0] ?? 'bad shape'})`,
    );
  }
  const { subject, predicateType } = statement.data;
  if (subject.length !== 1) {
    throw new VerificationError(
      'BUNDLE_INVALID',
      `${where}: a seal statement has exactly one subject, found ${subject.length}`,
    );
  }
  const kind = predicateKind(predicateType);
  let predicate: unknown = statement.data.predicate;
  if (kind !== undefined) {
    const parsed = PREDICATE_SCHEMAS[kind].safeParse(predicate);
    if (!parsed.success) {
      throw new VerificationError(
        'BUNDLE_INVALID',
        `${where}: ${kind} predicate is invalid (${formatIssues(parsed.error.issues, 'predicate')[0] ?? 'bad shape'})`,
      );
    }
    predicate = parsed.data;
  }
  return {
    line: entry.line,
    keyHint: envelope.keyHint,
    subject: subject[0]!,
    predicateType,
    kind,
    predicate,
    digest: sha256Hex(envelope.payload),
  };
}
