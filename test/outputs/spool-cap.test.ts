import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { describeRsyslog, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { plainEvent } from './events.ts';
import { freePort } from '../harness/net.ts';
import { waitFor } from '../harness/wait.ts';

describeRsyslog('spool cap reached while the receiver is down', () => {
  let receiver: RsyslogReceiver | undefined;
  afterAll(async () => receiver?.stop());

  it('drops low severities first, never a critical one, and says so in a sealwatch.events.dropped event', async () => {
    const port = await freePort();
    const runId = 'spool-cap';
    const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${port}?format=json&spool-mb=1`)], {
      logger: silentLogger(),
      runId,
      spoolDir: mkdtempSync(join(tmpdir(), 'sw-spool-')),
    });
    const text = 'y'.repeat(1000);
    // 2,000 events of ~1.4 KB (2.8 MB) into a 1 MB spool: severities 0, 3, 3, 10 in turn (500 critical fit).
    const severities = [0, 3, 3, 10];
    for (let i = 0; i < 2000; i++) {
      d.dispatch(plainEvent(severities[i % 4], text));
      if (i % 200 === 199) await d.flush();
    }
    await d.flush();
    const [before] = d.stats();
    expect(before!.dropped).toBeGreaterThan(0);
    expect(before!.spoolBytes).toBeLessThanOrEqual(1024 * 1024);

    receiver = await startRsyslog({ port });
    const criticalSent = 500;
    const got = await receiver.waitFor(criticalSent, {
      filter: (m) => (m.parsed.json?.event as { severity?: number } | undefined)?.severity === 10,
      timeoutMs: 30_000,
    });
    const criticalSeqs = new Set(got.map((m) => (m.parsed.json!.sealwatch as { seq: number }).seq));
    expect(criticalSeqs.size).toBe(criticalSent);
    const notices = await receiver.waitFor(1, {
      filter: (m) => (m.parsed.json?.event as { action?: string } | undefined)?.action === 'sealwatch.events.dropped',
    });
    const details = notices[0]!.parsed.json!.sealwatch as { details: Record<string, number>; run_id: string };
    expect(details.run_id).toBe(runId);
    expect(details.details['dropped.critical']).toBeUndefined();
    expect(details.details['dropped.info']).toBeGreaterThan(0);
    await d.close();
  });
});

describeRsyslog('memory queue full without a spool', () => {
  let receiver: RsyslogReceiver | undefined;
  afterAll(async () => receiver?.stop());

  it('drops the oldest low-severity events first and keeps every critical one', async () => {
    const port = await freePort();
    const runId = 'memory-cap';
    const d = createDispatcher([parseOutputUrl(`syslog+tcp://127.0.0.1:${port}?format=json`)], {
      logger: silentLogger(),
      runId,
    });
    d.dispatch(plainEvent(0));
    await d.flush(); // the first delivery fails: the output is down, events wait in memory
    for (let i = 0; i < 10_500; i++) d.dispatch(plainEvent(i % 105 === 0 ? 10 : 1));
    await waitFor('the memory queue dropping events', () => d.stats()[0]!.dropped > 0);
    const [s] = d.stats();
    expect(s!.queued).toBeLessThanOrEqual(10_000 + 1);
    expect(s!.dropped).toBeGreaterThan(0);
    receiver = await startRsyslog({ port });
    const critical = await receiver.waitFor(100, {
      filter: (m) => (m.parsed.json?.event as { severity?: number } | undefined)?.severity === 10,
      timeoutMs: 40_000,
    });
    expect(critical).toHaveLength(100);
    // One notice per overflow burst; together they count every drop, none of them critical.
    const notices = await receiver.waitFor(1, {
      filter: (m) => (m.parsed.json?.event as { action?: string } | undefined)?.action === 'sealwatch.events.dropped',
    });
    const total: Record<string, number> = {};
    for (const n of notices) {
      for (const [k, v] of Object.entries((n.parsed.json!.sealwatch as { details: Record<string, number> }).details)) {
        total[k] = (total[k] ?? 0) + v;
      }
    }
    expect(total['dropped.critical']).toBeUndefined();
    expect(total['dropped.low'] ?? 0).toBeGreaterThan(0);
    await d.close();
    expect((total['dropped.low'] ?? 0) + (total['dropped.info'] ?? 0)).toBeLessThanOrEqual(d.stats()[0]!.dropped);
  });
});
