import type { Logger } from '../../shared/logging/index.ts';
import type { Event } from '../../shared/events/index.ts';
import type { RuleMeta } from './rule.ts';

/**
 * What the pipeline does when a rule throws: count it (`sealwatch_rule_errors_total{rule}`) and log it, the first
 * time for that rule and then at most once a minute with the count since, so a rule that throws on every event
 * cannot flood the log.
 */
export function ruleErrorReporter(input: {
  logger: Logger;
  count(rule: string): void;
  now?: () => number;
}): (rule: RuleMeta, error: unknown, event: Event) => void {
  const now = input.now ?? Date.now;
  const lastLogged = new Map<string, { atMs: number; since: number }>();
  return (rule, error, event) => {
    input.count(rule.id);
    const seen = lastLogged.get(rule.id);
    const t = now();
    if (seen && t - seen.atMs < 60_000) {
      seen.since++;
      return;
    }
    lastLogged.set(rule.id, { atMs: t, since: 0 });
    input.logger.error(
      `rule ${rule.id} failed on a ${event.event.action} event and was skipped for it; the other rules still judged it${
        seen && seen.since > 0 ? ` (${seen.since} more failures of this rule in the last minute)` : ''
      }`,
      { error: error instanceof Error ? error.message : String(error) },
    );
  };
}
