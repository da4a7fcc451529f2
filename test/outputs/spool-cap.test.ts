import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { freePort, rsyslogAvailable, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { plainEvent } from './events.ts';

const describeRsyslog = rsyslogAvailable() || process.env.SEALWATCH_REQUIRE_RSYSLOG === '1' ? describe : describe.skip;

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
