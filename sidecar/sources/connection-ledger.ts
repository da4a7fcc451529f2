import type { NetSocket } from './proc/index.ts';

/**
 * What the socket poller already did with a connection, so connection sight (sources/sight/) does not report it a
 * second time when the kernel says it closed. A closed socket has no inode any more, so a connection is known by
 * its protocol and both ends. The poller claims each connection it reports (or will report once its owner is known),
 * and the watcher's own; the destroy notification takes the claim. Claims whose notification never comes (the
 * namespace went away, a lost message) are forgotten oldest first beyond `max`.
 * A connection the poller holds back while it waits to learn its process (`waiting`) is handed to connection sight
 * when it closes first: sight reports it at once (with its bytes), and the poller, told by `handedOver`, does not.
 * It also keeps the namespace's listening ports as the poller last read them: a closed connection whose local port
 * is one of them was accepted (ingress), as the poller tells direction.
 */
export interface ConnectionLedger {
  claim(socket: NetSocket, by: Claim): void;
  /** Takes the claim on this connection, if there is one (a `waiting` one is handed over: see `handedOver`). */
  take(socket: NetSocket): Claim | undefined;
  /** Whether connection sight took over this waiting connection (asked once, by the poller). */
  handedOver(socket: NetSocket): boolean;
  /** the listening ports of the namespace, as last read (TCP and UDP) */
  listening(ports: ReadonlySet<number>): void;
  isListening(port: number): boolean;
  /** claims held (bounded by `max`) */
  readonly size: number;
}

/** `poller`: it reported the connection; `waiting`: it will, once it knows the process; `self`: the watcher's own */
export type Claim = 'poller' | 'waiting' | 'self';

type Endpoints = Pick<NetSocket, 'protocol' | 'localIp' | 'localPort' | 'remoteIp' | 'remotePort'>;

export function connectionKey(s: Endpoints): string {
  return `${s.protocol} ${s.localIp} ${s.localPort} ${s.remoteIp} ${s.remotePort}`;
}

export function createConnectionLedger(options: { max?: number } = {}): ConnectionLedger {
  const max = options.max ?? 65_536;
  const claims = new Map<string, Claim>();
  const handed = new Set<string>();
  let ports: ReadonlySet<number> = new Set();
  return {
    claim(socket, by) {
      // a listener's own end never closes as a connection
      if (socket.remotePort === 0) return;
      const key = connectionKey(socket);
      claims.delete(key);
      claims.set(key, by);
      if (claims.size > max) claims.delete(claims.keys().next().value!);
    },
    take(socket) {
      const key = connectionKey(socket);
      const by = claims.get(key);
      if (by !== undefined) claims.delete(key);
      if (by === 'waiting') {
        handed.add(key);
        if (handed.size > max) handed.delete(handed.values().next().value!);
      }
      return by;
    },
    handedOver(socket) {
      return handed.delete(connectionKey(socket));
    },
    listening(next) {
      ports = next;
    },
    isListening: (port) => ports.has(port),
    get size() {
      return claims.size;
    },
  };
}
