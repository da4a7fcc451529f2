import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redact, REDACTED } from '../../shared/logging/index.ts';

describe('secret redaction in our own logs', () => {
  it('hides values of secret-named keys, PEM private keys, bearer tokens and URL passwords', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----';
    const out = redact({
      password: 'hunter2',
      nested: { apiKey: 'abc', note: `key is ${pem}` },
      header: 'Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.x.y',
      url: 'syslog+tls://admin:s3cret@siem:6514?token=t0k3n&format=cef',
      port: 6514,
    }) as Record<string, unknown>;
    expect(out.password).toBe(REDACTED);
    expect(out.nested).toEqual({ apiKey: REDACTED, note: `key is ${REDACTED}` });
    expect(out.header).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(out.url).toBe(`syslog+tls://admin:${REDACTED}@siem:6514?token=${REDACTED}&format=cef`);
    expect(out.port).toBe(6514);
  });

  it('applies to everything the logger writes, message and metadata', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const logger = createLogger({ stream, format: 'json' });
    logger.info('connecting with Bearer abcdef123456', { token: 'xyz', host: 'siem' });
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(chunks.join('').trim()) as Record<string, unknown>;
    expect(line.message).toBe(`connecting with Bearer ${REDACTED}`);
    expect(line.token).toBe(REDACTED);
    expect(line.host).toBe('siem');
  });
});
