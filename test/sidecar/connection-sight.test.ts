import { createSocket } from 'node:dgram';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import { allRules, createRuleEngine } from '../../sidecar/evaluate/index.ts';
import { createLearner } from '../../sidecar/learn/index.ts';
import { normalize } from '../../sidecar/normalize/index.ts';
import { createConnectionLedger } from '../../sidecar/sources/connection-ledger.ts';
import type { NetSocket } from '../../sidecar/sources/proc/index.ts';
import { createConnectionSight, type ConnectionSightOptions } from '../../sidecar/sources/sight/connection-sight.ts';
import { parseDestroyMessages } from '../../sidecar/sources/sight/sock-diag.ts';
import type { Observation } from '../../sidecar/sources/types.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * Connection sight: the kernel's socket destroy notifications, parsed with hostile input in mind, then read from the
 * real kernel for connections this test makes on loopback, and judged by the built-in and profile rules.
 */

/** One SOCK_DIAG_BY_FAMILY message as the kernel writes it (inet_diag_msg + attributes). */
function destroyMessage(m: {
  family?: number;
  local: number[];
  remote: number[];
  sport: number;
  dport: number;
  uid?: number;
  protocol?: number;
  tcpInfo?: { sent: bigint; received: bigint };
}): Buffer {
  const msg = Buffer.alloc(72);
  msg[0] = m.family ?? 2;
  msg[1] = 7;
  msg.writeUInt16BE(m.sport, 4);
  msg.writeUInt16BE(m.dport, 6);
  Buffer.from(m.local).copy(msg, 8);
  Buffer.from(m.remote).copy(msg, 24);
  msg.writeUInt32LE(m.uid ?? 0, 64);
  const attrs: Buffer[] = [];
  if (m.protocol !== undefined) {
    const a = Buffer.alloc(8);
    a.writeUInt16LE(5, 0);
    a.writeUInt16LE(10, 2);
    a[4] = m.protocol;
    attrs.push(a);
  }
  if (m.tcpInfo) {
    const a = Buffer.alloc(4 + 232);
    a.writeUInt16LE(a.length, 0);
    a.writeUInt16LE(2, 2);
    a.writeBigUInt64LE(m.tcpInfo.received, 4 + 128);
    a.writeBigUInt64LE(m.tcpInfo.sent, 4 + 200);
    attrs.push(a);
  }
  const body = Buffer.concat([msg, ...attrs]);
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + body.length, 0);
  header.writeUInt16LE(20, 4);
  return Buffer.concat([header, body]);
}

describe('destroy notifications: parsing (bounded, hostile input)', () => {
  it('reads the 4-tuple, uid, protocol and the bytes of tcp_info', () => {
    const buf = destroyMessage({
      local: [198, 51, 100, 7],
      remote: [198, 51, 100, 7],
      sport: 40000,
      dport: 5432,
      uid: 1000,
      protocol: 6,
      tcpInfo: { sent: 3n, received: 1n },
    });
    const { sockets, skipped } = parseDestroyMessages(buf);
    expect(skipped).toBe(0);
    expect(sockets).toEqual([
      {
        socket: {
          protocol: 'tcp',
          family: 'ipv4',
          localIp: '198.51.100.7',
          localPort: 40000,
          remoteIp: '198.51.100.7',
          remotePort: 5432,
          state: 7,
          uid: 1000,
          inode: 0,
        },
        bytes: { sent: 3, received: 1 },
      },
    ]);
  });

  it('an IPv6 socket with an IPv4-mapped peer is IPv4; the protocol comes from the group without the attribute', () => {
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 169, 254];
    const local = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
    const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const buf = Buffer.concat([
      destroyMessage({ family: 10, local, remote: mapped, sport: 1, dport: 80 }),
      destroyMessage({ family: 10, local: v6, remote: v6, sport: 2, dport: 443 }),
    ]);
    const { sockets } = parseDestroyMessages(buf, 0b1000 /* IPv6 UDP group */);
    expect(sockets.map((s) => [s.socket.protocol, s.socket.family, s.socket.remoteIp])).toEqual([
      ['udp', 'ipv4', '169.254.169.254'],
      ['udp', 'ipv6', '2001:db8::1'],
    ]);
  });

  it('skips and counts what does not fit: short messages, lengths past the buffer, unknown families, bad attributes', () => {
    const good = destroyMessage({ local: [127, 0, 0, 1], remote: [127, 0, 0, 1], sport: 1, dport: 2, protocol: 6 });
    const shortBody = Buffer.from(good.subarray(0, 40));
    shortBody.writeUInt32LE(40, 0);
    const unknownFamily = Buffer.from(good);
    unknownFamily[16] = 1;
    const badAttr = Buffer.from(good);
    badAttr.writeUInt16LE(200, 16 + 72); // the attribute claims more than the message holds
    const noProtocol = destroyMessage({ local: [127, 0, 0, 1], remote: [127, 0, 0, 1], sport: 1, dport: 2 });
    const overrun = Buffer.from(good);
    overrun.writeUInt32LE(0xffff, 0);
    const { sockets, skipped } = parseDestroyMessages(
      Buffer.concat([shortBody, unknownFamily, badAttr, noProtocol, good, overrun]),
    );
    expect(sockets).toHaveLength(1);
    expect(skipped).toBe(5);
    expect(parseDestroyMessages(Buffer.alloc(10)).sockets).toEqual([]);
    // random bytes, and random damage to a good message: never a throw, never more sockets than messages
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(
        Array.from({ length: Math.floor(Math.random() * 400) }, () => Math.floor(Math.random() * 256)),
      );
      expect(() => parseDestroyMessages(junk, i & 15)).not.toThrow();
      const damaged = Buffer.from(good);
      damaged[Math.floor(Math.random() * damaged.length)] = Math.floor(Math.random() * 256);
      expect(parseDestroyMessages(damaged).sockets.length).toBeLessThanOrEqual(1);
    }
    expect(parseDestroyMessages(Buffer.alloc(0))).toEqual({ sockets: [], skipped: 0 });
  });
});

