import type { Event } from '../../../shared/events/index.ts';
import type { Profile, ProfileProcess } from '../../../shared/profile/index.ts';
import { programOf } from '../../normalize/program.ts';
import { argsMatch, globMatch, ipInCidr, isOutbound, OUTBOUND_ACTIONS, remoteIp } from '../conditions.ts';
import type { Rule, RuleContext, RuleMeta } from '../rule.ts';

/**
 * Profile drift: what the workload does against what its (sealed) profile allows.
 * Processes match on the exe path glob AND, when given, the program name (busybox applets),
 * so `{exe: /bin/busybox, name: sleep}` does not allow `nc`.
 */
function profileRule(meta: Omit<RuleMeta, 'ruleset' | 'exceptions' | 'category'>, check: Rule['check']): Rule {
  return { meta: { ...meta, ruleset: 'profile', category: 'drift', exceptions: [] }, check };
}

const who = (e: Event): string => `${e.process?.name ?? '?'} (pid ${e.process?.pid ?? '?'})`;

export function processEntryMatches(entry: ProfileProcess, event: Event): boolean {
  const program = programOf(event);
  if (!program?.exe || !globMatch(entry.exe, program.exe)) return false;
  if (entry.name !== undefined && !program.nameUnknown && !program.names.some((n) => globMatch(entry.name!, n)))
    return false;
  // no argv (an exec file sight saw after the process had gone, or a process read after its exit): the arguments
  // cannot be judged, the executable and name are
  if (entry.args !== undefined && program.argvKnown && !argsMatch(entry.args, event, false)) return false;
  return true;
}

const entriesFor = (e: Event, ctx: RuleContext): ProfileProcess[] =>
  (ctx.profile?.processes ?? []).filter((entry) => processEntryMatches(entry, e));

export const exeNotAllowed = profileRule(
  {
    id: 'profile.exe-not-allowed',
    name: 'Executable not in the profile',
    description: 'A program ran that the profile does not list (path, program name and arguments are all compared).',
    severity: 8,
    on: ['process-started'],
  },
  (e, ctx) => {
    if (!ctx.profile || !e.process?.executable) return undefined;
    return entriesFor(e, ctx).length === 0
      ? `${who(e)} is not in the profile: ${e.process.executable}${e.process.name ? ` as "${e.process.name}"` : ''}`
      : undefined;
  },
);

export const userNotAllowed = profileRule(
  {
    id: 'profile.user-not-allowed',
    name: 'Program runs as a user the profile does not allow',
    description: 'The program is in the profile, but not for this user.',
    severity: 7,
    on: ['process-started', 'process-uid-changed'],
  },
  (e, ctx) => {
    const entries = entriesFor(e, ctx);
    if (entries.length === 0 || entries.some((en) => en.users === undefined)) return undefined;
    const name = e.process?.user?.name;
    const id = e.process?.user?.id;
    // An exec file sight saw after its process had gone has no user: not known, so not judged here (the exe and
    // name rules still judge it)
    if (name === undefined && id === undefined) return undefined;
    const ok = entries.some((en) => en.users!.some((u) => String(u) === name || String(u) === id));
    return ok ? undefined : `${who(e)} runs as ${name ?? id ?? '?'}, not allowed by the profile`;
  },
);

export const hashMismatch = profileRule(
  {
    id: 'profile.hash-mismatch',
    name: 'Executable differs from the profile',
    description: 'The executable matches a profile entry by path but its sha256 is different: the binary was replaced.',
    severity: 9,
    on: ['process-started'],
  },
  (e, ctx) => {
    const actual = e.process?.hash?.sha256;
    const pinned = entriesFor(e, ctx).filter((en) => en.sha256 !== undefined);
    if (!actual || pinned.length === 0 || pinned.some((en) => en.sha256 === actual)) return undefined;
    return `${who(e)}: ${e.process!.executable} has sha256 ${actual}, the profile expects ${pinned[0]!.sha256}`;
  },
);

