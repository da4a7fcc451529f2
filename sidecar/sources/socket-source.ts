import {
  TCP_ESTABLISHED,
  TCP_LISTEN,
  UDP_UNCONNECTED,
  type NetFamily,
  type NetProtocol,
  type NetSocket,
  type ProcFs,
  socketInode,
} from './proc/index.ts';
import type { ProcessTracker } from './process-tracker.ts';
import type { Observation, Source } from './types.ts';

/**
 * Sockets of the watched network namespace (tcp, tcp6, udp, udp6 read through one watched PID),
 * each reported once per (inode, state): listening sockets, and connections classified as
 * ingress (local port is a listening port) or egress. Polled every `intervalMs` (default 250 ms);
 * lines already decoded are recognised by inode and state and not decoded again. The owning process comes from the
 * socket-inode map kept by the process tracker; an unknown inode triggers one fd refresh.
 * The tables cost the kernel ~0.5 ms per 1,000 sockets to write out, so they are read only when the
 * namespace's socket counters (`net/sockstat`, a few hundred bytes) changed since the last read, and
 * at least every `fullEveryMs` (default 5 s) for what the counters cannot show (one socket closed and
 * another opened within one interval).
 */
const TABLES: ReadonlyArray<[NetProtocol, NetFamily]> = [
  ['tcp', 'ipv4'],
  ['tcp', 'ipv6'],
  ['udp', 'ipv4'],
  ['udp', 'ipv6'],
];

export function createSocketSource(options: {
  proc: ProcFs;
  tracker: ProcessTracker;
  anchor: () => number | 'self' | undefined;
  intervalMs?: number;
  /** read the tables at least this often even when the counters did not change (ms, default 5000) */
  fullEveryMs?: number;
  /** The watcher's own PID when it shares the namespace: its sockets (the API) are not reported. */
  selfPid?: number;
  /** Report only sockets owned by a watched process (a process tree in the host's network namespace). */
  requireOwner?: boolean;
}): Source & { readonly sockets: number } {
  const { proc, tracker } = options;
  const intervalMs = options.intervalMs ?? 250;
  const fullEveryMs = options.fullEveryMs ?? 5000;
  let last = 0;
  let lastFull = 0;
  let lastCounters: string | undefined;
  /** decoded sockets by `inode:state` (hex, as in the table), so known lines are not decoded again */
  let decoded = new Map<string, NetSocket>();
  let reported = new Set<string>();
  let count = 0;
  return {
    name: 'sockets',
    get sockets() {
      return count;
    },
    poll(nowMs) {
      if (nowMs - last < intervalMs) return [];
      last = nowMs;
      const anchor = options.anchor();
      if (anchor === undefined) return [];
      const counters = proc.sockstat?.(anchor);
      if (counters !== undefined && counters === lastCounters && nowMs - lastFull < fullEveryMs) return [];
      lastCounters = counters;
      lastFull = nowMs;
      const all: NetSocket[] = [];
      for (const [protocol, family] of TABLES) all.push(...(proc.net(anchor, protocol, family, decoded) ?? []));
      count = all.length;
      const nextDecoded = new Map<string, NetSocket>();
      for (const s of all) nextDecoded.set(`${s.inode}:${s.state.toString(16).toUpperCase().padStart(2, '0')}`, s);
      decoded = nextDecoded;
      const listening = new Set<number>();
      for (const s of all) if (isListening(s)) listening.add(s.localPort);
      const next = new Set<string>();
      const fresh: Array<{ socket: NetSocket; direction: 'listening' | 'ingress' | 'egress' }> = [];
      for (const socket of all) {
        const direction = isListening(socket)
          ? 'listening'
          : isConnected(socket)
            ? listening.has(socket.localPort)
              ? 'ingress'
              : 'egress'
            : undefined;
        if (direction === undefined || socket.inode === 0) continue;
        const key = `${socket.protocol}:${socket.inode}:${direction}`;
        next.add(key);
        if (!reported.has(key)) fresh.push({ socket, direction });
      }
      reported = next;
      let own = new Set<number>();
      if (fresh.some((f) => tracker.socketOwner(f.socket.inode) === undefined)) {
        tracker.refreshSockets();
        if (options.selfPid !== undefined) own = socketInodes(proc, options.selfPid);
      }
      const out: Observation[] = [];
      for (const { socket, direction } of fresh) {
        if (own.has(socket.inode)) continue;
        const owner = tracker.socketOwner(socket.inode);
        if (!owner && options.requireOwner) continue;
        out.push({ type: 'connection', socket, direction, process: owner });
      }
      return out;
    },
  };
}

function isListening(s: NetSocket): boolean {
  if (s.protocol === 'tcp') return s.state === TCP_LISTEN;
  return s.state === UDP_UNCONNECTED && s.remotePort === 0;
}

function isConnected(s: NetSocket): boolean {
  return s.protocol === 'tcp' ? s.state === TCP_ESTABLISHED : s.remotePort !== 0;
}

function socketInodes(proc: ProcFs, pid: number): Set<number> {
  const out = new Set<number>();
  for (const target of proc.fds(pid)?.values() ?? []) {
    const inode = socketInode(target);
    if (inode !== undefined) out.add(inode);
  }
  return out;
}
