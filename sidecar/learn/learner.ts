import type { Event } from '../../shared/events/index.ts';
import { escapeGlob, Profile } from '../../shared/profile/index.ts';
import type { RuntimeTracePredicate } from '../../shared/seal/index.ts';
import { programOf } from '../normalize/program.ts';
import { createTraceRecorder, type TraceRecorder } from './trace-recorder.ts';

/**
 * Learn mode: turns what was observed into a Profile. It reads the same normalized events the rules judge, and
 * names programs with the same module (normalize/program.ts), so what it learns is what the rules match.
 * Stable by construction: sets, sorted output, no timestamps in the body, and resource limits rounded up to a
 * power of two after the headroom factor, so the same workload learned twice gives the same file.
 */
export interface LearnOptions {
  /** multiplier on the observed p99 memory and max process count (default 2) */
  headroom?: number;
  name?: string;
  /** also record what ran and connected, for a runtime trace (`learn --runtime-trace`) */
  trace?: boolean;
}

export interface Learner {
  observe(event: Event): void;
  profile(): Profile;
  /** the runtime-trace predicate of what was observed (with `trace: true`; undefined otherwise) */
  runtimeTrace(run: Parameters<TraceRecorder['predicate']>[0]): RuntimeTracePredicate | undefined;
  /** `unlearnable`: processes not learned because their executable or name has a character no glob can say exactly */
  readonly observed: { processes: number; samples: number; unlearnable: number };
  /** what the reader of the learned profile should know (written in its header) */
  notes(): string[];
}

const LOOPBACK = /^(127\.|::1$)/;

export function createLearner(options: LearnOptions = {}): Learner {
  const headroom = options.headroom ?? 2;
  const processes = new Map<string, { exe: string; name?: string; users: Set<string> }>();
  const listen = new Set<string>();
  const egress = new Map<string, { ip: string; protocol: 'tcp' | 'udp'; ports: Set<number> }>();
  const memory: number[] = [];
  let maxProcesses = 0;
  let seen = 0;
  let unlearnable = 0;
  const recorder = options.trace ? createTraceRecorder() : undefined;
  const seeProcess = (event: Event): void => {
    const program = programOf(event);
    const details = event.sealwatch.details ?? {};
    if (!program?.exe || details.exe_deleted === true || details.exe_memfd === true) return;
    // No argv: read after it exited (or exec'd with an empty argv), so its program name is unknown; comm is no
    // substitute (busybox sh runs applets as /proc/self/exe: comm "exe"), and learning it would allow that name.
    if (!program.argvKnown) return;
    // observed values are literals, written in the profile's glob language (a program named `*` allows only `*`);
    // one that glob cannot say exactly (a backslash) is not learned: monitored, that program is reported
    const exe = escapeGlob(program.exe);
    const name = program.profileName === undefined ? undefined : escapeGlob(program.profileName);
    if (exe === undefined || (program.profileName !== undefined && name === undefined)) {
      unlearnable++;
      return;
    }
    const key = `${exe}\0${name ?? ''}`;
    let entry = processes.get(key);
    if (!entry) processes.set(key, (entry = { exe, name, users: new Set() }));
    const user = event.process?.user;
    entry.users.add(user?.name ?? user?.id ?? '?');
  };
  return {
    get observed() {
      return { processes: seen, samples: memory.length, unlearnable };
    },
    runtimeTrace: (run) => recorder?.predicate(run),
    notes: () =>
      unlearnable === 0
        ? []
        : [
            `${unlearnable} process start(s) not learned: a backslash in the executable or name, which no glob matches exactly; they alert when monitored`,
          ],
    observe(event) {
      recorder?.observe(event);
      switch (event.event.action) {
        case 'process-started':
          seen++;
          seeProcess(event);
          break;
        case 'process-uid-changed':
          seeProcess(event);
          break;
        case 'connection-listening': {
          const port = event.source?.port;
          if (port !== undefined) listen.add(`${event.network?.transport ?? 'tcp'}/${port}`);
          break;
        }
        case 'connection-opened':
        case 'connection-closed': {
          if (event.network?.direction !== 'egress') break;
          const ip = event.destination?.ip;
          const port = event.destination?.port;
          const protocol = event.network?.transport === 'udp' ? 'udp' : 'tcp';
          if (ip === undefined || port === undefined || LOOPBACK.test(ip)) break;
          const key = `${protocol}/${ip}`;
          let e = egress.get(key);
          if (!e) egress.set(key, (e = { ip, protocol, ports: new Set() }));
          e.ports.add(port);
          break;
        }
        case 'resources-sampled': {
          const count = event.sealwatch.details?.process_count;
          const rss = event.sealwatch.details?.rss_mib;
          if (typeof count === 'number' && typeof rss === 'number' && count > 0) {
            memory.push(rss);
            maxProcesses = Math.max(maxProcesses, count);
          }
          break;
        }
        default:
          break;
      }
    },
    profile() {
      const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
      const procs = [...processes.values()]
        .sort((a, b) => cmp(a.exe, b.exe) || cmp(a.name ?? '', b.name ?? ''))
        .map((p) => ({ exe: p.exe, ...(p.name ? { name: p.name } : {}), users: [...p.users].sort(cmp) }));
      const listens = [...listen]
        .map((k) => {
          const [protocol, port] = k.split('/') as ['tcp' | 'udp', string];
          return { port: Number(port), protocol };
        })
        .sort((a, b) => a.port - b.port || cmp(a.protocol, b.protocol));
      const egresses = [...egress.values()]
        .sort((a, b) => cmp(a.ip, b.ip) || cmp(a.protocol, b.protocol))
        .map((e) => ({
          cidr: `${e.ip}/${e.ip.includes(':') ? 128 : 32}`,
          ports: [...e.ports].sort((a, b) => a - b),
          protocol: e.protocol,
        }));
      const sorted = [...memory].sort((a, b) => a - b);
      const p99 = sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : 0;
      return Profile.parse({
        apiVersion: 'sealwatch.dev/v1',
        kind: 'Profile',
        metadata: { ...(options.name ? { name: options.name } : {}), source: 'learned' },
        processes: procs,
        network: { listen: listens, egress: egresses },
        resources: {
          ...(p99 > 0 ? { memoryMiB: { max: powerOfTwo(Math.max(16, p99 * headroom)) } } : {}),
          ...(maxProcesses > 0 ? { processes: { max: powerOfTwo(Math.max(4, maxProcesses * headroom)) } } : {}),
        },
      });
    },
  };
}

export function powerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
