import type { CustomRule } from '../../../shared/profile/index.ts';
import { toSeverityScore } from '../../../shared/severity/index.ts';
import { matchConditions } from '../conditions.ts';
import type { Rule } from '../rule.ts';

/** Custom YAML rules (validated by `CustomRule` in shared/profile) turned into rules. */
const ACTIONS: Record<CustomRule['on'], readonly string[]> = {
  process: ['process-started'],
  connection: ['connection-opened', 'connection-accepted', 'connection-listening', 'connection-closed'],
  file: ['file-opened'],
};

export function customRule(def: CustomRule): Rule {
  const exceptions = def.exceptions.map((x) => ({ description: 'custom exception', match: x }));
  return {
    meta: {
      id: def.id,
      name: def.name,
      description: def.description ?? def.name,
      severity: toSeverityScore(def.severity),
      category: 'custom',
      ruleset: 'custom',
      on: ACTIONS[def.on],
      exceptions,
    },
    check: (event) => (matchConditions(def.match, event, true) ? `${def.name}: ${event.message}` : undefined),
  };
}
