import type { Event } from '../../shared/events/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import type { SeverityScore } from '../../shared/severity/index.ts';
import type { Conditions } from './conditions.ts';

/**
 * One rule: metadata (id, name, severity, description, exceptions; rendered into docs/rules.md)
 * plus a pure check over a normalized event. A check returns the alert message, or undefined.
 */
export type RuleSet = 'builtin' | 'profile' | 'custom';

export interface RuleException {
  description: string;
  match: Conditions;
}

export interface RuleMeta {
  id: string;
  name: string;
  description: string;
  severity: SeverityScore;
  category: string;
  ruleset: RuleSet;
  /** event.action values the rule looks at */
  on: readonly string[];
  exceptions: readonly RuleException[];
  /**
   * A built-in rule that judges only which program runs (a network tool, a package manager, a remote copy tool):
   * a profile entry matching the event's process allows that program, so the rule is quiet for it. Rules about
   * how a program behaves (a reverse shell, a privilege change, a deleted executable, a dropped payload) always
   * fire, whatever the profile lists.
   */
  allowedByProfile?: boolean;
}

export interface RuleContext {
  profile?: Profile;
  /** executables of the sealed inventory: path → sha256 */
  inventory?: ReadonlyMap<string, string>;
  /** egress host names resolved to addresses (refreshed by the watcher) */
  resolvedHosts?: ReadonlyMap<string, readonly string[]>;
}

export interface Rule {
  meta: RuleMeta;
  check(event: Event, ctx: RuleContext): string | undefined;
}

export interface Hit {
  rule: RuleMeta;
  message: string;
  event: Event;
}
