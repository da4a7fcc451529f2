import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { bindConnectorMetrics, createApi, createWatchMetrics, listenApi } from '../../sidecar/api/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { createProcConnector, type ProcEvent } from '../../sidecar/sources/proc-connector/index.ts';
import {
  CN_IDX_PROC,
  CN_VAL_PROC,
  listenMessage,
  parseProcEvents,
  PROC_CN_MCAST_LISTEN,
} from '../../sidecar/sources/proc-connector/wire.ts';
import { createHashCache, createProcessTracker, treeScope } from '../../sidecar/sources/index.ts';
import { describeKernel } from '../harness/proc-connector.ts';
import { waitFor } from '../harness/wait.ts';

/** One netlink datagram holding one proc_event: nlmsghdr(16) + cn_msg(20) + proc_event(16 + data). */
function datagram(what: number, data: number[], options: { idx?: number; comm?: string } = {}): Buffer {
  const eventLen = 16 + Math.max(data.length * 4, options.comm ? 24 : 0);
  const buf = Buffer.alloc(16 + 20 + eventLen);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(3, 4);
  buf.writeUInt32LE(options.idx ?? CN_IDX_PROC, 16);
  buf.writeUInt32LE(CN_VAL_PROC, 20);
  buf.writeUInt16LE(eventLen, 32);
  buf.writeUInt32LE(what, 36);
  buf.writeBigUInt64LE(123456789n, 44);
  data.forEach((v, i) => buf.writeUInt32LE(v >>> 0, 52 + 4 * i));
  if (options.comm) buf.write(options.comm, 52 + 8, 'latin1');
  return buf;
}

describe('proc connector: wire format', () => {
  it('builds the PROC_CN_MCAST_LISTEN request the kernel expects', () => {
    const msg = listenMessage(4242);
    expect(msg.length).toBe(40);
    expect(msg.readUInt32LE(0)).toBe(40);
    expect(msg.readUInt16LE(4)).toBe(3); // NLMSG_DONE
    expect(msg.readUInt32LE(12)).toBe(4242);
    expect([msg.readUInt32LE(16), msg.readUInt32LE(20)]).toEqual([CN_IDX_PROC, CN_VAL_PROC]);
    expect(msg.readUInt16LE(32)).toBe(4);
    expect(msg.readUInt32LE(36)).toBe(PROC_CN_MCAST_LISTEN);
  });

  it('parses fork, exec, uid, ptrace, comm, exit and the ack', () => {
    const events = [
      datagram(0x1, [10, 10, 11, 11]),
      datagram(0x2, [11, 11]),
      datagram(0x4, [11, 11, 1000, 0]),
      datagram(0x100, [11, 11, 12, 12]),
      datagram(0x200, [11, 11], { comm: 'evil (x)' }),
      datagram(0x80000000, [11, 11, 256, 17]),
      datagram(0x0, [0]),
    ].flatMap((d) => parseProcEvents(d).events);
    const strip = (e: ProcEvent): Record<string, unknown> => {
      const { timestampNs: _t, ...rest } = e;
      return rest;
    };
    expect(events.map(strip)).toEqual([
      { what: 'fork', parentPid: 10, parentTgid: 10, childPid: 11, childTgid: 11 },
      { what: 'exec', pid: 11, tgid: 11 },
      { what: 'uid', pid: 11, tgid: 11, real: 1000, effective: 0 },
      { what: 'ptrace', pid: 11, tgid: 11, tracerPid: 12, tracerTgid: 12 },
      { what: 'comm', pid: 11, tgid: 11, comm: 'evil (x)' },
      { what: 'exit', pid: 11, tgid: 11, exitCode: 256, exitSignal: 17 },
      { what: 'ack', code: 0 },
    ]);
    expect(events[0]!.timestampNs).toBe(123456789n);
  });

  it('parses several messages in one datagram and skips foreign or truncated records without throwing', () => {
    const two = Buffer.concat([datagram(0x2, [5, 5]), datagram(0x2, [6, 6])]);
    expect(parseProcEvents(two).events.map((e) => (e.what === 'exec' ? e.tgid : -1))).toEqual([5, 6]);
    const foreign = parseProcEvents(datagram(0x2, [5, 5], { idx: 7 }));
    expect(foreign).toEqual({ events: [], skipped: 1 });
    const truncated = datagram(0x1, [1, 1, 2, 2]).subarray(0, 50);
    expect(parseProcEvents(truncated).events).toEqual([]);
    expect(parseProcEvents(truncated).skipped).toBe(1);
    const shortExec = datagram(0x2, [5]);
    expect(parseProcEvents(shortExec)).toEqual({ events: [], skipped: 1 });
    expect(parseProcEvents(Buffer.alloc(3))).toEqual({ events: [], skipped: 0 });
  });
});

