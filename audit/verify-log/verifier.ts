import { VerificationError } from '../../shared/errors/index.ts';
import { CheckpointStatement, IN_TOTO_STATEMENT, runSubject, ZERO_HASH } from '../../shared/record/index.ts';
import { verifyDsseBundle, type TrustedKeys } from '../../shared/signing/index.ts';
import { recordFromCanonicalLine, recordFromCef, recordFromJson, type RecordLine } from './record-line.ts';

/**
 * Verifies the event record (docs/outputs/record.md) from log lines, streaming: memory is bounded by
 * the number of runs and a window of out-of-order lines, not by the size of the log.
 * Each run's chain is checked link by link (`prev` = the previous event's `hash`), each JSON line's
 * hash is recomputed from its content, each checkpoint's DSSE signature is checked against the
 * trusted keys and must sign the head just before it, and the end of each run must be signed.
 */
export type ProblemKind =
  'deleted' | 'changed' | 'reordered' | 'truncated' | 'bad-checkpoint' | 'missing-checkpoint' | 'unsigned-run';

export interface Problem {
  kind: ProblemKind;
  runId?: string;
  seq?: number;
  toSeq?: number;
  file?: string;
  line?: number;
  /** One plain sentence naming the place. */
  message: string;
}

export interface RunResult {
  runId: string;
  firstSeq: number;
  lastSeq: number;
  events: number;
  /** Valid signed checkpoints. */
  checkpoints: number;
  /** seq of the last event covered by a valid checkpoint (the checkpoint event itself). */
  lastCheckpointSeq?: number;
  previousRunId?: string;
}

export interface LogVerifyResult {
  ok: boolean;
  runs: RunResult[];
  problems: Problem[];
  /** Events without chain fields (written without a record key). */
  unchained: number;
  /** Lines that are neither JSON events nor CEF (counted, not judged). */
  unreadable: number;
  /** Identical copies of an event already seen (at-least-once delivery), not a problem. */
  duplicates: number;
  /** Events shortened for their output: in place and linked, their content not verifiable. */
  contentUnverified: number;
}

export interface Place {
  file: string;
  line: number;
}

export interface LogVerifier {
  /** A parsed JSON line (the JSON.parse result, before any schema). */
  add(raw: unknown, at: Place): void;
  /** A raw text line (JSON or CEF). */
  addLine(text: string, at: Place): void;
  /** A line that is not JSON or not an event. */
  addBad(at: Place): void;
  finish(): LogVerifyResult;
}

interface Line extends RecordLine {
  at: Place;
  /** Position among all lines read, across files. */
  ord: number;
}

interface Run {
  runId: string;
  firstSeq: number;
  next: number;
  lastHash: string | undefined;
  lastSeq: number;
  lastAt: Place;
  lastOrd: number;
  events: number;
  checkpoints: number;
  coveredThrough: number | undefined;
  lastReason: string | undefined;
  interval: number | undefined;
  previousRun: RecordLine['previousRun'];
  ahead: Map<number, Line>;
  /** The last WINDOW events' hashes (a ring by seq), to tell a duplicate from a conflicting copy. */
  recent: Recent;
}

/** Out-of-order lines held while waiting for the missing ones, per run; as many recent hashes are kept. */
const WINDOW = 4096;

/** seq → hash of the last WINDOW events processed (their seqs are consecutive: one slot each). */
class Recent {
  private readonly seqs = new Float64Array(WINDOW).fill(-1);
  private readonly hashes: Array<string | undefined> = new Array<string | undefined>(WINDOW);
  set(seq: number, hash: string | undefined): void {
    this.seqs[seq % WINDOW] = seq;
    this.hashes[seq % WINDOW] = hash;
  }
  has(seq: number): boolean {
    return this.seqs[seq % WINDOW] === seq;
  }
  get(seq: number): string | undefined {
    return this.has(seq) ? this.hashes[seq % WINDOW] : undefined;
  }
}
const where = (at: Place): string => `${at.file}:${at.line}`;