export const notInInventory = profileRule(
  {
    id: 'profile.exe-not-in-inventory',
    name: 'Executable not in the sealed image',
    description: 'The executable is not in the sealed inventory of the image, or its hash differs from it (drift).',
    severity: 8,
    on: ['process-started'],
  },
  (e, ctx) => {
    const exe = e.process?.executable;
    if (!ctx.inventory || !exe) return undefined;
    const sealed = ctx.inventory.get(exe);
    if (sealed === undefined) return `${who(e)}: ${exe} is not in the sealed image`;
    const actual = e.process?.hash?.sha256;
    return actual && sealed !== actual
      ? `${who(e)}: ${exe} differs from the sealed image (sha256 ${actual})`
      : undefined;
  },
);

export const listenNotDeclared = profileRule(
  {
    id: 'profile.listen-not-declared',
    name: 'Listening port not declared',
    description: 'A socket listens on a port/protocol the profile does not declare.',
    severity: 7,
    on: ['connection-listening'],
  },
  (e, ctx) => {
    if (!ctx.profile) return undefined;
    const port = e.source?.port;
    const proto = e.network?.transport ?? 'tcp';
    const ok = ctx.profile.network.listen.some((l) => l.port === port && l.protocol === proto);
    return ok
      ? undefined
      : `${e.process ? who(e) : 'a process'} listens on ${proto}/${port ?? '?'}, not declared in the profile`;
  },
);

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export const egressNotAllowed = profileRule(
  {
    id: 'profile.egress-not-allowed',
    name: 'Outbound connection not allowed',
    description:
      'An outbound connection to a destination (CIDR/port, or a host name resolved at runtime) the profile does not allow. Loopback is internal to the pod and always allowed.',
    severity: 7,
    on: OUTBOUND_ACTIONS,
  },
  (e, ctx) => {
    if (!ctx.profile || !isOutbound(e)) return undefined;
    const ip = remoteIp(e);
    const port = e.destination?.port;
    if (!ip || LOOPBACK.some((c) => ipInCidr(ip, c))) return undefined;
    const proto = e.network?.transport;
    const ok = ctx.profile.network.egress.some((rule) => {
      if (rule.ports && (port === undefined || !rule.ports.includes(port))) return false;
      if (rule.protocol && rule.protocol !== proto) return false;
      if (rule.cidr) return ipInCidr(ip, rule.cidr);
      if (rule.host) return (ctx.resolvedHosts?.get(rule.host) ?? []).includes(ip);
      return false;
    });
    return ok
      ? undefined
      : `${e.process ? who(e) : 'a process'} connected to ${ip}:${port ?? '?'}, not allowed by the profile`;
  },
);

/** A resource limit of the profile, against the `resources-sampled` detail that measures it. */
function limitRule(
  meta: Pick<RuleMeta, 'id' | 'name' | 'description'>,
  limit: (profile: Profile) => number | undefined,
  detail: 'rss_mib' | 'process_count',
  say: (value: number, max: number) => string,
): Rule {
  return profileRule({ ...meta, severity: 6, on: ['resources-sampled'] }, (e, ctx) => {
    const max = ctx.profile && limit(ctx.profile);
    const value = e.sealwatch.details?.[detail];
    return max !== undefined && typeof value === 'number' && value > max ? say(value, max) : undefined;
  });
}

export const memoryExceeded = limitRule(
  {
    id: 'profile.memory-exceeded',
    name: 'Memory above the profile',
    description: 'The watched processes together use more resident memory than the profile allows.',
  },
  (profile) => profile.resources.memoryMiB?.max,
  'rss_mib',
  (rss, max) => `memory ${rss} MiB is above the profile's ${max} MiB`,
);

export const processCountExceeded = limitRule(
  {
    id: 'profile.process-count-exceeded',
    name: 'Process count above the profile',
    description: 'More processes run at once than the profile allows (fork bomb, runaway workers).',
  },
  (profile) => profile.resources.processes?.max,
  'process_count',
  (n, max) => `${n} processes, the profile allows ${max}`,
);

export const PROFILE_RULES: readonly Rule[] = [
  exeNotAllowed,
  userNotAllowed,
  hashMismatch,
  notInInventory,
  listenNotDeclared,
  egressNotAllowed,
  memoryExceeded,
  processCountExceeded,
];
