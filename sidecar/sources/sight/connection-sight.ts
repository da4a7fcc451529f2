import dc from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import type { Logger } from '../../../shared/logging/index.ts';
import type { ConnectionLedger } from '../connection-ledger.ts';
import type { NetSocket } from '../proc/index.ts';
import type { Observation, Source } from '../types.ts';
import { openDestroyStream, type DestroyStream, type OpenInNamespace } from './destroy-socket.ts';
import { parseDestroyMessages, type ClosedSocket } from './sock-diag.ts';

/**
 * Connection sight: every TCP connection and connect()ed UDP flow of the watched network namespace, told by the
 * kernel when its socket is freed (sock-diag.ts), however short it lived. Each becomes a `connection-closed`
 * observation with its direction (ingress when its local port is one the namespace listens on, as the socket poller
 * tells it) and, for TCP, the bytes it carried; the rules about outbound connections judge it as they judge a polled
 * one. A connection the socket poller reported (or left out as the watcher's own) is not reported again (the
 * ledger). The kernel no longer knows which process held a closed socket (its inode is gone), so the observation
 * names the socket's uid, not a process: what the watcher could not see, it says.
 * Notifications arrive between ticks and wait here (at most `maxPending`; beyond that they are counted as lost and
 * reported in a `sight-lost` observation, as are those the kernel dropped when the socket's buffer was full).
 */
export interface ConnectionSightOptions {
  /** /proc, where `<anchor>/ns/net` names the watched namespace */
  procRoot: string;
  /** a PID in the watched namespace (`self`: the watcher's own); undefined while there is none (the container is down) */
  anchor: () => number | 'self' | undefined;
  ledger: ConnectionLedger;
  logger: Logger;
  /**
   * The watcher shares the namespace (the pod): its own connections (the outputs, the API's clients) are not the
   * app's, nor are name lookups to the resolvers of the watcher's `/etc/resolv.conf` (the watcher's own lookups
   * cannot be told from the app's: both are a connect()ed UDP socket to port 53 whose process the kernel does not name).
   */
  shared?: boolean;
  /** the watcher's resolver configuration (default /etc/resolv.conf) */
  resolvConf?: string;
  /** 'refused': a target in the watcher's own network namespace is not watched (the host's connections are not its) */
  ownNamespace?: 'refused';
  /** opens the socket in another namespace (the native sight addon); without it only the watcher's own namespace */
  inNamespace?: OpenInNamespace;
  maxPending?: number;
  /** the user name of a uid, where a watched process of that uid tells it */
  userOf?: (uid: number) => string | undefined;
  /** asks the loop for a tick soon after a notification (at most every `wakeEveryMs`, default 25 ms) */
  wake?: () => void;
  wakeEveryMs?: number;
}

export interface ConnectionSight extends Source {
  /** for /metrics: whether the socket is open, connections reported, notifications lost */
  readonly stats: { available: boolean; seen: number; lost: number };
}

