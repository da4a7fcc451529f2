import type { Event } from '../../shared/events/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import { matchConditions } from './conditions.ts';
import type { Hit, Rule, RuleContext, RuleMeta } from './rule.ts';
import { BUILTIN_RULES } from './rules/builtin/index.ts';
import { customRule } from './rules/custom-rules.ts';
import { processEntryMatches, PROFILE_RULES } from './rules/profile-rules.ts';

/**
 * The evaluate stage: every enabled rule whose `on` includes the event's action checks it;
 * exceptions are applied here, once, for every rule set, and so is the profile's say over the built-in rules
 * marked `allowedByProfile` (a program the profile lists is allowed to run). Rules are indexed by action.
 * A rule that throws (its check, or one of its exceptions) costs only itself: it is reported to `onError`
 * (the pipeline counts it in /metrics and logs it), and the other rules still judge the event.
 */
export interface RuleEngine {
  readonly rules: readonly Rule[];
  evaluate(event: Event): Hit[];
}

export function allRules(profile?: Profile, extra: readonly Rule[] = []): Rule[] {
  const disabled = new Set(profile?.rules.disable ?? []);
  const custom = (profile?.rules.custom ?? []).map(customRule);
  return [...BUILTIN_RULES, ...PROFILE_RULES, ...custom, ...extra].filter((r) => !disabled.has(r.meta.id));
}

export function createRuleEngine(
  rules: readonly Rule[],
  ctx: RuleContext = {},
  onError: (rule: RuleMeta, error: unknown, event: Event) => void = () => undefined,
): RuleEngine {
  const byAction = new Map<string, Rule[]>();
  for (const rule of rules) {
    for (const action of rule.meta.on) {
      let list = byAction.get(action);
      if (!list) byAction.set(action, (list = []));
      list.push(rule);
    }
  }
  return {
    rules,
    evaluate(event) {
      const hits: Hit[] = [];
      for (const rule of byAction.get(event.event.action) ?? []) {
        let message: string | undefined;
        try {
          message = rule.check(event, ctx);
          if (message === undefined || rule.meta.exceptions.some((x) => matchConditions(x.match, event))) continue;
          if (rule.meta.allowedByProfile && profileAllows(ctx, event)) continue;
        } catch (error) {
          onError(rule.meta, error, event);
          continue;
        }
        hits.push({ rule: rule.meta, message, event });
      }
      return hits;
    },
  };
}

/** The profile lists the event's program (exe, name and arguments all match an entry). */
function profileAllows(ctx: RuleContext, event: Event): boolean {
  return ctx.profile?.processes.some((entry) => processEntryMatches(entry, event)) ?? false;
}
