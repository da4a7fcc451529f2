import { z } from 'zod';
import { createEvent, type Event, type EventCheckpoint } from '../events/index.ts';
import { signDsseBundle, type SigningKey } from '../signing/index.ts';

/** The action of a checkpoint event, and the in-toto predicate type of what it signs. */
export const CHECKPOINT_ACTION = 'sealwatch.checkpoint';
export const CHECKPOINT_PREDICATE = 'https://sealwatch.dev/attestation/event-record-checkpoint/v1';
export const IN_TOTO_STATEMENT = 'https://in-toto.io/Statement/v1';

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** What a checkpoint signs: the head (seq, hash) of one run's chain and how often checkpoints come. */
export const CheckpointPredicate = z.object({
  run_id: z.string(),
  seq: z.number().int().nonnegative(),
  head: Digest,
  time: z.string(),
  reason: z.enum(['count', 'time', 'shutdown']),
  interval: z.object({ events: z.number().int().positive(), seconds: z.number().positive() }),
  previous_checkpoint: z.object({ seq: z.number().int().nonnegative(), head: Digest }).optional(),
  previous_run: z.object({ run_id: z.string(), seq: z.number().int().positive(), hash: Digest }).optional(),
});
export type CheckpointPredicate = z.infer<typeof CheckpointPredicate>;

export const CheckpointStatement = z.object({
  _type: z.literal(IN_TOTO_STATEMENT),
  subject: z
    .array(z.object({ name: z.string(), digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) }))
    .length(1),
  predicateType: z.literal(CHECKPOINT_PREDICATE),
  predicate: CheckpointPredicate,
});
export type CheckpointStatement = z.infer<typeof CheckpointStatement>;

/** The subject name of a run's chain in a checkpoint statement. */
export const runSubject = (runId: string): string => `sealwatch-run/${runId}`;

/** Signs the head and returns the checkpoint event (not yet stamped or chained). */
export function checkpointEvent(predicate: CheckpointPredicate, key: SigningKey, now: () => Date): Event {
  const statement: CheckpointStatement = {
    _type: IN_TOTO_STATEMENT,
    subject: [{ name: runSubject(predicate.run_id), digest: { sha256: predicate.head.slice('sha256:'.length) } }],
    predicateType: CHECKPOINT_PREDICATE,
    predicate,
  };
  const bundle = signDsseBundle(Buffer.from(JSON.stringify(statement), 'utf8'), key);
  const checkpoint: EventCheckpoint = {
    seq: predicate.seq,
    head: predicate.head,
    bundle: bundle,
  };
  return createEvent(
    {
      event: {
        kind: 'state',
        category: ['configuration'],
        type: ['info'],
        action: CHECKPOINT_ACTION,
        severity: 0,
        dataset: 'sealwatch.record',
      },
      message: `event record checkpoint: events up to seq ${predicate.seq} signed (${predicate.reason})`,
      sealwatch: { checkpoint },
    },
    now,
  );
}