export function createLogVerifier(options: { keys: TrustedKeys }): LogVerifier {
  const runs = new Map<string, Run>();
  const problems: Problem[] = [];
  const counts = { unchained: 0, unreadable: 0, duplicates: 0, contentUnverified: 0 };
  const problem = (p: Problem): void => void problems.push(p);

  const deleted = (run: Run, from: number, to: number, before: Place | undefined): void => {
    problem({
      kind: 'deleted',
      runId: run.runId,
      seq: from,
      toSeq: to,
      file: before?.file,
      line: before?.line,
      message:
        `run ${run.runId}: ${from === to ? `event seq ${from} is` : `events seq ${from}–${to} are`} missing` +
        (before === undefined ? ` at the end of the log` : ` before ${where(before)}`) +
        (from === 1 ? ' (the start of the run)' : ` (after seq ${from - 1} at ${where(run.lastAt)})`),
    });
  };

  const checkCheckpoint = (run: Run, line: Line, gapBefore: boolean): void => {
    const c = line.checkpoint!;
    const fail = (why: string): void =>
      problem({
        kind: 'bad-checkpoint',
        runId: run.runId,
        seq: line.seq,
        file: line.at.file,
        line: line.at.line,
        message: `run ${run.runId}: the checkpoint at seq ${line.seq} (${where(line.at)}) is not valid: ${why}`,
      });
    let payload: Buffer;
    try {
      payload = verifyDsseBundle(c.bundle, options.keys, `checkpoint seq ${line.seq}`).payload;
    } catch (error) {
      fail(error instanceof VerificationError ? error.message : String(error));
      return;
    }
    let statement: CheckpointStatement;
    try {
      const parsed = CheckpointStatement.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) return fail(`its statement is not an ${IN_TOTO_STATEMENT} checkpoint`);
      statement = parsed.data;
    } catch {
      return fail('its statement is not JSON');
    }
    const p = statement.predicate;
    if (p.run_id !== run.runId || statement.subject[0]!.name !== runSubject(run.runId)) {
      return fail(`it signs run ${p.run_id}, not this one`);
    }
    if (p.seq !== line.seq - 1) return fail(`it signs seq ${p.seq}, not the event before it (seq ${line.seq - 1})`);
    const head = gapBefore
      ? undefined
      : (run.lastHash ?? (line.seq === 1 ? (run.previousRun?.hash ?? ZERO_HASH) : undefined));
    if (head !== undefined && p.head !== head) {
      return fail(`the head it signs is not the hash of seq ${p.seq} in this log (an event up to it was changed)`);
    }
    if (
      statement.subject[0]!.digest.sha256 !== p.head.slice('sha256:'.length) ||
      c.head !== p.head ||
      c.seq !== p.seq
    ) {
      return fail('its event fields do not match the signed statement');
    }
    run.checkpoints++;
    run.coveredThrough = line.seq;
    run.lastReason = p.reason;
    run.interval = p.interval.events;
  };

  /** Judges a line that is next in its run's order. */
  const process = (run: Run, line: Line, gapBefore: boolean): void => {
    if (run.events === 0) {
      run.firstSeq = line.seq;
      run.previousRun = line.previousRun;
    }
    if (line.truncated) counts.contentUnverified++;
    if (line.contentHash !== undefined && line.contentHash !== line.hash) {
      problem({
        kind: 'changed',
        runId: run.runId,
        seq: line.seq,
        file: line.at.file,
        line: line.at.line,
        message: `run ${run.runId}: event seq ${line.seq} (${where(line.at)}) was changed: its content does not match its hash`,
      });
    } else if (!gapBefore) {
      const expected = line.seq === 1 ? (line.previousRun?.hash ?? ZERO_HASH) : run.lastHash;
      // CEF copies carry no prev (only each event's hash): their order and gaps come from seq.
      if (expected !== undefined && line.prev !== undefined && line.prev !== expected) {
        const before = line.seq - 1;
        problem({
          kind: 'changed',
          runId: run.runId,
          seq: before >= 1 ? before : line.seq,
          file: line.at.file,
          line: line.at.line,
          message:
            before >= 1
              ? `run ${run.runId}: event seq ${before} (${where(run.lastAt)}) was changed: seq ${line.seq} (${where(line.at)}) links to a different hash`
              : `run ${run.runId}: event seq 1 (${where(line.at)}) was changed: it does not link to the run it names`,
        });
      }
    }
    if (line.checkpoint !== undefined) checkCheckpoint(run, line, gapBefore);
    run.recent.set(line.seq, line.hash);
    run.lastHash = line.hash;
    run.lastSeq = line.seq;
    run.lastAt = line.at;
    run.lastOrd = line.ord;
    run.events++;
    run.next = line.seq + 1;
  };

  /** Processes every held line that is now next; reports the ones that came early as reordered. */
  const drain = (run: Run): void => {
    for (let held = run.ahead.get(run.next); held !== undefined; held = run.ahead.get(run.next)) {
      run.ahead.delete(held.seq);
      // Held because an earlier seq was missing; reordered only if that one turned up after it.
      if (held.ord < run.lastOrd) {
        problem({
          kind: 'reordered',
          runId: run.runId,
          seq: held.seq,
          file: held.at.file,
          line: held.at.line,
          message: `run ${run.runId}: event seq ${held.seq} (${where(held.at)}) comes before seq ${held.seq - 1} (${where(run.lastAt)})`,
        });
      }
      process(run, held, false);
    }
  };

  /** Gives up waiting for the lowest missing seq: reports the gap and goes on from the next held line. */
  const skipGap = (run: Run): void => {
    const lowest = Math.min(...run.ahead.keys());
    const held = run.ahead.get(lowest)!;
    run.ahead.delete(lowest);
    deleted(run, run.next, lowest - 1, held.at);
    process(run, held, true);
  };

  /** An identical copy of an event already seen: same hash, and content that matches it. */
  const sameCopy = (line: Line, hash: string | undefined): boolean =>
    hash === line.hash && (line.contentHash === undefined || line.contentHash === line.hash);

  const add = (line: Line): void => {
    let run = runs.get(line.runId);
    if (run === undefined) {
      // Every run starts at seq 1; a later first line waits (held) for the ones before it.
      run = {
        runId: line.runId,
        firstSeq: line.seq,
        next: 1,
        lastHash: undefined,
        lastSeq: 0,
        lastAt: line.at,
        lastOrd: line.ord,
        events: 0,
        checkpoints: 0,
        coveredThrough: undefined,
        lastReason: undefined,
        interval: undefined,
        previousRun: undefined,
        ahead: new Map(),
        recent: new Recent(),
      };
      runs.set(line.runId, run);
    }
    if (line.seq === run.next) {
      process(run, line, false);
      drain(run);
    } else if (line.seq > run.next) {
      const held = run.ahead.get(line.seq);
      if (held !== undefined) {
        if (sameCopy(line, held.hash)) counts.duplicates++;
        else conflicting(run, line);
        return;
      }
      run.ahead.set(line.seq, line);
      if (run.ahead.size > WINDOW) {
        skipGap(run);
        drain(run);
      }
    } else if (run.recent.has(line.seq)) {
      if (sameCopy(line, run.recent.get(line.seq))) counts.duplicates++;
      else conflicting(run, line);
    } else {
      problem({
        kind: 'reordered',
        runId: run.runId,
        seq: line.seq,
        file: line.at.file,
        line: line.at.line,
        message: `run ${run.runId}: event seq ${line.seq} (${where(line.at)}) comes after seq ${run.lastSeq} (${where(run.lastAt)})`,
      });
    }
  };

  const conflicting = (run: Run, line: Line): void =>
    problem({
      kind: 'changed',
      runId: run.runId,
      seq: line.seq,
      file: line.at.file,
      line: line.at.line,
      message: `run ${run.runId}: event seq ${line.seq} appears twice with different content (again at ${where(line.at)})`,
    });

  let ord = 0;
  const accept = (record: RecordLine | 'unchained' | undefined, at: Place): void => {
    if (record === undefined) counts.unreadable++;
    else if (record === 'unchained') counts.unchained++;
    else
      add({
        runId: record.runId,
        seq: record.seq,
        prev: record.prev,
        hash: record.hash,
        previousRun: record.previousRun,
        checkpoint: record.checkpoint,
        contentHash: record.contentHash,
        truncated: record.truncated,
        at,
        ord: ++ord,
        // every member named (no spread: this runs per line); a member added to RecordLine fails to compile here
      } satisfies { [K in keyof Required<Line>]: Line[K] });
  };

  return {
    add: (raw, at) => accept(recordFromJson(raw), at),
    addLine(text, at) {
      const first = text.charCodeAt(0);
      const trimmed = first === 0x7b /* { */ ? text : text.trimStart();
      if (trimmed === '') return;
      if (trimmed.startsWith('{')) {
        const fast = recordFromCanonicalLine(trimmed);
        if (fast !== undefined) {
          accept(fast, at);
          return;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(trimmed);
        } catch {
          raw = undefined;
        }
        if (raw !== undefined) {
          accept(recordFromJson(raw, trimmed), at);
          return;
        }
      }
      accept(recordFromCef(text), at);
    },
    addBad: () => void counts.unreadable++,
    finish() {
      const results: RunResult[] = [];
      for (const run of runs.values()) {
        while (run.ahead.size > 0) {
          skipGap(run);
          drain(run);
        }
        results.push({
          runId: run.runId,
          firstSeq: run.firstSeq,
          lastSeq: run.lastSeq,
          events: run.events,
          checkpoints: run.checkpoints,
          lastCheckpointSeq: run.coveredThrough,
          previousRunId: run.previousRun?.run_id,
        });
        if (run.coveredThrough === undefined) {
          problem({
            kind: 'unsigned-run',
            runId: run.runId,
            message: `run ${run.runId}: no valid signed checkpoint, so none of its ${run.events} events (seq ${run.firstSeq}–${run.lastSeq}) is verified by a signature`,
          });
          continue;
        }
        if (run.lastSeq > run.coveredThrough) {
          const from = run.coveredThrough + 1;
          problem({
            kind:
              run.interval !== undefined && run.lastSeq - run.coveredThrough > run.interval + 1
                ? 'missing-checkpoint'
                : 'truncated',
            runId: run.runId,
            seq: from,
            toSeq: run.lastSeq,
            file: run.lastAt.file,
            line: run.lastAt.line,
            message:
              `run ${run.runId}: events seq ${from}–${run.lastSeq} (up to ${where(run.lastAt)}) come after the last signed checkpoint (seq ${run.coveredThrough})` +
              (run.interval !== undefined && run.lastSeq - run.coveredThrough > run.interval + 1
                ? `, more than its interval of ${run.interval} events: a checkpoint was removed`
                : ': the log was cut after the shutdown checkpoint was removed, or the watcher was killed'),
          });
        } else if (run.lastReason !== 'shutdown') {
          problem({
            kind: 'truncated',
            runId: run.runId,
            seq: run.lastSeq,
            file: run.lastAt.file,
            line: run.lastAt.line,
            message: `run ${run.runId}: the log ends at seq ${run.lastSeq} (${where(run.lastAt)}) without the run's shutdown checkpoint: it was cut there, or the watcher was killed`,
          });
        }
      }
      // A run that names its predecessor says where that one ended.
      for (const run of runs.values()) {
        const prev = run.previousRun;
        const before = prev === undefined ? undefined : runs.get(prev.run_id);
        if (prev === undefined || before === undefined) continue;
        if (before.lastSeq < prev.seq) {
          problem({
            kind: 'truncated',
            runId: before.runId,
            seq: before.lastSeq + 1,
            toSeq: prev.seq,
            message: `run ${before.runId}: ends at seq ${before.lastSeq} in this log, but run ${run.runId} says it ended at seq ${prev.seq}: events ${before.lastSeq + 1}–${prev.seq} were removed`,
          });
        } else if (before.recent.has(prev.seq) && before.recent.get(prev.seq) !== prev.hash) {
          problem({
            kind: 'changed',
            runId: before.runId,
            seq: prev.seq,
            message: `run ${before.runId}: its event seq ${prev.seq} is not the one run ${run.runId} names as its predecessor`,
          });
        }
      }
      return { ok: problems.length === 0 && runs.size > 0, runs: results, problems, ...counts };
    },
  };
}
