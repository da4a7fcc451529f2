import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Event } from '../events/index.ts';
import { replaceFileAtomic } from '../fs/index.ts';
import type { SigningKey } from '../signing/index.ts';
import { checkpointEvent, type CheckpointPredicate } from './checkpoint.ts';
import { canonicalJson } from '../canonical/index.ts';
import { digestOf, withHashMember, ZERO_HASH } from './digest.ts';

/**
 * The canonical JSON text each event the recorder linked was hashed in (so the JSON output writes it as it was
 * hashed). Kept without the hash member until an output asks: outputs that are not JSON never need it.
 */
const CANONICAL = new WeakMap<Event, { hashed: string; hash: string; withHash?: string }>();

/** The canonical JSON of an event linked by a recorder (undefined for any other object, e.g. a shortened copy). */
export function canonicalFormOf(event: Event): string | undefined {
  const form = CANONICAL.get(event);
  if (form === undefined) return undefined;
  form.withHash ??= withHashMember(form.hashed, form.hash);
  return form.withHash;
}

/**
 * The event record: a hash chain over every event of a run, signed at checkpoints.
 * The dispatcher calls `link()` on each event after stamping run_id and seq, before fan-out, so every
 * output carries the same chain; `due()` says when a checkpoint is owed (every `every` events or
 * `seconds` seconds, and at shutdown) and `checkpoint()` makes the event to dispatch next.
 * The head (run_id, seq, hash) is kept in `stateFile` at every checkpoint and at close; the next run
 * names it in its first event (`chain.previous_run`) and its first checkpoint.
 */
export interface RecordOptions {
  key: SigningKey;
  /** Checkpoint after this many events (default 1000). */
  every?: number;
  /** …or after this many seconds with events since the last one (default 60). */
  seconds?: number;
  /** Where the head is kept across restarts (the dispatcher puts it in its spool folder). */
  stateFile?: string;
}

export const RECORD_DEFAULTS = { every: 1000, seconds: 60 } as const;

const Head = z.object({
  run_id: z.string().min(1),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
type Head = z.infer<typeof Head>;

export interface Recorder {
  /**
   * Adds `sealwatch.chain` to a stamped event (run_id and seq already set) and advances the head. The event is
   * the caller's own copy (the dispatcher's stamped one, with a `sealwatch` of its own): it is changed in place.
   */
  link(event: Event): Event;
  /** The reason a checkpoint is owed now, if one is. */
  due(atShutdown?: boolean): CheckpointPredicate['reason'] | undefined;
  /** A signed checkpoint over the current head, to be stamped and linked like any event. */
  checkpoint(reason: CheckpointPredicate['reason']): Event;
  /** Persists the head for the next run. */
  saveHead(): void;
  /** Where the state file said the previous run ended (undefined: none, or unreadable: see `stateProblem`). */
  readonly previousRun: Head | undefined;
  readonly stateProblem: string | undefined;
}

export function createRecorder(runId: string, options: RecordOptions, now: () => Date): Recorder {
  const every = options.every ?? RECORD_DEFAULTS.every;
  const seconds = options.seconds ?? RECORD_DEFAULTS.seconds;
  let stateProblem: string | undefined;
  let previousRun: Head | undefined;
  if (options.stateFile !== undefined && existsSync(options.stateFile)) {
    try {
      const parsed = Head.safeParse(JSON.parse(readFileSync(options.stateFile, 'utf8')));
      if (parsed.success) previousRun = parsed.data;
      else stateProblem = `${options.stateFile}: not a record head; the new run starts a fresh chain`;
    } catch (error) {
      stateProblem = `${options.stateFile}: unreadable (${String(error)}); the new run starts a fresh chain`;
    }
  }
  let head: Head | undefined;
  let sinceCheckpoint = 0;
  let lastCheckpointAt = now().getTime();
  let previousCheckpoint: { seq: number; head: string } | undefined;
  let shutDown = false;

  return {
    previousRun,
    stateProblem,
    link(event) {
      const seq = event.sealwatch.seq ?? 0;
      const first = head === undefined;
      const chain: { prev: string; hash: string | undefined; previous_run?: Head } = {
        prev: head?.hash ?? previousRun?.hash ?? ZERO_HASH,
        hash: undefined, // left out of the canonical form that is hashed
        ...(first && previousRun !== undefined ? { previous_run: previousRun } : {}),
      };
      event.sealwatch.chain = chain as NonNullable<Event['sealwatch']['chain']>; // hash is set just below
      const text = canonicalJson(event, { wellFormed: true });
      chain.hash = digestOf(text);
      CANONICAL.set(event, { hashed: text, hash: chain.hash });
      head = { run_id: runId, seq, hash: chain.hash };
      sinceCheckpoint++;
      return event;
    },
    due(atShutdown = false) {
      if (head === undefined) return undefined;
      // The end of a run is always signed as such, even right after a periodic checkpoint: a log
      // without its shutdown checkpoint reads as cut.
      if (atShutdown) return shutDown ? undefined : 'shutdown';
      // A checkpoint counts itself: only events since it make another one due.
      if (sinceCheckpoint === 0) return undefined;
      if (sinceCheckpoint >= every) return 'count';
      if (now().getTime() - lastCheckpointAt >= seconds * 1000) return 'time';
      return undefined;
    },
    checkpoint(reason) {
      const at = head ?? { run_id: runId, seq: 0, hash: previousRun?.hash ?? ZERO_HASH };
      const predicate: CheckpointPredicate = {
        run_id: runId,
        seq: at.seq,
        head: at.hash,
        time: now().toISOString(),
        reason,
        interval: { events: every, seconds },
        ...(previousCheckpoint === undefined ? {} : { previous_checkpoint: previousCheckpoint }),
        ...(previousRun === undefined ? {} : { previous_run: previousRun }),
      };
      previousCheckpoint = { seq: at.seq, head: at.hash };
      if (reason === 'shutdown') shutDown = true;
      // The checkpoint event itself is linked next; it starts the count of the next interval at 0.
      sinceCheckpoint = -1;
      lastCheckpointAt = now().getTime();
      return checkpointEvent(predicate, options.key, now);
    },
    saveHead() {
      if (options.stateFile === undefined || head === undefined) return;
      replaceFileAtomic(options.stateFile, `${JSON.stringify(head)}\n`, 0o600);
    },
  };
}
