import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileInRoot, statInRoot, walkInRoot, type RootEntry } from '../../shared/fs/index.ts';

/**
 * The reader for hostile roots, on a real tree made of the things an attacker would plant: a FIFO, a link to
 * /dev/zero (in the root, a real character device), absolute links naming host files, `..` escapes, a link
 * loop, a 1 GiB sparse file. Every case must answer at once, from inside the root.
 */
describe('reading inside a hostile root', () => {
  let outside: string;
  let root: string;
  const read = (path: string, maxBytes = 1024, links?: 'follow' | 'refuse') =>
    readFileInRoot(root, path, { maxBytes, links });

  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), 'sw-in-root-'));
    root = join(outside, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'usr/lib'), { recursive: true });
    mkdirSync(join(root, 'dev'));
    mkdirSync(join(root, 'deep/a/b'), { recursive: true });
    writeFileSync(join(outside, 'host-secret'), 'HOST SECRET\n');
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    writeFileSync(join(root, 'etc/hostname'), 'inside\n');
    writeFileSync(join(root, 'usr/lib/real'), 'real\n');
    writeFileSync(join(root, 'deep/a/b/file'), 'deep\n');
    execFileSync('mkfifo', [join(root, 'fifo')]);
    execFileSync('mknod', [join(root, 'dev/zero'), 'c', '1', '5']);
    symlinkSync('/dev/zero', join(root, 'zero'));
    symlinkSync('../../../../../../dev/zero', join(root, 'etc/zero-up'));
    symlinkSync('/fifo', join(root, 'fifo-link'));
    // absolute links that name files of the host: resolved in the root
    symlinkSync('/etc/hostname', join(root, 'hostname-link'));
    symlinkSync(join(outside, 'host-secret'), join(root, 'host-secret-link'));
    symlinkSync('../../../../../../../../host-secret', join(root, 'etc/up-secret'));
    symlinkSync('../host-secret', join(root, 'parent-secret'));
    symlinkSync('usr/lib', join(root, 'lib'));
    symlinkSync('/', join(root, 'slash'));
    symlinkSync(outside, join(root, 'outside-dir'));
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));
    writeFileSync(join(root, 'huge'), '');
    truncateSync(join(root, 'huge'), 1024 ** 3);
    writeFileSync(Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff]), Buffer.from('-name')]), 'x');
  });
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('reads a regular file, through relative and in-root links', () => {
    expect(read('/etc/passwd')).toEqual({ ok: true, value: Buffer.from('root:x:0:0::/root:/bin/sh\n') });
    expect(read('lib/real')).toEqual({ ok: true, value: Buffer.from('real\n') });
    expect(read('/slash/slash/etc/hostname')).toEqual({ ok: true, value: Buffer.from('inside\n') });
  });

  it('resolves absolute links and `..` against the root, never the host', () => {
    expect(read('/hostname-link')).toEqual({ ok: true, value: Buffer.from('inside\n') });
    for (const path of [
      '/host-secret-link',
      '/etc/up-secret',
      '/parent-secret',
      '../host-secret',
      '/outside-dir/host-secret',
    ]) {
      const result = read(path);
      expect(result, path).toMatchObject({ ok: false, reason: 'missing' });
    }
    expect(read('/../../../etc/passwd')).toMatchObject({ ok: true });
  });

  it('refuses a FIFO, a device and a directory at once, whatever link leads there', () => {
    const started = Date.now();
    for (const path of ['/fifo', '/fifo-link', '/zero', '/etc/zero-up', '/dev/zero', '/etc', '/']) {
      const result = read(path);
      expect(result, path).toMatchObject({ ok: false, reason: 'not-regular' });
    }
    expect(read('/fifo')).toMatchObject({ detail: '/fifo: a FIFO, not a regular file' });
    expect(read('/zero')).toMatchObject({ detail: '/zero: a character device, not a regular file' });
    // no open of a FIFO for reading may wait for a writer: the whole set answers well within a test's time
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('caps the size without reading past the cap', () => {
    expect(read('/huge', 1024 * 1024)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(read('/etc/passwd', 5)).toMatchObject({ ok: false, reason: 'too-large' });
  });

  it('stops link loops, refuses links when asked, and names a file component', () => {
    expect(read('/loop-a')).toMatchObject({ ok: false, reason: 'link-loop' });
    expect(read('/lib/real', 1024, 'refuse')).toMatchObject({ ok: false, reason: 'link-refused' });
    expect(read('/etc/passwd/x')).toMatchObject({ ok: false, reason: 'missing' });
  });

  it('stat follows links inside the root only; lstat shows the link', () => {
    const st = statInRoot(root, '/hostname-link');
    expect(st.ok && st.value.isFile() && st.value.size).toBe(7);
    expect(statInRoot(root, '/host-secret-link')).toMatchObject({ ok: false, reason: 'missing' });
    const l = statInRoot(root, '/host-secret-link', { lstat: true });
    expect(l.ok && l.value.isSymbolicLink()).toBe(true);
  });

  it('walks without following links, keeps raw names, and stops at its budget', () => {
    const seen: RootEntry[] = [];
    const full = walkInRoot(root, '/', { maxDepth: 8, maxEntries: 10_000, visit: (e) => void seen.push(e) });
    expect(full).toMatchObject({ ok: true, value: { complete: true } });
    const paths = seen.map((e) => e.path);
    expect(paths).toContain('/deep/a/b/file');
    expect(paths).toContain('/outside-dir');
    // the link to the host directory is an entry, never entered
    expect(paths.some((p) => p.startsWith('/outside-dir/'))).toBe(false);
    expect(paths.some((p) => p.startsWith('/slash/'))).toBe(false);
    expect(seen.find((e) => e.path === '/fifo')!.stat.isFIFO()).toBe(true);
    const bad = seen.find((e) => e.raw.includes(0xff))!;
    expect(bad.raw.toString('latin1')).toBe('/bad-\xff-name');

    const shallow: string[] = [];
    walkInRoot(root, '/deep', { maxDepth: 1, maxEntries: 100, visit: (e) => void shallow.push(e.path) });
    expect(shallow).toEqual(['/deep/a']);
    const budget = walkInRoot(root, '/', { maxDepth: 8, maxEntries: 3, visit: () => undefined });
    expect(budget).toMatchObject({ ok: true, value: { complete: false, stopped: 'max-entries', entries: 3 } });
    expect(walkInRoot(root, '/outside-dir', { maxDepth: 2, maxEntries: 10, visit: () => undefined })).toMatchObject({
      ok: false,
      reason: 'missing',
    });
  });
});
