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
import type { ConnectionLedger } from './connection-ledger.ts';
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
 * A new socket whose process the tracker has not read yet (it appeared after the tracker's listing in the same
 * tick) waits up to `ownerWaitMs` for it, so the event names its process; one that closes meanwhile is reported
 * then, as it was.
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
  /**
   * Report only sockets owned by a watched process: all of them (a process tree in the host's network namespace),
   * or only listening ones (`'listening'`, the pod: a listener no watched process owns belongs to another PID
   * namespace, the host's when the app uses the host network; a connection may outlive its short-lived process).
   */
  requireOwner?: boolean | 'listening';
  /** how long a new socket waits for the tracker to see its process (ms, default 1000) */
  ownerWaitMs?: number;
  /** where connection sight learns what this source reported (and the listening ports), so it does not report it again */
  ledger?: ConnectionLedger;
}): Source & { readonly sockets: number } {
  const { proc, tracker, ledger } = options;
  const intervalMs = options.intervalMs ?? 250;
  const fullEveryMs = options.fullEveryMs ?? 5000;
  const ownerWaitMs = options.ownerWaitMs ?? 1000;
  let last = 0;
  let lastFull = 0;
  let lastCounters: string | undefined;
  /** decoded sockets by `inode:state` (hex, as in the table), so known lines are not decoded again */
  let decoded = new Map<string, NetSocket>();
  let reported = new Set<string>();
  /** new sockets without a known owner yet, by key, since when */
  type Found = { socket: NetSocket; direction: 'listening' | 'ingress' | 'egress' };
  let waiting = new Map<string, Found & { sinceMs: number }>();
  let count = 0;
  const ownerRequired = (direction: Found['direction']): boolean =>
    options.requireOwner === true || (options.requireOwner === 'listening' && direction === 'listening');
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
      if (counters !== undefined && counters === lastCounters && nowMs - lastFull < fullEveryMs && waiting.size === 0)
        return [];
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
      ledger?.listening(listening);
      const next = new Set<string>();
      const fresh: Array<Found & { key: string }> = [];
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
        // a table read while it changes can list a socket twice (the kernel resumes each page where it thinks it was)
        if (next.has(key)) continue;
        next.add(key);
        if (!reported.has(key)) fresh.push({ socket, direction, key });
      }
      let own = new Set<number>();
      if (fresh.some((f) => tracker.socketOwner(f.socket.inode) === undefined)) {
        tracker.refreshSockets();
        if (options.selfPid !== undefined) own = socketInodes(proc, options.selfPid);
      }
      const out: Observation[] = [];
      const stillWaiting = new Map<string, Found & { sinceMs: number }>();
      for (const { socket, direction, key } of fresh) {
        if (own.has(socket.inode)) {
          ledger?.claim(socket, 'self');
          continue;
        }
        const owner = tracker.socketOwner(socket.inode);
        if (!owner) {
          const sinceMs = waiting.get(key)?.sinceMs ?? nowMs;
          if (nowMs - sinceMs < ownerWaitMs) {
            stillWaiting.set(key, { socket, direction, sinceMs });
            // reported later even if it closes meanwhile, unless an owner is required
            if (!ownerRequired(direction)) ledger?.claim(socket, 'waiting');
            next.delete(key);
            continue;
          }
          if (ownerRequired(direction)) continue;
        }
        ledger?.claim(socket, 'poller');
        out.push({ type: 'connection', socket, direction, process: owner });
      }
      // closed while waiting for its owner: reported as it was seen (unless connection sight reported its close)
      for (const [key, w] of waiting)
        if (!ownerRequired(w.direction) && !next.has(key) && !stillWaiting.has(key) && !ledger?.handedOver(w.socket)) {
          // reported now (it may still be closing): its destroy notification is not a second report
          ledger?.claim(w.socket, 'poller');
          out.push({ type: 'connection', socket: w.socket, direction: w.direction, process: undefined });
        }
      waiting = stillWaiting;
      reported = next;
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
