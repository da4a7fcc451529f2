import { createHash } from 'node:crypto';
import { z } from 'zod';

/** in-toto Statement v1 (https://in-toto.io/Statement/v1); the predicate is checked by kind. */
/** in-toto ResourceDescriptor (the fields we use). */
export const ResourceDescriptor = z.looseObject({
  name: z.string().optional(),
  uri: z.string().optional(),
  digest: z.record(z.string(), z.string()).optional(),
  mediaType: z.string().optional(),
});
export type ResourceDescriptor = z.infer<typeof ResourceDescriptor>;

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export const Subject = z.object({
  name: z.string(),
  digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).catchall(z.string()),
});
export type Subject = z.infer<typeof Subject>;

export const Statement = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(Subject).min(1),
  predicateType: z.string().min(1),
  predicate: z.unknown(),
});
export type Statement = z.infer<typeof Statement>;

/** The subject of every statement in a seal: the image identity (sha256:<hex>) and a name (the image ref). */
export function sealSubject(identity: string, name: string): Subject {
  return { name, digest: { sha256: identity.replace(/^sha256:/, '') } };
}

export function makeStatement(subject: Subject, predicateType: string, predicate: unknown): Statement {
  return { _type: STATEMENT_TYPE, subject: [subject], predicateType, predicate };
}

/** The bytes we sign (and the manifest digests): JSON of the statement, as made. */
export function statementBytes(statement: Statement): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