describe('destroy notifications from the real kernel (connections of this test, on loopback)', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  async function listen(): Promise<number> {
    // the server answers once the client closed its side: an accepted end that closes first was not notified here
    // (docs/watch.md); the client end always is
    const server = createServer((c) => {
      c.resume();
      c.on('end', () => c.end('pong'));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  /** One short connection: sends "ping", reads "pong", closes; its local port. */
  async function shortConnection(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.end('ping'));
      let local = 0;
      c.on('connect', () => (local = c.localPort ?? 0));
      c.on('data', () => undefined);
      c.on('error', reject);
      c.on('close', () => resolve(local));
    });
  }

  function sight(extra: Partial<ConnectionSightOptions> = {}, ledger = createConnectionLedger()) {
    return {
      ledger,
      source: createConnectionSight({
        procRoot: '/proc',
        anchor: () => 'self',
        ledger,
        logger: silentLogger(),
        ...extra,
      }),
    };
  }

  it('a connection of a few milliseconds becomes connection-closed: egress with its bytes, the accepted end ingress', async () => {
    const port = await listen();
    const { ledger, source } = sight();
    try {
      source.poll(Date.now()); // opens the socket
      expect(source.stats.available).toBe(true);
      ledger.listening(new Set([port]));
      const local = await shortConnection(port);
      const seen: Extract<Observation, { type: 'connection-closed' }>[] = [];
      const mine = (o: Observation) =>
        o.type === 'connection-closed' && (o.socket.localPort === local || o.socket.remotePort === local);
      await waitFor('both ends closed', () => {
        for (const o of source.poll(Date.now())) if (mine(o)) seen.push(o as (typeof seen)[number]);
        return seen.length >= 2 ? true : undefined;
      });
      const egress = seen.find((o) => o.direction === 'egress')!;
      expect(egress.socket).toMatchObject({
        protocol: 'tcp',
        remoteIp: '127.0.0.1',
        remotePort: port,
        localPort: local,
      });
      expect(egress.socket.uid).toBe(process.getuid!());
      expect(egress.bytes).toEqual({ sent: 4, received: 5 }); // "ping"; "pong" and the FIN
      const ingress = seen.find((o) => o.direction === 'ingress')!;
      expect(ingress.socket).toMatchObject({ localPort: port, remotePort: local });
      expect(source.stats.seen).toBeGreaterThanOrEqual(2);
    } finally {
      await source.stop!();
    }
  });

  it('a connection the poller claimed is not reported again; the next one on the same ports is', async () => {
    const port = await listen();
    const { ledger, source } = sight();
    try {
      source.poll(Date.now());
      const local = await shortConnection(port);
      const tuple: NetSocket = {
        protocol: 'tcp',
        family: 'ipv4',
        localIp: '127.0.0.1',
        localPort: local,
        remoteIp: '127.0.0.1',
        remotePort: port,
        state: 1,
        uid: 0,
        inode: 1,
      };
      // claimed after it closed but before the watcher read the notification: same as a poller that saw it open
      ledger.claim(tuple, 'poller');
      const other = await shortConnection(port);
      const seen: Observation[] = [];
      await waitFor('the second connection', () => {
        seen.push(...source.poll(Date.now()));
        return seen.some((o) => o.type === 'connection-closed' && o.socket.localPort === other) ? true : undefined;
      });
      expect(seen.filter((o) => o.type === 'connection-closed' && o.socket.localPort === local)).toEqual([]);
      expect(ledger.take(tuple)).toBeUndefined(); // the claim was taken by the notification
      // one the poller holds back, waiting to learn its process: reported here at once, and the poller told so
      const third = await shortConnection(port);
      const waiting = { ...tuple, localPort: third };
      ledger.claim(waiting, 'waiting');
      await waitFor('the waiting connection', () =>
        source.poll(Date.now()).some((o) => o.type === 'connection-closed' && o.socket.localPort === third),
      );
      expect(ledger.handedOver(waiting)).toBe(true);
      expect(ledger.handedOver(waiting)).toBe(false);
    } finally {
      await source.stop!();
    }
  });

  it('a connect()ed UDP flow is one too; a bound UDP socket with no peer is not', async () => {
    const { source } = sight();
    const receiver = createSocket('udp4');
    const sender = createSocket('udp4');
    try {
      source.poll(Date.now());
      await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
      const port = receiver.address().port;
      await new Promise<void>((r) => sender.connect(port, '127.0.0.1', r));
      const local = sender.address().port;
      await new Promise<void>((r, reject) => sender.send('x', (e) => (e ? reject(e) : r())));
      await new Promise<void>((r) => sender.close(r));
      await new Promise<void>((r) => receiver.close(r));
      const seen: Observation[] = [];
      const flow = await waitFor('the UDP flow', () => {
        seen.push(...source.poll(Date.now()));
        return seen.find((o) => o.type === 'connection-closed' && o.socket.localPort === local);
      });
      expect(flow).toMatchObject({
        direction: 'egress',
        socket: { protocol: 'udp', remoteIp: '127.0.0.1', remotePort: port },
      });
      expect(flow.type === 'connection-closed' && flow.bytes).toBeUndefined(); // tcp_info is TCP's
      expect(seen.filter((o) => o.type === 'connection-closed' && o.socket.localPort === port)).toEqual([]);
    } finally {
      await source.stop!();
    }
  });

  it('more closed sockets between two ticks than the queue holds: a sight-lost observation counts them', async () => {
    const port = await listen();
    const { source } = sight({ maxPending: 1 });
    try {
      source.poll(Date.now());
      for (let i = 0; i < 3; i++) await shortConnection(port);
      const seen: Observation[] = [];
      const lost = await waitFor('the loss', () => {
        seen.push(...source.poll(Date.now()));
        return seen.find((o) => o.type === 'sight-lost');
      });
      expect(lost).toMatchObject({ type: 'sight-lost', kind: 'connections' });
      expect(lost.type === 'sight-lost' && lost.count).toBeGreaterThanOrEqual(1);
      expect(lost.type === 'sight-lost' && lost.detail).toBe('more than 1 closed sockets between two ticks');
      expect(source.stats.lost).toBeGreaterThanOrEqual(1);
      const event = normalize(lost, { mode: 'monitor' });
      expect(event.event).toMatchObject({ action: 'sight-lost', kind: 'state' });
    } finally {
      await source.stop!();
    }
  });

  it("the watcher's own connections in a shared namespace are left out", async () => {
    const port = await listen();
    const { source } = sight({ shared: true });
    try {
      source.poll(Date.now());
      const local = await shortConnection(port); // this process is "the watcher" here
      const marker = await listen();
      const { source: control } = sight();
      control.poll(Date.now());
      const controlLocal = await shortConnection(marker);
      const seen: Observation[] = [];
      await waitFor('the control connection', () => {
        seen.push(...source.poll(Date.now()));
        return control
          .poll(Date.now())
          .some((o) => o.type === 'connection-closed' && o.socket.localPort === controlLocal)
          ? true
          : undefined;
      });
      seen.push(...source.poll(Date.now()));
      expect(
        seen.filter((o) => o.type === 'connection-closed' && [local, controlLocal].includes(o.socket.localPort)),
      ).toEqual([]);
      await control.stop!();
    } finally {
      await source.stop!();
    }
  });
});

