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
    ['syslog+tcp://127.0.0.1?bogus=1', /unknown field "bogus"/],
    ['syslog+tcp://127.0.0.1?ca=/x.pem', /only to syslog\+tls/],
    ['syslog+tls://127.0.0.1?cert=/c.pem', /both cert and key/],
    ['syslog+udp://127.0.0.1?framing=lf', /framing applies only/],
    ['https://user:pw@hec.example/services/collector', /token-env/],
    ['syslog+tcp://127.0.0.1?format=cef&format=json', /given twice/],
  ])('rejects %s with one clear line', (url, why) => {
    let error: unknown;
    try {
      parseOutputUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutputError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).not.toContain('\n');
  });
});
