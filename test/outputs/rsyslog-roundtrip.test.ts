import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { truncateUtf8, wellFormed } from '../../shared/outputs/formatters/text.ts';
import { makeTestPki, describeRsyslog, startRsyslog, type RsyslogReceiver, type TestPki } from '../harness/rsyslog.ts';
import { hostileEvent, HOSTILE } from './events.ts';
import { expectedCefExtensions, expectedJson, expectedSd } from './roundtrip.ts';

describeRsyslog('round trip of hostile events through a real rsyslog', () => {
  let receiver: RsyslogReceiver;
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki();
    receiver = await startRsyslog({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  // Caps far above the events: these cases check exact values; size caps have tests of their own.
  const url = (transport: 'tcp' | 'udp' | 'tls', format: string): string => {
    if (transport === 'tls')
      return `syslog+tls://127.0.0.1:${receiver.tlsPort}?format=${format}&max-bytes=900000&ca=${encodeURIComponent(pki.ca)}`;
    if (transport === 'udp') return `syslog+udp://127.0.0.1:${receiver.port}?format=${format}&max-bytes=60000`;
    return `syslog+tcp://127.0.0.1:${receiver.port}?format=${format}&max-bytes=900000`;
  };

  for (const transport of ['tcp', 'tls', 'udp'] as const) {
    for (const format of ['cef', 'rfc5424', 'json'] as const) {
      it(`${format} over ${transport}: every hostile value arrives exactly, as one message, with no extra field`, async () => {
        const runId = `rt-${transport}-${format}`;
        const cases = Object.entries(HOSTILE).filter(
          // A 10,000-character value repeated in a dozen SD/JSON fields does not fit one UDP datagram.
          ([name]) => !(transport === 'udp' && format !== 'cef' && name === 'long'),
        );
        const d = createDispatcher([parseOutputUrl(url(transport, format))], {
          logger: silentLogger(),
          runId,
          version: '1.2.3',
          hostname: 'test-host',
        });
        const sent = cases.map(([, value]) => d.dispatch(hostileEvent(value)));
        await d.flush();
        const got = await receiver.waitFor(sent.length, {
          filter: (m) => m.rawmsg.includes(runId),
          timeoutMs: 15_000,
        });
        await d.close();
        expect(got).toHaveLength(sent.length);
        expect(got.every((m) => m.input === (transport === 'udp' ? 'udp' : transport))).toBe(true);
        for (const event of sent) {
          const seq = String(event.sealwatch.seq);
          if (format === 'cef') {
            const m = got.find((g) => g.parsed.cef?.Extensions.cn1 === seq);
            expect(m, `seq ${seq} parsed as CEF`).toBeDefined();
            const cef = m!.parsed.cef!;
            expect([cef.DeviceVendor, cef.DeviceProduct, cef.DeviceVersion, cef.SignatureID, cef.Severity]).toEqual([
              'sealwatch',
              'sealwatch',
              '1.2.3',
              'SW-HOSTILE',
              '8',
            ]);
            expect(cef.Name).toBe(truncateUtf8(wellFormed(event.rule!.name).replace(/\r\n|[\r\n]/g, ' '), 512));
            expect(cef.Extensions).toEqual(expectedCefExtensions(event));
          } else if (format === 'rfc5424') {
            const m = got.find((g) => g.parsed['rfc5424-sd']?.['sealwatch@32473']?.seq === seq);
            expect(m, `seq ${seq} parsed as RFC 5424 SD`).toBeDefined();
            expect(Object.keys(m!.parsed['rfc5424-sd']!)).toEqual(['sealwatch@32473']);
            expect(m!.parsed['rfc5424-sd']!['sealwatch@32473']).toEqual(expectedSd(event));
            expect([m!.app_name, m!.hostname, m!.msgid, m!.pri]).toEqual([
              'sealwatch',
              'test-host',
              'SW-HOSTILE',
              '131',
            ]);
          } else {
            const m = got.find(
              (g) => (g.parsed.json?.sealwatch as { seq?: number } | undefined)?.seq === event.sealwatch.seq,
            );
            expect(m, `seq ${seq} parsed as JSON`).toBeDefined();
            expect(m!.parsed.json).toEqual(expectedJson(event));
          }
        }
      });
    }
  }
});

describeRsyslog('framing and size limits against a real rsyslog', () => {
  let receiver: RsyslogReceiver;
  beforeAll(async () => {
    receiver = await startRsyslog();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('LF framing: every hostile value still arrives as exactly one CEF message', async () => {
    const runId = 'lf-framing';
    const d = createDispatcher(
      [parseOutputUrl(`syslog+tcp://127.0.0.1:${receiver.port}?framing=lf&max-bytes=900000`)],
      {
        logger: silentLogger(),
        runId,
      },
    );
    const sent = Object.values(HOSTILE).map((v) => d.dispatch(hostileEvent(v)));
    await d.flush();
    const got = await receiver.waitFor(sent.length, { filter: (m) => m.rawmsg.includes(runId) });
    await new Promise((r) => setTimeout(r, 300));
    // Nothing but our messages arrived: no fragment of a value became a message of its own.
    const all = receiver.messages();
    expect(all.filter((m) => m.parsed.cef === undefined)).toEqual([]);
    expect(got).toHaveLength(sent.length);
    for (const event of sent) {
      const m = got.find((g) => g.parsed.cef?.Extensions.cn1 === String(event.sealwatch.seq));
      expect(m!.parsed.cef!.Extensions).toEqual(expectedCefExtensions(event));
    }
    await d.close();
  });

  for (const format of ['cef', 'rfc5424', 'leef', 'json'] as const) {
    it(`UDP, ${format}: an event over max-bytes is shortened field by field, stays well-formed, and is marked`, async () => {
      const runId = `udp-cut-${format}`;
      const d = createDispatcher(
        [parseOutputUrl(`syslog+udp://127.0.0.1:${receiver.port}?format=${format}&max-bytes=2048`)],
        { logger: silentLogger(), runId },
      );
      // Escapes and 4-byte characters in every long field: shortening must still count bytes right.
      d.dispatch(hostileEvent('\\'.repeat(300) + '🔥'.repeat(100) + ']"='.repeat(200)));
      await d.flush();
      const [m] = await receiver.waitFor(1, { filter: (x) => x.rawmsg.includes(runId) });
      expect(Buffer.byteLength(m!.rawmsg)).toBeLessThanOrEqual(2048);
      expect(m!.rawmsg).not.toContain('\uFFFD');
      if (format === 'cef') {
        expect(m!.parsed.cef?.Extensions.flexString1).toBe(runId);
        expect(m!.parsed.cef?.Extensions.sealwatchTruncated).toContain('message');
        expect(m!.parsed.cef?.Extensions.msg).toMatch(/…$/);
      } else if (format === 'rfc5424') {
        // The structured data is whole: the receiver parsed every parameter, the cut ones end in …
        const sd = m!.parsed['rfc5424-sd']?.['sealwatch@32473'];
        expect(sd?.run_id).toBe(runId);
        expect(sd?.truncated).toContain('process.args');
        expect(sd?.['process.name']).toMatch(/…$/);
      } else if (format === 'json') {
        const json = m!.parsed.json as { sealwatch: { run_id: string; truncated: { fields: string[] } } };
        expect(json.sealwatch.run_id).toBe(runId);
        expect(json.sealwatch.truncated.fields).toContain('message');
      } else {
        expect(m!.msg).toMatch(/^LEEF:2\.0\|/);
        expect(m!.msg).toContain(`runId=${runId}`);
        expect(m!.msg).toMatch(/\ttruncated=[^\t]*message/);
      }
      expect(d.stats()[0]!.truncated).toBe(1);
      await d.close();
    });
  }
});