describe('rules judge a closed connection as they judge a polled one', () => {
  const closed = (remoteIp: string, remotePort: number, direction: 'egress' | 'ingress'): Observation => ({
    type: 'connection-closed',
    socket: {
      protocol: 'tcp',
      family: 'ipv4',
      localIp: direction === 'egress' ? '10.0.0.5' : remoteIp,
      localPort: direction === 'egress' ? 40000 : remotePort,
      remoteIp: direction === 'egress' ? remoteIp : '10.0.0.5',
      remotePort: direction === 'egress' ? remotePort : 40000,
      state: 7,
      uid: 1000,
      inode: 0,
    },
    direction,
    bytes: { sent: 10, received: 20 },
  });
  const profile = {
    apiVersion: 'sealwatch.dev/v1',
    kind: 'Profile',
    processes: [],
    network: { listen: [], egress: [{ cidr: '10.1.0.0/16', ports: [5432] }] },
    files: { write: [] },
    rules: { custom: [] },
  } as unknown as Profile;
  const judge = (o: Observation) =>
    createRuleEngine(allRules(profile), { profile })
      .evaluate(normalize(o, { mode: 'monitor' }))
      .map((h) => h.rule.id)
      .sort();

  it('outbound: cloud metadata, Kubernetes API, mining pool and the profile', () => {
    expect(judge(closed('169.254.169.254', 80, 'egress'))).toEqual([
      'cloud-metadata-access',
      'profile.egress-not-allowed',
    ]);
    expect(judge(closed('10.1.2.3', 6443, 'egress'))).toEqual(['kubernetes-api-access', 'profile.egress-not-allowed']);
    expect(judge(closed('10.9.9.9', 3333, 'egress'))).toEqual(['crypto-mining-pool', 'profile.egress-not-allowed']);
    expect(judge(closed('10.1.2.3', 5432, 'egress'))).toEqual([]);
  });

  it('inbound ones are not outbound connections', () => {
    expect(judge(closed('169.254.169.254', 80, 'ingress'))).toEqual([]);
    expect(judge(closed('10.9.9.9', 3333, 'ingress'))).toEqual([]);
  });

  it('learning takes an outbound closed connection as egress, not an inbound one', () => {
    const learner = createLearner();
    for (const o of [closed('10.1.2.3', 5432, 'egress'), closed('10.9.9.9', 3333, 'ingress')])
      learner.observe(normalize(o, { mode: 'learn' }));
    expect(learner.profile().network.egress).toEqual([{ cidr: '10.1.2.3/32', ports: [5432], protocol: 'tcp' }]);
  });

  it('the socket uid is named when a watched process of that uid tells its name', () => {
    const event = normalize({ ...closed('198.51.100.7', 5432, 'egress'), user: 'app' } as Observation, {
      mode: 'monitor',
    });
    expect(event.message).toMatch(/^a process of uid 1000 \(app\) \(it closed the socket/);
    expect(event.sealwatch.details?.socket_user).toBe('app');
  });

  it('the event says what the kernel told and what it did not', () => {
    const event = normalize(closed('198.51.100.7', 5432, 'egress'), { mode: 'monitor' });
    expect(event.event).toMatchObject({ action: 'connection-closed', type: ['connection', 'end'] });
    expect(event.destination).toEqual({ ip: '198.51.100.7', port: 5432 });
    expect(event.network).toEqual({ transport: 'tcp', type: 'ipv4', direction: 'egress' });
    expect(event.process).toBeUndefined();
    expect(event.sealwatch.details).toMatchObject({
      socket_uid: 1000,
      bytes_sent: 10,
      bytes_received: 20,
      process_unknown: true,
      seen_by: 'socket-destroy',
    });
    expect(event.message).toBe(
      'a process of uid 1000 (it closed the socket before the watcher saw which process held it) connected over tcp to 198.51.100.7:5432; closed, 10 bytes sent and 20 received',
    );
  });
});
