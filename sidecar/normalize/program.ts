import type { Event } from '../../shared/events/index.ts';

/**
 * Which program a process is: the one answer used by the tracker (the name events carry), the learner (what a
 * profile lists) and the rules (what a profile entry or a built-in rule matches). A learned profile stays quiet
 * only while learning and judging agree, so they both ask here.
 *
 * - The name is argv[0]'s basename (a login shell's leading "-" removed), else comm (no argv: read after exit).
 * - A multi-call binary (busybox, toybox) run as itself is the applet it runs: `busybox sleep 1` is `sleep`;
 *   run through a link (`/bin/sleep` → busybox) argv[0] already names the applet.
 * - A profile entry names the program only where the executable's own name does not: `{exe: /bin/busybox, name:
 *   sleep}`, `{exe: /usr/bin/dash, name: sh}`; `{exe: /usr/bin/python3}` allows it under any name.
 * - Rules match a name against every name the program is known by: argv[0], comm, the executable's basename and
 *   the applet. Without argv, comm `exe` is a re-exec through /proc/self/exe (busybox sh runs applets so): the name
 *   is then unknown, and only the executable can be judged. So it is for an exec of a multi-call binary seen by file
 *   sight after the process had gone (`details.name_unknown`): "busybox ran", which applet is not known.
 */
export const MULTI_CALL = new Set(['busybox', 'toybox']);

/** The name events carry for a process (`process.name`): argv[0]'s basename, else comm. */
export function programName(args: readonly string[], comm: string): string {
  const argv0 = args[0];
  if (argv0 === undefined || argv0 === '') return comm;
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  // login shells are started as "-sh"
  const name = base.startsWith('-') ? base.slice(1) : base;
  return name === '' ? comm : name;
}

export interface Program {
  /** the executable (resolved path) */
  exe: string | undefined;
  /** the name a profile entry gives it, where the executable's basename does not say it */
  profileName: string | undefined;
  /** every name it is known by: argv[0]'s basename, comm, the executable's basename, the applet */
  names: string[];
  /** argv was read: the program's name is known (learning needs it) */
  argvKnown: boolean;
  /** the name cannot be known (no argv, and comm is that of a re-exec through /proc/self/exe): judge the exe only */
  nameUnknown: boolean;
}

const baseName = (path: string | undefined): string | undefined =>
  path === undefined ? undefined : path.slice(path.lastIndexOf('/') + 1);

/** The program of an event's process (undefined for an event without one). */
export function programOf(event: Event): Program | undefined {
  const p = event.process;
  if (!p) return undefined;
  const args = p.args ?? [];
  const comm = event.sealwatch.details?.comm;
  const exeBase = baseName(p.executable);
  const argvKnown = args.length > 0;
  const applet = p.name !== undefined && MULTI_CALL.has(p.name) && args[1] !== undefined ? args[1] : undefined;
  const names = new Set<string>();
  if (p.name) names.add(p.name);
  if (typeof comm === 'string' && comm !== '') names.add(comm);
  if (exeBase) names.add(exeBase);
  if (applet !== undefined) names.add(applet);
  return {
    exe: p.executable,
    profileName: applet ?? (p.name !== undefined && p.name !== exeBase ? p.name : undefined),
    names: [...names],
    argvKnown,
    nameUnknown: !argvKnown && (comm === 'exe' || event.sealwatch.details?.name_unknown === true),
  };
}

/** Every name the event's program is known by (for rules that match names). */
export function programNames(event: Event): string[] {
  return programOf(event)?.names ?? [];
}
