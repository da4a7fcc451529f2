export { createRuleEngine, allRules } from './engine.ts';
export type { RuleEngine } from './engine.ts';
export type { Rule, RuleMeta, RuleContext, RuleException, Hit, RuleSet } from './rule.ts';
export { matchConditions, programNames, ipInCidr, globMatch, CONDITION_KEYS } from './conditions.ts';
export type { Conditions } from './conditions.ts';
export { BUILTIN_RULES } from './rules/builtin/index.ts';
export { PROFILE_RULES, processEntryMatches } from './rules/profile-rules.ts';
export { customRule } from './rules/custom-rules.ts';
