import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../shared/logging/index.ts';
import { createHashCache, createProcessTracker, podScope } from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';

/**
 * A /proc tree on disk for parser and tracker tests: files written with the exact bytes the
 * kernel would produce, so hostile names and bad records can be tested without root.
 */
export interface FixtureProcess {
  pid: number;
  ppid?: number;
  comm?: string;
  /** raw bytes of cmdline (NUL-separated) or argv */
  cmdline?: Buffer | string[];
  exe?: string;
  uid?: number;
  tracerPid?: number;
  nsPid?: number;
  fds?: Record<number, string>;
  net?: Partial<Record<'tcp' | 'tcp6' | 'udp' | 'udp6', string>>;
  stat?: string;
  startTicks?: number;
  /** `/proc/<pid>/schedstat` (run ns, wait ns, slices); absent by default, like a kernel without schedstats */
  schedstat?: string;
  /** where `/proc/<pid>/root` points (default: a path that does not exist, like the root of a process gone) */
  root?: string;
}

export class FixtureProc {
  readonly root: string;
  /** root filesystems made by `rootfs()`, removed with the fixture */
  private readonly rootfses: string[] = [];
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'sw-proc-'));
    writeFileSync(join(this.root, 'stat'), 'cpu  1 2 3 4\nbtime 1700000000\n');
  }

  add(p: FixtureProcess): void {
    const dir = join(this.root, String(p.pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'fd'), { recursive: true });
    mkdirSync(join(dir, 'fdinfo'), { recursive: true });
    mkdirSync(join(dir, 'net'), { recursive: true });
    mkdirSync(join(dir, 'task', String(p.pid)), { recursive: true });
    const comm = p.comm ?? 'proc';
    const stat =
      p.stat ??
      `${p.pid} (${comm}) S ${p.ppid ?? 1} ${p.pid} ${p.pid} 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1 0 ${p.startTicks ?? 1000} 1000000 250 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;
    writeFileSync(join(dir, 'stat'), Buffer.from(stat, 'utf8'));
    const uid = p.uid ?? 0;
    writeFileSync(
      join(dir, 'status'),
      `Name:\t${comm.replace(/\n/g, '\\n')}\nState:\tS (sleeping)\nPPid:\t${p.ppid ?? 1}\nTracerPid:\t${p.tracerPid ?? 0}\n` +
        `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\nNSpid:\t${p.pid}${p.nsPid !== undefined ? `\t${p.nsPid}` : ''}\nVmRSS:\t    1000 kB\nThreads:\t1\n`,
    );
    const cmd = Array.isArray(p.cmdline)
      ? Buffer.from(p.cmdline.map((a) => `${a}\0`).join(''), 'utf8')
      : (p.cmdline ?? Buffer.from(`${comm}\0`));
    writeFileSync(join(dir, 'cmdline'), cmd);
    if (p.schedstat !== undefined) writeFileSync(join(dir, 'schedstat'), p.schedstat);
    if (p.exe) symlinkSync(p.exe, join(dir, 'exe'));
    symlinkSync('/', join(dir, 'cwd'));
    symlinkSync(p.root ?? '/nonexistent-root', join(dir, 'root'));
    writeFileSync(join(dir, 'cgroup'), '0::/\n');
    for (const [fd, target] of Object.entries(p.fds ?? {})) {
      symlinkSync(target, join(dir, 'fd', fd));
      writeFileSync(join(dir, 'fdinfo', fd), `pos:\t0\nflags:\t0100000\nmnt_id:\t1\n`);
    }
    for (const [file, text] of Object.entries(p.net ?? {})) writeFileSync(join(dir, 'net', file), text);
  }

  remove(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true });
  }

  /** An empty directory to stand for a process's root filesystem (`root:` of add()), removed by cleanup(). */
  rootfs(prefix = 'sw-rootfs-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.rootfses.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of [this.root, ...this.rootfses]) rmSync(dir, { recursive: true, force: true });
  }
}

export const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
export const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** A tracker over a fixture /proc, every process in scope (not yet ticked). */
export function fixtureTracker(g: FixtureProc) {
  const proc = createProcFs(g.root);
  const tracker = createProcessTracker({
    proc,
    scope: podScope(999_999),
    hashes: createHashCache(proc),
    logger: silentLogger(),
    countGaps: false,
  });
  return { proc, tracker };
}
