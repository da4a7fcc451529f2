import { signDsseBundle, type SerializedBundle, type SigningKey } from '../signing/index.ts';
import type { IdentityMaterial } from '../image/identity.ts';
import { PREDICATE, type ManifestPredicate } from './predicates.ts';
import { formatSealJsonl } from './parse.ts';
import { makeStatement, sha256Hex, statementBytes, type Statement, type Subject } from './statement.ts';

export interface CreateSealInput {
  subject: Subject;
  /** Every statement except the manifest, all about `subject`. */
  statements: readonly Statement[];
  image: IdentityMaterial;
  baseImage?: string;
  sealedAt: string;
  toolVersion: string;
  key: SigningKey;
}

export interface CreatedSeal {
  bundles: SerializedBundle[];
  /** seal.jsonl text: the statements in order, the manifest last. */
  jsonl: string;
  manifest: ManifestPredicate;
}

/** Signs every statement, then a manifest listing their payload digests, into seal.jsonl. */
export function createSeal(input: CreateSealInput): CreatedSeal {
  const payloads = input.statements.map((s) => statementBytes(s));
  const manifest: ManifestPredicate = {
    statements: input.statements.map((s, i) => ({
      predicateType: s.predicateType,
      digest: { sha256: sha256Hex(payloads[i]!) },
    })),
    image: input.image,
    ...(input.baseImage !== undefined ? { baseImage: input.baseImage } : {}),
    sealedAt: input.sealedAt,
    tool: { name: 'sealwatch', version: input.toolVersion },
  };
  payloads.push(statementBytes(makeStatement(input.subject, PREDICATE.manifest, manifest)));
  const bundles = payloads.map((p) => signDsseBundle(p, input.key));
  return { bundles, jsonl: formatSealJsonl(bundles), manifest };
}
