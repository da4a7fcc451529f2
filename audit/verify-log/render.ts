import { escapeTerminal } from '../report/escape.ts';
import type { LogVerifyResult } from './verifier.ts';

const n = (v: number): string => v.toLocaleString('en-US');

/** The human report of `audit verify-log`: a verdict line, one line per run, one per problem. */
export function renderLogVerification(result: LogVerifyResult): string {
  const lines: string[] = [];
  lines.push(
    result.ok
      ? 'event record: verified'
      : result.runs.length === 0
        ? 'event record: NOT VERIFIED (no chained events in these files)'
        : `event record: NOT VERIFIED (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`,
  );
  for (const run of result.runs) {
    lines.push(
      `  run ${escapeTerminal(run.runId)}: events ${n(run.firstSeq)}–${n(run.lastSeq)}, ${n(run.checkpoints)} signed checkpoint${run.checkpoints === 1 ? '' : 's'}` +
        (run.lastCheckpointSeq === undefined ? '' : ` (last at seq ${n(run.lastCheckpointSeq)})`) +
        (run.previousRunId === undefined ? '' : `, continues run ${escapeTerminal(run.previousRunId)}`),
    );
  }
  for (const p of result.problems) lines.push(`  ${p.kind}: ${escapeTerminal(p.message)}`);
  if (result.duplicates > 0)
    lines.push(`  ${n(result.duplicates)} duplicate copies (at-least-once delivery), identical: not a problem`);
  if (result.contentUnverified > 0) {
    lines.push(
      `  ${n(result.contentUnverified)} events were shortened for their output: their place in the chain is verified, their content is not`,
    );
  }
  if (result.unchained > 0)
    lines.push(`  ${n(result.unchained)} events carry no chain fields (written without a record key)`);
  if (result.unreadable > 0) lines.push(`  ${n(result.unreadable)} lines are neither events nor CEF (skipped)`);
  return `${lines.join('\n')}\n`;
}
