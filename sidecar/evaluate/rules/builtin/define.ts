import type { Event } from '../../../../shared/events/index.ts';
import type { Rule, RuleContext, RuleMeta } from '../../rule.ts';

export function builtinRule(
  meta: Omit<RuleMeta, 'ruleset' | 'exceptions'> & { exceptions?: RuleMeta['exceptions'] },
  check: (event: Event, ctx: RuleContext) => string | undefined,
): Rule {
  return { meta: { ...meta, ruleset: 'builtin', exceptions: meta.exceptions ?? [] }, check };
}

export const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'hush']);
export const NETCATS = new Set(['nc', 'ncat', 'netcat', 'nc.openbsd', 'nc.traditional', 'socat']);

export function details(event: Event): Record<string, string | number | boolean> {
  return event.sealwatch.details ?? {};
}

/**
 * Who did it: name and PID; for an action seen by file sight whose process had exited before it could be read, says
 * so (`details.process` is `exited`).
 */
export const who = (event: Event): string =>
  event.process?.pid === undefined && event.sealwatch.details?.process === 'exited'
    ? `a process that exited before it could be read${event.process?.name ? ` (${event.process.name})` : ''}`
    : `${event.process?.name ?? '?'} (pid ${event.process?.pid ?? '?'})`;

export const baseName = (path: string | undefined): string | undefined =>
  path === undefined ? undefined : path.slice(path.lastIndexOf('/') + 1);
