import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReportFile } from '../../action/evidence/index.ts';
import { cli, makeKeyFiles } from '../harness/seal.ts';

/**
 * Inputs built to exhaust the reader: an XML entity bomb, XXE, 100,000 nested elements, a YAML alias bomb,
 * a 50 MB profile, a 200 MB seal file. Each is one line naming the file and exit 2, before any engine is
 * asked (the image named does not exist), never a stack trace or an exhausted heap.
 */
describe('bounded inputs: one line and exit 2', () => {
  let dir: string;
  const keys = makeKeyFiles();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sw-bounded-'));
    writeFileSync(
      join(dir, 'xxe.xml'),
      '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' +
        '<testsuite name="&x;" tests="1"><testcase name="t"/></testsuite>\n',
    );
    writeFileSync(join(dir, 'deep.xml'), `<testsuites>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</testsuites>`);
    const lines = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (const [prev, name] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    writeFileSync(join(dir, 'bomb.yaml'), `apiVersion: sealwatch.dev/v1\nkind: Profile\n${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'big.yaml'), 'apiVersion: sealwatch.dev/v1\nkind: Profile\n# ');
    truncateSync(join(dir, 'big.yaml'), 50 * 1024 * 1024);
    writeFileSync(join(dir, 'big.jsonl'), '');
    truncateSync(join(dir, 'big.jsonl'), 200 * 1024 * 1024);
    writeFileSync(join(dir, 'config.json'), '{"rootfs":{"diff_ids":[]},"config":{}}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const seal = (args: string[]) =>
    cli(['seal', '--image', 'sealwatch-test/absent:none', '--key', keys.keyPath, ...args], dir);
  const oneLine = (res: { code: number; out: string; err: string }, pattern: RegExp) => {
    expect(res.code, res.err).toBe(2);
    expect(res.err.trimEnd().split('\n'), res.err).toHaveLength(1);
    expect(res.err).toMatch(pattern);
    expect(res.err).not.toMatch(/\n\s+at /);
  };

  it('XXE and deeply nested XML in a JUnit report', async () => {
    oneLine(await seal(['--junit', 'xxe.xml']), /^xxe\.xml: .*entit/i);
    oneLine(await seal(['--junit', 'deep.xml']), /^deep\.xml: .*nested/i);
  });

  it('a YAML alias bomb and a 50 MB profile', async () => {
    oneLine(await seal(['--profile', 'bomb.yaml']), /^bomb\.yaml: .*alias/i);
    oneLine(await seal(['--profile', 'big.yaml']), /^big\.yaml: 52428800 bytes, over the \d+-byte limit/);
  });

  it('a 200 MB seal file given to verify --bundle', async () => {
    const res = await cli(
      ['verify', '--bundle', 'big.jsonl', '--image-config', 'config.json', '--pub', keys.pubPath],
      dir,
    );
    oneLine(res, /^big\.jsonl: 209715200 bytes, over the 67108864-byte limit/);
  });

  it('report digests are taken over the bytes, not the text decoded from them', () => {
    const bytes = Buffer.concat([
      Buffer.from('<testsuite name="\u00e9">'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('</testsuite>'),
    ]);
    writeFileSync(join(dir, 'raw.xml'), bytes);
    expect(readReportFile('raw.xml', dir).sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
