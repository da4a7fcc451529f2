import { describe, expect, it } from 'vitest';
import { createEvent } from '../../shared/events/index.ts';
import {
  CEF_KEYS,
  formatCef,
  formatEcs,
  formatJson,
  formatLeef,
  formatOcsf,
  formatRfc3164,
  formatRfc5424,
  formatRfc5424Sd,
  OCSF_CLASS,
} from '../../shared/outputs/index.ts';
import { truncateEscapedUtf8, truncateUtf8 } from '../../shared/outputs/formatters/text.ts';
import { hostileEvent, HOSTILE, plainEvent } from './events.ts';
import { expectedCefExtensions } from './roundtrip.ts';

const options = { version: '1.2.3', hostname: 'host-1' };
const cases = Object.entries(HOSTILE);

/** An independent CEF reader: header on unescaped pipes, extension on ` key=` boundaries. */
function readCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let at = 0;
  let field = '';
  while (header.length < 7) {
    const c = line[at]!;
    if (c === '\\') {
      field += line[at + 1];
      at += 2;
    } else if (c === '|') {
      header.push(field);
      field = '';
      at++;
    } else {
      field += c;
      at++;
    }
  }
  const rest = line.slice(at);
  const ext: Record<string, string> = {};
  const starts = [...rest.matchAll(/(?:^| )([A-Za-z0-9]+)=/g)].filter((m) => {
    let slashes = 0;
    for (let i = m.index + m[0].length - 2; i >= 0 && rest[i] === '\\'; i--) slashes++;
    return slashes % 2 === 0;
  });
  starts.forEach((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]!.index : rest.length;
    const raw = rest.slice(m.index + m[0].length, end);
    ext[m[1]!] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return { header, ext };
}

describe('CEF', () => {
  it('matches the golden rendering', async () => {
    await expect(formatCef(plainEvent(7), options)).toMatchFileSnapshot('golden/plain.cef');
    await expect(formatCef(hostileEvent(HOSTILE.fakeCef), options)).toMatchFileSnapshot('golden/fake-cef.cef');
  });

  for (const [name, value] of cases) {
    it(`keeps ${name} inside its field: 7 header fields, no CR/LF, no \\|, only dictionary keys`, () => {
      const event = hostileEvent(value);
      const line = formatCef(event, options);
      expect(line).not.toMatch(/[\r\n]/);
      expect(line.includes('\u0000')).toBe(false);
      const { header, ext } = readCef(line);
      expect(header.slice(0, 4)).toEqual(['CEF:0', 'sealwatch', 'sealwatch', '1.2.3']);
      expect(header[6]).toBe('8');
      const extText = line.slice(line.indexOf('|8|') + 3);
      expect(extText).not.toContain('\\|');
      for (const key of Object.keys(ext)) expect(Object.keys(CEF_KEYS)).toContain(key);
      expect(ext).toEqual(expectedCefExtensions(event));
    });
  }

  it('cuts each value to its documented maximum before escaping, never inside a character or an escape', () => {
    const value = '\\'.repeat(3000) + '🔥'.repeat(600);
    const event = hostileEvent(value);
    const { ext } = readCef(formatCef(event, options));
    expect(Buffer.byteLength(ext.msg!)).toBeLessThanOrEqual(CEF_KEYS.msg);
    expect(ext.msg).toBe('\\'.repeat(1023));
    expect(Buffer.byteLength(ext.cs1!)).toBeLessThanOrEqual(4000);
    expect(ext.cs1).toBe('\\'.repeat(3000) + '🔥'.repeat(250));
  });
});

describe('LEEF 2.0', () => {
  it('matches the golden rendering', async () => {
    await expect(formatLeef(plainEvent(7), options)).toMatchFileSnapshot('golden/plain.leef');
  });
  for (const delimiter of [undefined, '^', '|']) {
    for (const [name, value] of cases) {
      it(`strips the delimiter (${delimiter ?? 'tab'}), CR and LF from ${name}`, () => {
        const line = formatLeef(hostileEvent(value), { ...options, leefDelimiter: delimiter });
        expect(line).not.toMatch(/[\r\n]/);
        const parts = line.split('|');
        expect(parts.slice(0, 4)).toEqual(['LEEF:2.0', 'sealwatch', 'sealwatch', '1.2.3']);
        expect(parts[5]).toBe(delimiter === undefined ? 'x09' : delimiter === '|' ? 'x7c' : '^');
        const attrs = parts
          .slice(6)
          .join('|')
          .split(delimiter ?? '\t');
        for (const a of attrs) expect(a).toMatch(/^[A-Za-z]+=/);
        const keys = attrs.map((a) => a.slice(0, a.indexOf('=')));
        expect(new Set(keys).size).toBe(keys.length);
      });
    }
  }
});

