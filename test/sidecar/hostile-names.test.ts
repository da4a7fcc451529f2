import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeBytes } from '../../shared/text/index.ts';
import { watchScript } from '../harness/cli.ts';

/**
 * #15 item 6: detection bypass by names. Real processes, real files, a real watcher (`watch -- CMD`).
 * - A held-open SSH key whose path holds LF, CR or U+2028 went unseen by `sensitive-file-open` (picomatch's `.`
 *   stops at line terminators).
 * - A setuid file whose name is not UTF-8 was never reported (listed decoded, then not found by that name).
 * Matched on what the bytes are; reported escaped.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('names that once hid from the rules (#15.6)', () => {
  it('an SSH key held open under a path with LF, CR or U+2028 raises sensitive-file-open, the path escaped in the message', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-names-'));
    dirs.push(work);
    const keys = [
      join(work, 'l\nf', '.ssh', 'id_rsa'),
      join(work, 'c\rr', '.ssh', 'id_ed25519'),
      join(work, 'u\u2028s', '.ssh', 'id_ecdsa'),
      join(work, 'plain', '.ssh', 'id_rsa\nx'),
    ];
    for (const key of keys) {
      mkdirSync(join(key, '..'), { recursive: true });
      writeFileSync(key, 'not a real key\n');
    }
    // each key is the stdin of a sleep that lives until the watcher has judged it (2.5 s; the tick is 50 ms)
    const res = await watchScript(work, 'for k in "$@"; do sleep 2.5 <"$k" & done; wait', { args: keys });
    expect(res.code, res.stderr).toBe(0);
    const alerts = res.events.filter((e) => e.rule?.id === 'sensitive-file-open');
    // each key once or twice: the forked shell may be seen holding it before it became the sleep
    expect([...new Set(alerts.map((e) => e.file?.path))].sort()).toEqual([...keys].sort());
    const message = alerts.find((e) => e.file?.path === keys[0])!.message;
    expect(message).toContain('l\\x0af/.ssh/id_rsa');
    expect(message).not.toMatch(/[\n\r\u2028]/);
  }, 60_000);

  it('a setuid file whose name is not UTF-8 is reported, with its bytes escaped', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-names-'));
    dirs.push(work);
    const events = join(work, 'events.jsonl');
    // a /tmp of its own (as test/sidecar/setuid-and-hosts.test.ts does); the name is x, the byte 0xff, y
    const inner =
      'unshare -rm sh -c \'mount -t tmpfs tmpfs /tmp && n=$(printf "x\\377y") && cp /bin/true "/tmp/$n" && ' +
      'chmod 4755 "/tmp/$n" && sleep 25\'';
    // waits for the alert: `file-created"` in this script is JSON-escaped wherever an event quotes it (no match)
    const script =
      `${inner} & i=0; while [ $i -lt 100 ] && ! grep -qsF 'setuid-file-created"' ${events}; do sleep 0.25; ` +
      'i=$((i+1)); done; sleep 0.5; kill $!';
    const res = await watchScript(work, script);
    expect(res.code, res.stderr).toBe(0);
    const alerts = res.events.filter((e) => e.rule?.id === 'setuid-file-created');
    expect(alerts.map((e) => e.file?.path)).toEqual(['/tmp/x\\xffy']);
    expect(alerts[0]!.message).toContain('/tmp/x\\xffy');
  }, 40_000);

  it('escapeBytes: valid UTF-8 as itself, any other byte as \\xNN, a backslash doubled', () => {
    expect(escapeBytes(Buffer.from('/tmp/é\u2028✓'))).toBe('/tmp/é\u2028✓');
    expect(escapeBytes(Buffer.from([0x2f, 0x78, 0xff, 0x79]))).toBe('/x\\xffy');
    expect(escapeBytes(Buffer.from('/x\\xffy'))).toBe('/x\\\\xffy');
    // a truncated sequence, a surrogate and an overlong form are bytes, not characters
    expect(escapeBytes(Buffer.from([0xe2, 0x82]))).toBe('\\xe2\\x82');
    expect(escapeBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
    expect(escapeBytes(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
  });
});
