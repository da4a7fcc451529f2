import { lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../harness/seal.ts';

/**
 * keygen in a directory someone else could write to first: a leftover `sealwatch.key.tmp` (0644) must not
 * decide the private key's mode, and a symlink planted at the temp name must not redirect the key.
 */
describe('keygen against planted temp files', () => {
  it('a leftover 0644 temp file: the key is still 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-keygen-'));
    writeFileSync(join(dir, 'sealwatch.key.tmp'), 'old', { mode: 0o644 });
    const res = await cli(['keygen', '--out', dir], dir);
    expect(res.code, res.err).toBe(0);
    expect(statSync(join(dir, 'sealwatch.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'sealwatch.key'), 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('a symlink at the temp name: the key is not written through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-keygen-'));
    const victim = join(mkdtempSync(join(tmpdir(), 'sw-keygen-victim-')), 'victim');
    writeFileSync(victim, 'untouched', { mode: 0o644 });
    symlinkSync(victim, join(dir, 'sealwatch.key.tmp'));
    const res = await cli(['keygen', '--out', dir], dir);
    expect(res.code, res.err).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(dir, 'sealwatch.key')).isFile()).toBe(true);
    expect(statSync(join(dir, 'sealwatch.key')).mode & 0o777).toBe(0o600);
  });

  it('--json prints the paths and the key hint as one JSON object', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-keygen-'));
    const res = await cli(['keygen', '--out', 'keys', '--json'], dir);
    expect(res.code, res.err).toBe(0);
    expect(JSON.parse(res.out)).toEqual({
      privateKey: join(dir, 'keys/sealwatch.key'),
      publicKey: join(dir, 'keys/sealwatch.pub'),
      keyHint: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      algorithm: 'ecdsa-p256',
    });
  });
});
