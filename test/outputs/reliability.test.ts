import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { describeRsyslog, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { plainEvent } from './events.ts';
import { freePort } from '../harness/net.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The CEF seq numbers (cn1) of one run that reached the receiver. */
function seqsOf(receiver: RsyslogReceiver, runId: string): Set<number> {
  const out = new Set<number>();
  for (const m of receiver.messages()) {
    const ext = m.parsed.cef?.Extensions;
    if (ext?.flexString1 === runId) out.add(Number(ext.cn1));
  }
  return out;
}

async function waitForSeqs(
  receiver: RsyslogReceiver,
  runId: string,
  count: number,
  timeoutMs = 60_000,
): Promise<Set<number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seqs = seqsOf(receiver, runId);
    if (seqs.size >= count || Date.now() > deadline) return seqs;
    await sleep(100);
  }
}

const missing = (seqs: Set<number>, count: number): number[] =>
  Array.from({ length: count }, (_, i) => i + 1).filter((s) => !seqs.has(s));

describeRsyslog('nothing lost: a real rsyslog goes away and comes back', () => {
  const receivers: RsyslogReceiver[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.stop();
  });

  it('receiver killed (SIGKILL) and restarted mid-stream: every seq arrives', async () => {
    const receiver = await startRsyslog();
    receivers.push(receiver);
    const runId = 'kill-restart';
    const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${receiver.port}`)], {
      logger: silentLogger(),
      runId,
      spoolDir: mkdtempSync(join(tmpdir(), 'sw-spool-')),
    });
    const total = 3000;
    for (let i = 0; i < total; i++) {
      d.dispatch(plainEvent(i % 11, `event ${i}`));
      if (i % 100 === 99) await sleep(20);
      if (i === 1500) {
        await receiver.stop('SIGKILL');
        await sleep(300);
        await receiver.restart();
      }
    }
    const seqs = await waitForSeqs(receiver, runId, total);
    expect(missing(seqs, total)).toEqual([]);
    await d.close();
  });

  it('receiver down for a while under load: all arrive afterwards, memory stays bounded, the spool carries the rest', async () => {
    const receiver = await startRsyslog();
    receivers.push(receiver);
    const runId = 'outage';
    const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${receiver.port}`)], {
      logger: silentLogger(),
      runId,
      spoolDir: mkdtempSync(join(tmpdir(), 'sw-spool-')),
    });
    // 1,000 events/s for 5 s with the receiver down from 1 s to 4 s (the 30 s × 5,000/s run is in bench/).
    const total = 5000;
    let maxQueued = 0;
    let maxSpool = 0;
    for (let i = 0; i < total; i++) {
      d.dispatch(plainEvent(i % 11, `event ${i}`));
      if (i % 50 === 49) {
        await sleep(50);
        const [s] = d.stats();
        maxQueued = Math.max(maxQueued, s!.queued);
        maxSpool = Math.max(maxSpool, s!.spoolBytes);
      }
      if (i === 1000) await receiver.stop();
      if (i === 4000) void receiver.restart();
    }
    const seqs = await waitForSeqs(receiver, runId, total);
    expect(missing(seqs, total)).toEqual([]);
    expect(maxSpool).toBeGreaterThan(0);
    // ~3,000 events were produced while the receiver was down. Memory held at most the batch in flight
    // and the resend window; the rest went to the spool (10,000 is the memory bound, never reached here).
    const duringOutage = 3000;
    expect(maxQueued).toBeLessThan(duringOutage / 2);
    expect(maxQueued + maxSpool / 100).toBeGreaterThan(duringOutage / 2);
    const [s] = d.stats();
    expect(s!.dropped).toBe(0);
    await d.close();
  });

  it('producer SIGKILLed while the receiver is down: after restart, the spooled events arrive', async () => {
    const port = await freePort();
    const spoolDir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const output = `syslog+tcp://127.0.0.1:${port}`;
    const runId = 'sigkill';
    // One process (node with the tsx loader), so SIGKILL hits the producer itself, not a wrapper.
    const producer = join(import.meta.dirname, 'fixtures', 'producer.ts');
    const run = (count: string, id: string): ChildProcessByStdio<null, Readable, null> =>
      spawn(process.execPath, ['--import', 'tsx', producer, output, spoolDir, count, id], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    const first = run('500', runId);
    let out = '';
    first.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve, reject) => {
      first.stdout.on('data', () => out.includes('spooled') && resolve());
      first.once('exit', (code) => reject(new Error(`producer exited early (${code}): ${out}`)));
    });
    first.removeAllListeners('exit');
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    expect(first.signalCode).toBe('SIGKILL');
    expect(JSON.parse(out.slice(out.indexOf('[')))[0].sent).toBe(0);

    const receiver = await startRsyslog({ port });
    receivers.push(receiver);
    const second = run('0', 'second-run');
    let out2 = '';
    second.stdout.on('data', (c: Buffer) => (out2 += c.toString()));
    const code = await new Promise((r) => second.once('exit', r));
    expect(code, out2).toBe(0);
    const seqs = await waitForSeqs(receiver, runId, 500);
    expect(missing(seqs, 500)).toEqual([]);
  });
});
