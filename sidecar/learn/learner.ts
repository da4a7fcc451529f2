import { Profile } from '../../shared/profile/index.ts';
import type { Observation } from '../sources/index.ts';

/**
 * Learn mode: turns what was observed into a Profile. Stable by construction: sets, sorted
 * output, no timestamps in the body, and resource limits rounded up to a power of two after the
 * headroom factor, so the same workload learned twice gives the same file.
 */
export interface LearnOptions {
  /** multiplier on the observed p99 memory and max process count (default 2) */
  headroom?: number;
  name?: string;
}

export interface Learner {
  observe(obs: Observation): void;
  profile(): Profile;
  readonly observed: { processes: number; samples: number };
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
  const seeProcess = (p: Extract<Observation, { type: 'process-start' }>['process']): void => {
    if (!p.exe || p.exeDeleted || p.exeMemfd) return;
    // No argv: read after it exited (or exec'd with an empty argv), so its program name is unknown; comm is no
    // substitute (busybox sh runs applets as /proc/self/exe: comm "exe"), and learning it would allow that name.
    if (p.args.length === 0) return;
    const base = p.exe.slice(p.exe.lastIndexOf('/') + 1);
    // `busybox sleep 1`: the applet is argv[1]; a multi-call binary is always learned with its name
    const applet = (base === 'busybox' || base === 'toybox') && p.name === base ? p.args[1] : undefined;
    const name = applet ?? (p.name !== base ? p.name : undefined);
    const key = `${p.exe}\0${name ?? ''}`;
    let entry = processes.get(key);
    if (!entry) processes.set(key, (entry = { exe: p.exe, name, users: new Set() }));
    entry.users.add(p.user ?? String(p.euid));
  };
  return {
    get observed() {
      return { processes: seen, samples: memory.length };
    },
    observe(obs) {
      switch (obs.type) {
        case 'process-start':
          seen++;
          seeProcess(obs.process);
          break;
        case 'process-uid-change':
          seeProcess(obs.process);
          break;
        case 'connection':
          if (obs.direction === 'listening') listen.add(`${obs.socket.protocol}/${obs.socket.localPort}`);
          else if (obs.direction === 'egress' && !LOOPBACK.test(obs.socket.remoteIp)) {
            const key = `${obs.socket.protocol}/${obs.socket.remoteIp}`;
            let e = egress.get(key);
            if (!e) egress.set(key, (e = { ip: obs.socket.remoteIp, protocol: obs.socket.protocol, ports: new Set() }));
            e.ports.add(obs.socket.remotePort);
          }
          break;
        case 'resources':
          if (obs.processCount > 0) {
            memory.push(obs.rssKiB / 1024);
            maxProcesses = Math.max(maxProcesses, obs.processCount);
          }
          break;
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
