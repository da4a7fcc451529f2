import { BlockList, isIP } from 'node:net';
import picomatch from 'picomatch';
import type { Event } from '../../shared/events/index.ts';
import { compileArgsPattern, GLOB_OPTIONS, testArgs, type Conditions } from '../../shared/profile/index.ts';
import { programNames } from '../normalize/program.ts';

/**
 * The condition language shared by custom YAML rules and the exceptions of every rule (its keys: the strict
 * `Conditions` schema of shared/profile): every given key must hold. Globs (picomatch) for exe, name, parent and
 * path; a regular expression for args (linear time); exact user (name or uid); port; CIDR for the remote address.
 */
export type { Conditions } from '../../shared/profile/index.ts';

const globCache = new Map<string, (s: string) => boolean>();
function glob(pattern: string): (s: string) => boolean {
  let m = globCache.get(pattern);
  if (!m) {
    m = picomatch(pattern, GLOB_OPTIONS);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, m);
  }
  return m;
}

export function globMatch(pattern: string, value: string | undefined): boolean {
  return value !== undefined && glob(pattern)(value);
}

/**
 * The actions of an outbound connection: one the socket poller saw open, or one connection sight saw closed (it may
 * have lived a millisecond). A rule about where the workload connects listens on both and asks `isOutbound`.
 */
export const OUTBOUND_ACTIONS: readonly string[] = ['connection-opened', 'connection-closed'];

export function isOutbound(event: Event): boolean {
  const action = event.event.action;
  return action === 'connection-opened' || (action === 'connection-closed' && event.network?.direction === 'egress');
}

export function remoteIp(event: Event): string | undefined {
  return event.network?.direction === 'ingress' ? event.source?.ip : event.destination?.ip;
}

export function eventPort(event: Event): number | undefined {
  return event.network?.direction === 'listening' ? event.source?.port : event.destination?.port;
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [addr, bits] = cidr.split('/');
  const family = isIP(addr ?? '');
  const ipFamily = isIP(ip);
  if (family === 0 || ipFamily === 0 || family !== ipFamily) return false;
  const list = new BlockList();
  list.addSubnet(addr!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, ipFamily === 4 ? 'ipv4' : 'ipv6');
}

const regexCache = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let r = regexCache.get(source);
  if (!r) {
    const compiled = compileArgsPattern(source);
    // lint refuses such a pattern; one that reached the rules anyway fails its rule, which is counted (engine.ts)
    if ('problem' in compiled) throw new Error(`args pattern: ${compiled.problem}`);
    r = compiled.regex;
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, r);
  }
  return r;
}

/**
 * A regular expression over the arguments after argv[0], joined by spaces (compiled once per pattern, linear time:
 * shared/profile/args-pattern.ts). `tooLong` answers for arguments over ARGS_INPUT_MAX_CHARS: false where the
 * pattern allows (a profile entry, an exception), true where it detects (a custom rule's match).
 */
export function argsMatch(pattern: string, event: Event, tooLong: boolean): boolean {
  return testArgs(regex(pattern), (event.process?.args ?? []).slice(1).join(' '), tooLong);
}

/**
 * Every given condition holds. `detects`: the conditions say what fires (a custom rule's match), not what is excused
 * (an exception); it decides what over-long arguments count as (argsMatch).
 */
export function matchConditions(c: Conditions, event: Event, detects = false): boolean {
  const p = event.process;
  if (c.exe !== undefined && !globMatch(c.exe, p?.executable)) return false;
  if (c.name !== undefined && !programNames(event).some((n) => globMatch(c.name!, n))) return false;
  if (c.args !== undefined && !argsMatch(c.args, event, detects)) return false;
  if (c.parent !== undefined) {
    const parent = p?.parent;
    const names = [parent?.name, parent?.executable?.slice(parent.executable.lastIndexOf('/') + 1)];
    if (!names.some((n) => globMatch(c.parent!, n))) return false;
  }
  if (c.user !== undefined) {
    const u = String(c.user);
    if (p?.user?.name !== u && p?.user?.id !== u) return false;
  }
  if (c.port !== undefined && eventPort(event) !== c.port) return false;
  if (c.cidr !== undefined) {
    const ip = remoteIp(event);
    if (ip === undefined || !ipInCidr(ip, c.cidr)) return false;
  }
  if (c.path !== undefined && !globMatch(c.path, event.file?.path)) return false;
  return true;
}

export const CONDITION_KEYS = ['exe', 'name', 'args', 'parent', 'user', 'port', 'cidr', 'path'] as const;
