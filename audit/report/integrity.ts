import { num as n, plural } from './text.ts';

import type { LogVerifyResult, RunResult } from '../verify-log/index.ts';

/**
 * The integrity statement a report makes first: what verifying the events' hash chain and signed
 * checkpoints (audit/verify-log) found. Every format says it through `describeIntegrity`.
 */
export type IntegrityVerdict = 'verified' | 'failed' | 'not-checked';

export interface IntegrityText {
  verdict: IntegrityVerdict;
  /** The one-line statement at the top of the report. */
  headline: string;
  /** One line per run and per problem, plain text (raw: escape for the format). */
  details: string[];
}

function runLine(run: RunResult): string {
  const range =
    run.firstSeq === run.lastSeq ? `event ${n(run.firstSeq)}` : `events ${n(run.firstSeq)}–${n(run.lastSeq)}`;
  const checkpoints = plural(run.checkpoints, 'signed checkpoint');
  const after =
    run.lastCheckpointSeq !== undefined && run.lastCheckpointSeq < run.lastSeq
      ? `; ${n(run.lastSeq - run.lastCheckpointSeq)} event(s) after the last checkpoint (seq ${n(run.lastCheckpointSeq)}) are chained but not yet signed`
      : '';
  const previous = run.previousRunId !== undefined ? `, continuing run ${run.previousRunId}` : '';
  return `run ${run.runId}${previous}: ${range} verified against ${checkpoints}${after}`;
}

/** What the header says; `undefined` means the chain was not checked. */
export function describeIntegrity(result: LogVerifyResult | undefined): IntegrityText {
  if (result === undefined) {
    return {
      verdict: 'not-checked',
      headline: 'Integrity: not checked (the event chain and its signed checkpoints were not verified)',
      details: [],
    };
  }
  // One line per run, unless a single run says no more than the headline.
  const only = result.runs.length === 1 ? result.runs[0]! : undefined;
  const plain = only !== undefined && only.previousRunId === undefined && only.lastCheckpointSeq === only.lastSeq;
  const details = result.ok && plain ? [] : result.runs.map(runLine);
  if (result.unchained > 0)
    details.push(`${n(result.unchained)} event(s) carry no chain fields and cannot be verified`);
  if (result.ok) {
    const events = result.runs.reduce((sum, r) => sum + r.events, 0);
    const checkpoints = result.runs.reduce((sum, r) => sum + r.checkpoints, 0);
    const what = only
      ? `events ${n(only.firstSeq)}–${n(only.lastSeq)}`
      : `${n(events)} events in ${result.runs.length} runs`;
    return {
      verdict: 'verified',
      headline: `Integrity: VERIFIED: ${what} verified against ${plural(checkpoints, 'signed checkpoint')}`,
      details,
    };
  }
  const problems = result.problems.length;
  return {
    verdict: 'failed',
    headline:
      result.runs.length === 0
        ? 'Integrity: NOT VERIFIED: no chained events in these files'
        : `Integrity: NOT VERIFIED: ${plural(problems, 'problem')} in the event chain`,
    details: [...result.problems.map((p) => p.message), ...details],
  };
}
