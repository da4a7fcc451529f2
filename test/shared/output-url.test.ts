import { describe, expect, it } from 'vitest';
import { OutputError } from '../../shared/errors/index.ts';
import { parseOutputUrl } from '../../shared/outputs/index.ts';

describe('output URLs', () => {
  it('parses syslog over TCP with format and a min-severity label', () => {
    const spec = parseOutputUrl('syslog+tcp://127.0.0.1:1514?format=cef&min-severity=medium');
    expect(spec).toMatchObject({
      type: 'syslog',
      transport: 'tcp',
      host: '127.0.0.1',
      port: 1514,
      format: 'cef',
      minSeverity: 4,
    });
  });

  it('fills default ports and formats', () => {
    expect(parseOutputUrl('syslog+udp://127.0.0.1')).toMatchObject({ port: 514, format: 'cef', minSeverity: 0 });
    expect(parseOutputUrl('syslog+tls://siem.example')).toMatchObject({ port: 6514, transport: 'tls' });
    expect(parseOutputUrl('file:///var/log/sealwatch/events.jsonl')).toMatchObject({
      type: 'file',
      path: '/var/log/sealwatch/events.jsonl',
      format: 'json',
    });
    expect(parseOutputUrl('-')).toMatchObject({ type: 'stdout', format: 'json' });
  });

  it('accepts IPv6 hosts and numeric severities', () => {
    expect(parseOutputUrl('syslog+tcp://[::1]:1514?min-severity=7')).toMatchObject({ host: '::1', minSeverity: 7 });
  });

  it.each([
    ['not a url', /not a URL/],
    ['gopher://x', /unknown scheme "gopher:"/],
    ['syslog+tcp://127.0.0.1?format=xml', /query: format: Invalid option/],
    ['syslog+tcp://127.0.0.1?min-severity=severe', /min-severity/],
    ['syslog+tcp://127.0.0.1?bogus=1', /bogus= does not apply to syslog\+tcp:\/\/ outputs \(they take format, /],
    ['file:///x?framing=lf&ca=/nope', /framing= does not apply to file:\/\/ outputs/],
    ['file:///x?ca=/nope', /ca= does not apply to file:\/\//],
    ['stdout://?rotate-mb=1', /rotate-mb= does not apply to stdout/],
    ['https://hec.example/x?framing=lf', /framing= does not apply to https/],
    ['syslog+tcp://127.0.0.1?batch-size=5', /batch-size= does not apply to syslog/],
    ['syslog+tcp://127.0.0.1?leef-delimiter=^', /leef-delimiter applies only to format=leef/],
    ['syslog+tcp://127.0.0.1?format=leef&leef-delimiter==', /leef-delimiter/],
    ['file:///x?facility=3', /facility applies only/],
    ['syslog+udp://127.0.0.1?max-bytes=0', /max-bytes: from 2048/],
    ['syslog+udp://127.0.0.1?max-bytes=100', /max-bytes: from 2048/],
    ['syslog+udp://127.0.0.1?max-bytes=70000', /at most 65507/],
    ['syslog+tcp://127.0.0.1?batch-size=0', /does not apply/],
    ['https://hec.example/x?batch-size=0', /at least 1/],
    ['syslog+tcp://127.0.0.1?ca=/x.pem', /only to syslog\+tls/],
    ['syslog+tls://127.0.0.1?cert=/c.pem', /both cert and key/],
    ['syslog+udp://127.0.0.1?framing=lf', /framing applies only/],
    ['https://user:pw@hec.example/services/collector', /token-env/],
    ['syslog+tcp://127.0.0.1?format=cef&format=json', /given twice/],
  ])('rejects %s with one clear line', (url, why) => {
    expectRejected(url, why);
  });

  it.each([
    'syslog+tcp://admin:S3CRETPW@127.0.0.1:99999?format=cef',
    'https://user:S3CRETPW@hec.example/services/collector',
    'syslog+tls://admin:S3CRETPW@[not-an-ip/x?ca=/a@b',
    'syslog+tcp://admin:S3CRETPW@127.0.0.1?bogus=1',
    'file://u:S3CRETPW@/x?ca=1',
  ])('never echoes the password of %s', (url) => {
    const message = expectRejected(url, /./);
    expect(message).not.toContain('S3CRETPW');
    expect(message).toContain('redacted');
  });
});

function expectRejected(url: string, why: RegExp): string {
  {
    let error: unknown;
    try {
      parseOutputUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutputError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
}
