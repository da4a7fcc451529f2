import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import { describeRsyslog, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { captureIo } from '../harness/cli.ts';
import { freePort } from '../harness/net.ts';

function io(): { io: CliIo; out: () => string; err: () => string } {
  const captured = captureIo();
  return { io: captured.io, out: captured.stdout, err: captured.stderr };
}

describeRsyslog('sealwatch send-test', () => {
  let receiver: RsyslogReceiver;
  beforeAll(async () => {
    receiver = await startRsyslog();
  });
  afterAll(async () => receiver?.stop());

  it('sends one event per severity to each output, prints them, and exits 0 when delivered', async () => {
    const t = io();
    const code = await runCli(
      [
        'send-test',
        '--output',
        `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
        '--output',
        `syslog+tcp://127.0.0.1:${receiver.port}?format=rfc5424&min-severity=high`,
      ],
      t.io,
    );
    expect(code, t.err()).toBe(0);
    const sentLines = t
      .out()
      .split('\n')
      .filter((l) => l.startsWith('sent '));
    expect(sentLines.map((l) => l.split(/\s+/)[1])).toEqual(['info', 'low', 'medium', 'high', 'critical']);
    expect(t.out()).toMatch(/ok {3}syslog\+tcp:.*format=cef: 5\/5 delivered/);
    expect(t.out()).toMatch(/ok {3}syslog\+tcp:.*min-severity=high: 2\/2 delivered/);
    const cef = await receiver.waitFor(5, { filter: (m) => m.parsed.cef?.SignatureID.startsWith('SW-TEST-') === true });
    expect(cef.map((m) => m.parsed.cef!.Severity).sort()).toEqual(['0', '10', '3', '5', '8']);
    const sd = await receiver.waitFor(2, {
      filter: (m) => m.parsed['rfc5424-sd'] !== undefined && m.msgid.startsWith('SW-TEST-'),
    });
    expect(sd.map((m) => m.msgid).sort()).toEqual(['SW-TEST-CRITICAL', 'SW-TEST-HIGH']);
  });

  it('exits non-zero and names the output when nothing listens', async () => {
    const port = await freePort();
    const t = io();
    const code = await runCli(['send-test', '--output', `syslog+tcp://127.0.0.1:${port}`, '--timeout', '1'], t.io);
    expect(code).toBe(3);
    expect(t.out()).toMatch(/FAIL syslog\+tcp:\/\/127\.0\.0\.1:\d+: 0\/5 delivered/);
    expect(t.err()).toContain('send-test: delivery failed within 1s');
  });

  it('--timeout bounds the whole run, and --json reports each output with the reason it failed', async () => {
    const port = await freePort();
    const t = io();
    const started = Date.now();
    const code = await runCli(
      ['send-test', '--output', `syslog+tcp://127.0.0.1:${port}`, '--timeout', '2', '--json'],
      t.io,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(code).toBe(3);
    // The contract of --timeout, with room for a loaded machine (it took 9.6 s for --timeout 3 before).
    expect(seconds).toBeLessThan(2 + 3);
    const result = JSON.parse(t.out()) as {
      ok: boolean;
      outputs: Array<{ ok: boolean; delivered: number; error?: string }>;
    };
    expect(result.ok).toBe(false);
    expect(result.outputs).toEqual([
      expect.objectContaining({ ok: false, delivered: 0, error: expect.stringMatching(/ECONNREFUSED/) }),
    ]);
  });

  it('syslog+tls:// to a plaintext port fails as a TLS handshake, within --timeout', async () => {
    const t = io();
    const started = Date.now();
    const code = await runCli(
      ['send-test', '--output', `syslog+tls://127.0.0.1:${receiver.port}`, '--timeout', '3'],
      t.io,
    );
    expect(code).toBe(3);
    expect((Date.now() - started) / 1000).toBeLessThan(3 + 3);
    expect(t.out()).toMatch(
      /FAIL syslog\+tls:\/\/127\.0\.0\.1:\d+: 0\/5 delivered, .*TLS handshake with 127\.0\.0\.1:\d+ failed/,
    );
    expect(t.out()).not.toMatch(/connect to .* timed out/);
  });

  it('--json cannot be combined with a stdout:// output', async () => {
    const t = io();
    expect(await runCli(['send-test', '--output', 'stdout://', '--json'], t.io)).toBe(2);
  });

  it('refuses a bad URL with one line and exit 2', async () => {
    const t = io();
    const code = await runCli(['send-test', '--output', 'syslog+tcp://127.0.0.1:1?format=xml'], t.io);
    expect(code).toBe(2);
    expect(t.err().trim().split('\n')).toHaveLength(1);
  });

  it('never prints the password of a URL it cannot parse', async () => {
    const t = io();
    const code = await runCli(
      ['send-test', '--output', 'syslog+tcp://admin:S3CRETPW@127.0.0.1:99999?format=cef'],
      t.io,
    );
    expect(code).toBe(2);
    expect(t.out() + t.err()).not.toContain('S3CRETPW');
  });
});
