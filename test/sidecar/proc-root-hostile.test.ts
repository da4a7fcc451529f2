import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcFs } from '../../sidecar/sources/proc/proc-fs.ts';

/**
 * ProcFs reads a watched process's files through its root (`/proc/<pid>/root/etc/passwd` for user names). That
 * root is the workload's: a FIFO there must not block the watcher, and an absolute link must not name the
 * watcher's own files (the kernel resolves it against OUR root). A fixture /proc whose pid 4242 root is a
 * plain directory shows both: followed by the kernel, `/etc/group -> /etc/hostname` would read this host's file.
 */
describe('ProcFs root reads inside a hostile root', () => {
  let proc: string;
  beforeAll(() => {
    proc = mkdtempSync(join(tmpdir(), 'sw-procfs-root-'));
    const root = join(proc, '4242', 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'etc/passwd')]);
    symlinkSync('/etc/hostname', join(root, 'etc/group'));
    symlinkSync('/etc', join(root, 'hostetc'));
    writeFileSync(join(root, 'etc/hostname'), 'inside\n');
  });
  afterAll(() => rmSync(proc, { recursive: true, force: true }));

  it('a FIFO is not read (no block), absolute links stay in the root, listings never leave it', () => {
    const fs = createProcFs(proc);
    expect(fs.readRootFile(4242, 'etc/passwd')).toBeUndefined();
    expect(fs.readRootFile(4242, 'etc/group')).toBe('inside\n');
    expect(fs.rootStat(4242, 'etc/group')?.size).toBe(7);
    expect(fs.listRootDir(4242, 'hostetc')?.sort()).toEqual(['group', 'hostname', 'passwd']);
  });
});