export function createConnectionSight(options: ConnectionSightOptions): ConnectionSight {
  const { ledger, logger } = options;
  const maxPending = options.maxPending ?? 10_000;
  let stream: DestroyStream | undefined;
  let openedFor: number | 'self' | undefined;
  let failure: string | undefined;
  let pending: ClosedSocket[] = [];
  let lost = 0;
  let lostReported = 0;
  let lostWhy = '';
  const stats = { available: false, seen: 0, lost: 0 };
  const ephemeral = ephemeralPorts(options.procRoot);
  const resolvers = new Set(options.shared ? nameservers(options.resolvConf ?? '/etc/resolv.conf') : []);

  const wakeEveryMs = options.wakeEveryMs ?? 25;
  let lastWake = 0;
  let wakeTimer: NodeJS.Timeout | undefined;
  const wakeSoon = (): void => {
    const wake = options.wake;
    if (!wake || wakeTimer) return;
    const due = Math.max(0, lastWake + wakeEveryMs - Date.now());
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      lastWake = Date.now();
      wake();
    }, due);
    wakeTimer.unref();
  };
  const loseSome = (count: number, why: string): void => {
    lost += count;
    lostWhy = why;
    stats.lost = lost;
  };
  const open = (anchor: number | 'self'): void => {
    stream?.close();
    stream = undefined;
    openedFor = anchor;
    try {
      stream = openDestroyStream(
        { procRoot: options.procRoot, anchor, ownNamespace: options.ownNamespace },
        {
          onMessage(buf, groups) {
            const { sockets, skipped } = parseDestroyMessages(buf, groups);
            if (skipped > 0) loseSome(skipped, 'notifications that did not parse');
            for (const s of sockets) {
              if (pending.length >= maxPending) loseSome(1, `more than ${maxPending} closed sockets between two ticks`);
              else pending.push(s);
            }
            if (sockets.length > 0) wakeSoon();
          },
          onError(error) {
            // ENOBUFS: the kernel could not queue notifications for us; how many is not known
            loseSome(
              1,
              error.code === 'ENOBUFS' ? 'the kernel dropped notifications (receive buffer full)' : error.message,
            );
          },
        },
        options.inNamespace,
      );
      stats.available = true;
      failure = undefined;
      logger.info(`connection sight on: ${stream.how}`);
    } catch (error) {
      stats.available = false;
      const reason = error instanceof Error ? error.message : String(error);
      if (reason !== failure)
        logger.warn(`connection sight off: ${reason}; short connections are seen only by the socket poller`);
      failure = reason;
    }
  };

  // the watcher's own connections in a shared namespace, claimed as they connect or are accepted
  const ownClient = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket;
    socket?.once('connect', () => claimOwn(socket));
  };
  const ownServer = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket;
    if (socket) claimOwn(socket);
  };
  const claimOwn = (socket: Socket): void => {
    const own = nodeSocket(socket);
    if (own) ledger.claim(own, 'self');
  };
  if (options.shared) {
    dc.subscribe('net.client.socket', ownClient);
    dc.subscribe('net.server.socket', ownServer);
  }

  return {
    name: 'connection-sight',
    stats,
    poll() {
      const anchor = options.anchor();
      if (anchor !== undefined && anchor !== openedFor) open(anchor);
      const out: Observation[] = [];
      const closed = pending;
      pending = [];
      const users = new Map<number, string | undefined>();
      const userOf = (uid: number): string | undefined => {
        if (!users.has(uid)) users.set(uid, options.userOf?.(uid));
        return users.get(uid);
      };
      for (const { socket, bytes } of closed) {
        if (!isConnection(socket)) continue;
        // the poller reported it, or it is the watcher's own; one the poller still waited on is reported here
        const claim = ledger.take(socket);
        if (claim === 'poller' || claim === 'self') continue;
        if (resolvers.has(socket.remoteIp) && socket.remotePort === 53) continue;
        const direction = isAccepted(socket, ledger, ephemeral) ? 'ingress' : 'egress';
        stats.seen++;
        const user = userOf(socket.uid);
        out.push({
          type: 'connection-closed',
          socket,
          direction,
          ...(bytes ? { bytes } : {}),
          ...(user !== undefined ? { user } : {}),
        });
      }
      if (lost > lostReported) {
        out.push({ type: 'sight-lost', kind: 'connections', count: lost - lostReported, detail: lostWhy });
        lostReported = lost;
      }
      return out;
    },
    stop() {
      clearTimeout(wakeTimer);
      stream?.close();
      stream = undefined;
      stats.available = false;
      if (options.shared) {
        dc.unsubscribe('net.client.socket', ownClient);
        dc.unsubscribe('net.server.socket', ownServer);
      }
      return Promise.resolve();
    },
  };
}

/**
 * The accepted end of a connection: its local port is one the namespace listens on (as the poller last read them), or
 * (a listener the poller never saw) its peer's port is an ephemeral one and its own is not.
 */
function isAccepted(s: NetSocket, ledger: ConnectionLedger, ephemeral: readonly [number, number]): boolean {
  if (ledger.isListening(s.localPort)) return true;
  const inRange = (port: number): boolean => port >= ephemeral[0] && port <= ephemeral[1];
  return inRange(s.remotePort) && !inRange(s.localPort);
}

/** `net.ipv4.ip_local_port_range` (also IPv6's) of the watcher's namespace; the kernel's default when unreadable. */
function ephemeralPorts(procRoot: string): readonly [number, number] {
  try {
    const m = /^(\d+)\s+(\d+)/.exec(readFileSync(`${procRoot}/sys/net/ipv4/ip_local_port_range`, 'latin1'));
    if (m) return [Number(m[1]), Number(m[2])];
  } catch {
    // the default below
  }
  return [32768, 60999];
}

/** A connection has both ends: a listener, an unconnected UDP socket or a failed connect has no remote port. */
function isConnection(s: NetSocket): boolean {
  return s.remotePort !== 0 && s.localPort !== 0 && s.remoteIp !== '0.0.0.0' && s.remoteIp !== '::';
}

/** One of the watcher's own TCP sockets, as the kernel will name it (IPv4-mapped addresses as IPv4). */
function nodeSocket(socket: Socket): NetSocket | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (!localAddress || !remoteAddress || !localPort || !remotePort) return undefined;
  const plain = (ip: string): string => (ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);
  const localIp = plain(localAddress);
  return {
    protocol: 'tcp',
    family: localIp.includes(':') ? 'ipv6' : 'ipv4',
    localIp,
    localPort,
    remoteIp: plain(remoteAddress),
    remotePort,
    state: 0,
    uid: 0,
    inode: 0,
  };
}

/** The `nameserver` addresses of a resolv.conf (the watcher's own file; at most 64 KiB read, anything else ignored). */
export function nameservers(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'latin1').slice(0, 65_536);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const ip = m?.[1]?.replace(/%.*$/, '');
    if (ip && isIP(ip)) out.push(ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);
  }
  return out;
}
