import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { makeTestPki, describeRsyslog, startRsyslog, type RsyslogReceiver, type TestPki } from '../harness/rsyslog.ts';
import { plainEvent } from './events.ts';
import { waitFor } from '../harness/wait.ts';

describeRsyslog('syslog over TLS against a real rsyslog with a test CA', () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let receiver: RsyslogReceiver;
  let mtlsReceiver: RsyslogReceiver;
  beforeAll(async () => {
    pki = await makeTestPki(undefined, 'trusted');
    otherPki = await makeTestPki(undefined, 'other');
    receiver = await startRsyslog({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    mtlsReceiver = await startRsyslog({
      tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireClientCert: true },
    });
  });
  afterAll(async () => {
    await receiver?.stop();
    await mtlsReceiver?.stop();
  });

  it('delivers when the server certificate chains to ca=', async () => {
    const d = createDispatcher(
      [parseOutputUrl(`syslog+tls://127.0.0.1:${receiver.tlsPort}?ca=${encodeURIComponent(pki.ca)}`)],
      { logger: silentLogger(), runId: 'tls-ok' },
    );
    d.dispatch(plainEvent(5));
    await d.flush();
    const [m] = await receiver.waitFor(1, { filter: (x) => x.rawmsg.includes('tls-ok') });
    expect(m!.input).toBe('tls');
    expect(d.stats()[0]!.connected).toBe(true);
    await d.close();
  });

  for (const [name, caOption] of [
    ['a CA that did not sign the server certificate', () => `?ca=${encodeURIComponent(otherPki.ca)}`],
    ['the system trust store (no ca=)', () => ''],
  ] as const) {
    it(`refuses the server with ${name}: nothing is sent, the events wait`, async () => {
      const runId = `tls-refused-${caOption().length}`;
      const d = createDispatcher([parseOutputUrl(`syslog+tls://127.0.0.1:${receiver.tlsPort}${caOption()}`)], {
        logger: silentLogger(),
        runId,
      });
      for (let i = 0; i < 3; i++) d.dispatch(plainEvent(5));
      // Between attempts the batch is back in the queue (during one it is in flight).
      await waitFor(
        'a failed delivery attempt, the events queued again',
        () => d.stats()[0]!.retried >= 3 && d.stats()[0]!.queued === 3,
        15_000,
      );
      const s = d.stats()[0]!;
      expect(s.sent).toBe(0);
      expect(s.connected).toBe(false);
      expect(s.queued).toBe(3);
      expect(receiver.messages().filter((m) => m.rawmsg.includes(runId))).toEqual([]);
      await d.close();
    });
  }

  it('presents a client certificate (mTLS) when cert= and key= are given', async () => {
    const q = (p: string): string => encodeURIComponent(p);
    const d = createDispatcher(
      [
        parseOutputUrl(
          `syslog+tls://127.0.0.1:${mtlsReceiver.tlsPort}?ca=${q(pki.ca)}&cert=${q(pki.clientCert)}&key=${q(pki.clientKey)}`,
        ),
      ],
      { logger: silentLogger(), runId: 'mtls-ok' },
    );
    d.dispatch(plainEvent(9));
    await d.flush();
    const [m] = await mtlsReceiver.waitFor(1, { filter: (x) => x.rawmsg.includes('mtls-ok') });
    expect(m!.parsed.cef?.Severity).toBe('9');
    await d.close();
  });
});