describe('proc connector: fallback', () => {
  it('falls back to plain /proc polling, with the reason, when the socket cannot be opened', async () => {
    const proc = createProcFs('/proc');
    const connector = await createProcConnector({
      proc,
      logger: silentLogger(),
      open: () => Promise.reject(new Error('EPERM: not in the initial PID namespace')),
    });
    expect(connector.mode).toBe('proc-poll');
    expect(connector.reason).toContain('EPERM: not in the initial PID namespace');
    expect(connector.view()).toBe(proc);
    connector.close();
  });

  it('/metrics says the exec source is /proc polling when the connector could not be opened', async () => {
    const connector = await createProcConnector({
      proc: createProcFs('/proc'),
      logger: silentLogger(),
      open: () => Promise.reject(new Error('EPERM')),
    });
    const metrics = createWatchMetrics();
    bindConnectorMetrics(metrics, connector);
    const text = await metrics.registry.metrics();
    expect(text).toContain('sealwatch_exec_source{source="proc-poll"} 1');
    expect(text).toContain('sealwatch_exec_source{source="proc-connector"} 0');
    expect(text).toContain('sealwatch_proc_connector_execs_total 0');
    connector.close();
  });

  it('is off when disabled by configuration', async () => {
    const connector = await createProcConnector({
      proc: createProcFs('/proc'),
      logger: silentLogger(),
      enabled: false,
    });
    expect(connector.mode).toBe('proc-poll');
    expect(connector.reason).toBe('disabled by configuration');
  });
});