describe('RFC 5424', () => {
  it('matches the golden rendering', async () => {
    await expect(formatRfc5424Sd(plainEvent(7), options)).toMatchFileSnapshot('golden/plain.rfc5424');
  });

  it('header: printable ASCII, limits on HOSTNAME (255), APP-NAME (48), MSGID (32), microsecond timestamp', () => {
    const event = createEvent({
      '@timestamp': '2026-01-02T03:04:05.007Z',
      event: { kind: 'alert', category: ['process'], type: ['start'], action: 'x', severity: 10 },
      rule: { id: `rule id with spaces ${'é'.repeat(40)}`, name: 'n' },
      message: 'm',
    });
    const line = formatRfc5424(event, 'body', {
      hostname: `${'h'.repeat(300)} é`,
      appName: 'a'.repeat(60),
      facility: 4,
    });
    const [pri, ts, host, app, procid, msgid, sd, ...msg] = line.split(' ');
    expect(pri).toBe('<34>1');
    expect(ts).toBe('2026-01-02T03:04:05.007000Z');
    expect(host).toHaveLength(255);
    expect(app).toHaveLength(48);
    expect(procid).toBe('-');
    expect(msgid!.length).toBeLessThanOrEqual(32);
    expect(`${pri} ${ts} ${host} ${app} ${procid} ${msgid}`).toMatch(/^[\x21-\x7e ]+$/);
    expect(sd).toBe('-');
    expect(msg.join(' ')).toBe('body');
  });

  for (const [name, value] of cases) {
    it(`escapes ", \\ and ] in structured data so ${name} cannot close the element`, () => {
      const line = formatRfc5424Sd(hostileEvent(value), options);
      const sdStart = line.indexOf('[sealwatch@32473 ');
      // Walk the SD element honouring escapes: it must end exactly once, where our element ends.
      let i = sdStart + 1;
      let inValue = false;
      let ends = 0;
      for (; i < line.length; i++) {
        const c = line[i];
        if (inValue && c === '\\') i++;
        else if (c === '"') inValue = !inValue;
        else if (!inValue && c === ']') {
          ends++;
          break;
        }
      }
      expect(ends).toBe(1);
      expect(line[i + 1]).toBe(' '); // then the MSG; no second SD element
      expect(line.slice(0, sdStart)).toMatch(/^[\x21-\x7e ]+$/);
    });
  }
});

describe('RFC 3164', () => {
  for (const [name, value] of cases) {
    it(`stays within 1024 bytes, TAG ≤ 32, one line, for ${name}`, () => {
      const { line } = formatRfc3164(hostileEvent(value), formatCef(hostileEvent(value), options), {
        hostname: 'host-1',
        tag: 't'.repeat(40),
      });
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(1024);
      expect(line).not.toMatch(/[\r\n]/);
      expect(line).toMatch(/^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d host-1 t{32}: /);
    });
  }
});

describe('JSON, ECS, OCSF', () => {
  it('matches the golden renderings', async () => {
    await expect(formatEcs(plainEvent(7), options)).toMatchFileSnapshot('golden/plain-ecs.golden');
    await expect(formatOcsf(plainEvent(7), options)).toMatchFileSnapshot('golden/plain-ocsf.golden');
  });
  for (const [name, value] of cases) {
    it(`round-trips ${name} through JSON.parse (NUL and lone surrogates as U+FFFD)`, () => {
      const event = hostileEvent(value);
      for (const format of [formatJson, formatEcs, formatOcsf]) {
        const line = format(event, options);
        expect(line).not.toMatch(/[\r\n]/);
        expect(() => JSON.parse(line) as unknown).not.toThrow();
      }
      const json = JSON.parse(formatJson(event, options)) as { message: string };
      expect(json.message).toBe(value.replaceAll('\u0000', '\uFFFD'));
    });
  }
  it('maps OCSF classes: Detection Finding for alerts, Network Activity, Process Activity', () => {
    const base = { kind: 'event' as const, type: ['start'], action: 'a', severity: 0 };
    const net = createEvent({ event: { ...base, category: ['network'] }, message: 'n' });
    const proc = createEvent({ event: { ...base, category: ['process'] }, message: 'p' });
    const alert = plainEvent(9);
    const cls = (e: typeof net): number => (JSON.parse(formatOcsf(e, options)) as { class_uid: number }).class_uid;
    expect([cls(alert), cls(net), cls(proc)]).toEqual([
      OCSF_CLASS.detectionFinding,
      OCSF_CLASS.networkActivity,
      OCSF_CLASS.processActivity,
    ]);
    const finding = JSON.parse(formatOcsf(alert, options)) as Record<string, unknown>;
    expect(finding.type_uid).toBe(200401);
    expect(finding.severity_id).toBe(5);
  });
});

describe('UTF-8 cutting', () => {
  it('never splits a character', () => {
    expect(truncateUtf8('ab🔥', 5)).toBe('ab');
    expect(truncateUtf8('ab🔥', 6)).toBe('ab🔥');
    expect(truncateUtf8('שלום', 3)).toBe('ש');
  });
  it('never leaves a dangling escape in an escaped message', () => {
    const cut = truncateEscapedUtf8(Buffer.from('abc\\\\def'), 4);
    expect(cut.toString()).toBe('abc');
    expect(truncateEscapedUtf8(Buffer.from('ab\\\\\\\\'), 5).toString()).toBe('ab\\\\');
    expect(truncateEscapedUtf8(Buffer.from('a🔥'), 3).toString()).toBe('a');
  });
});