await describeKernel('proc connector: the real kernel (host namespaces)', () => {
  const RUNS = 200;
  /** A shell that waits for the tracker's first look, then runs /bin/true RUNS times (1 ms each) with no other child. */
  const script = `sleep 1; i=0; while [ $i -lt ${RUNS} ]; do /bin/true; i=$((i+1)); done; sleep 0.3`;

  it('sees every exec of 1 ms /bin/true processes, and feeds them to the process tracker even when gone', async () => {
    const proc = createProcFs('/proc');
    const connector = await createProcConnector({ proc, logger: silentLogger() });
    expect(connector.mode).toBe('proc-connector');
    const children = new Set<number>();
    let shellPid = -1;
    const execs: number[] = [];
    connector.onEvent((event) => {
      if (event.what === 'fork' && event.parentTgid === shellPid && event.childPid === event.childTgid)
        children.add(event.childTgid);
      if (event.what === 'exec' && children.has(event.tgid)) execs.push(event.tgid);
    });

    // Two trackers over the same shell, ticking every 100 ms: one on the connector's view, one on plain /proc.
    const view = connector.view();
    const sh = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    shellPid = sh.pid!;
    const withConnector = createProcessTracker({
      proc: view,
      scope: treeScope(shellPid),
      hashes: createHashCache(view),
      logger: silentLogger(),
      countGaps: false,
    });
    const pollOnly = createProcessTracker({
      proc,
      scope: treeScope(shellPid),
      hashes: createHashCache(proc),
      logger: silentLogger(),
      countGaps: false,
    });
    const started = { connector: new Set<number>(), poll: new Set<number>() };
    const tick = (): void => {
      for (const o of withConnector.tick(Date.now()))
        if (o.type === 'process-start' && o.process.comm === 'true') started.connector.add(o.process.pid);
      for (const o of pollOnly.tick(Date.now()))
        if (o.type === 'process-start' && o.process.comm === 'true') started.poll.add(o.process.pid);
    };
    tick();
    const timer = setInterval(tick, 100);
    await new Promise((resolve) => sh.once('exit', resolve));
    // the socket thread's last messages may still be on their way
    await waitFor(`the kernel's ${RUNS + 2} execs`, () => execs.length >= RUNS + 2 || undefined);
    clearInterval(timer);
    tick();
    connector.close();

    // The kernel reported every one of the shell's execs: RUNS /bin/true and the two sleeps.
    expect(execs.length).toBe(RUNS + 2);
    expect(new Set(execs).size).toBe(RUNS + 2);
    // Processes the connector could read before they were reaped reached the tracker with their details;
    // the plain poller sees at most as many (usually none of these 1 ms processes).
    expect(started.connector.size).toBeGreaterThan(0);
    expect(started.connector.size).toBeGreaterThanOrEqual(started.poll.size);
    for (const pid of started.connector) expect(execs).toContain(pid);
    console.log(
      `1 ms /bin/true x${RUNS}: kernel execs seen ${execs.length}, tracker process-start via connector ${started.connector.size}, via /proc polling ${started.poll.size}; unreadable ${connector.stats.unreadable}`,
    );
  });

  it('serves its counts on /metrics: execs seen, details missed, the exec source', async () => {
    const connector = await createProcConnector({ proc: createProcFs('/proc'), logger: silentLogger() });
    const metrics = createWatchMetrics();
    bindConnectorMetrics(metrics, connector);
    const app = createApi({
      status: () => {
        throw new Error('not used');
      },
      events: () => [],
      profile: () => undefined,
      metrics,
      logger: silentLogger(),
    });
    const { server, port } = await listenApi(app, '127.0.0.1', 0);
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (text: string, series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    try {
      const before = await scrape();
      expect(before).toContain('sealwatch_exec_source{source="proc-connector"} 1');
      const execs0 = value(before, 'sealwatch_proc_connector_execs_total');
      await new Promise((resolve) =>
        spawn('/bin/sh', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done'], { stdio: 'ignore' }).once(
          'exit',
          resolve,
        ),
      );
      const after = await waitFor('the ten execs counted', async () => {
        const text = await scrape();
        return value(text, 'sealwatch_proc_connector_execs_total') - execs0 >= 10 ? text : undefined;
      });
      // at least the ten /bin/true (the host runs other programs too)
      expect(value(after, 'sealwatch_proc_connector_execs_total') - execs0).toBeGreaterThanOrEqual(10);
      // the counters as of the scrape (the host may have exec'd more since)
      expect(value(after, 'sealwatch_proc_connector_execs_total')).toBeLessThanOrEqual(connector.stats.execs);
      expect(value(after, 'sealwatch_proc_connector_details_missed_total{why="reaped"}')).toBeLessThanOrEqual(
        connector.stats.unreadable,
      );
      expect(value(after, 'sealwatch_proc_connector_details_missed_total{why="exited"}')).toBeLessThanOrEqual(
        connector.stats.partial,
      );
      expect(after).toMatch(/^sealwatch_proc_connector_errors_total 0$/m);
    } finally {
      connector.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reports a program exec'd in place in a PID the tracker already knew (exit of the old, start of the new)", async () => {
    const proc = createProcFs('/proc');
    const connector = await createProcConnector({ proc, logger: silentLogger() });
    const view = connector.view();
    // The shell is seen first; then it replaces itself with `sleep` in the same PID.
    const sh = spawn('/bin/sh', ['-c', 'sleep 1; exec sleep 1'], { stdio: 'ignore' });
    const make = (p: typeof proc) =>
      createProcessTracker({
        proc: p,
        scope: treeScope(sh.pid!),
        hashes: createHashCache(p),
        logger: silentLogger(),
        countGaps: false,
      });
    const withConnector = make(view);
    const pollOnly = make(proc);
    const seen = { connector: [] as string[], poll: [] as string[] };
    const tick = (): void => {
      for (const o of withConnector.tick(Date.now()))
        if ((o.type === 'process-start' || o.type === 'process-exit') && o.process.pid === sh.pid)
          seen.connector.push(`${o.type}:${o.process.name}:${o.process.args.join(' ')}`);
      for (const o of pollOnly.tick(Date.now()))
        if ((o.type === 'process-start' || o.type === 'process-exit') && o.process.pid === sh.pid)
          seen.poll.push(`${o.type}:${o.process.name}:${o.process.args.join(' ')}`);
    };
    tick();
    const timer = setInterval(tick, 100);
    await new Promise((resolve) => sh.once('exit', resolve));
    await waitFor('the exit of sleep', () => seen.connector.includes('process-exit:sleep:sleep 1') || undefined);
    clearInterval(timer);
    tick();
    connector.close();
    expect(seen.connector).toEqual([
      'process-start:sh:/bin/sh -c sleep 1; exec sleep 1',
      'process-exit:sh:/bin/sh -c sleep 1; exec sleep 1',
      'process-start:sleep:sleep 1',
      'process-exit:sleep:sleep 1',
    ]);
    console.log(`exec in place, /proc polling alone: ${JSON.stringify(seen.poll)}`);
  });
});
