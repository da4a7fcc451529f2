import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSetuidScan } from '../../sidecar/sources/index.ts';
import { FixtureProc, fixtureTracker } from './fixture-proc.ts';

/** A tracker over a fixture /proc, every process in scope, after its first tick. */
function trackerOver(g: FixtureProc) {
  const { proc, tracker } = fixtureTracker(g);
  tracker.tick(0);
  return { proc, tracker };
}

/**
 * The setuid scan on a crowded /tmp (a real directory tree behind a fixture process's root), with a budget far
 * below the number of entries: a crowd must not hide a file, it may only delay it by a bounded number of scans.
 */
describe('setuid scan of a crowded /tmp', () => {
  const g = new FixtureProc();
  const rootfs = g.rootfs('sw-crowd-');
  afterAll(() => g.cleanup());
  const DIRS = 30;
  const FILES = 9;
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(rootfs, 'tmp', `d${d}`), { recursive: true });
    for (let f = 0; f < FILES; f++) writeFileSync(join(rootfs, 'tmp', `d${d}`, `f${f}`), '');
  }
  g.add({ pid: 90, comm: 'app', root: rootfs });
  const { proc, tracker } = trackerOver(g);
  // 300 entries in all, 40 looked at per scan
  // a poll is a whole scan here (no time bound): the budget in entries is what is tested
  const scan = createSetuidScan({ proc, tracker, dirs: ['/tmp'], everyMs: 1, maxEntries: 40, maxScanMs: Infinity });
  let now = 0;
  const found = (): string[] => {
    now += 1_000_000; // past any pause
    return scan.poll(now).flatMap((o) => (o.type === 'setuid-file' ? [o.path] : []));
  };
  const scansUntil = (path: string, most: number): number => {
    for (let n = 1; n <= most; n++) if (found().includes(path)) return n;
    return -1;
  };

  it('a file made setuid in place (chmod leaves its directory mtime as it was) is found within one turn of scans', () => {
    for (let i = 0; i < 12; i++) found(); // every directory visited once and remembered
    chmodSync(join(rootfs, 'tmp', 'd17', 'f4'), 0o4755);
    // a turn: the second-level entries over what the budget leaves after the first level (30 entries), plus one
    const turn = Math.ceil((DIRS * FILES) / (40 - DIRS)) + 1;
    const n = scansUntil('/tmp/d17/f4', turn);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(turn);
  });

  it('a new setuid file in a directory is found by the next scan: its directory changed, so it comes first', () => {
    for (let i = 0; i < 12; i++) found();
    const target = join(rootfs, 'tmp', 'd29', 'dropped');
    writeFileSync(target, '');
    chmodSync(target, 0o4755);
    expect(found()).toContain('/tmp/d29/dropped');
  });

  it('a scan bounded in time goes on at the next tick, where it stopped: the file is found, no tick held', () => {
    const target = join(rootfs, 'tmp', 'd3', 'late');
    writeFileSync(target, '');
    chmodSync(target, 0o4755);
    // no time at all: one lstat a poll, every poll at the same moment (the round is not over, so no pause)
    const slow = createSetuidScan({ proc, tracker, dirs: ['/tmp'], everyMs: 60_000, maxScanMs: 0 });
    let polls = 0;
    const found: string[] = [];
    while (!found.includes('/tmp/d3/late') && polls < 1000) {
      polls++;
      for (const o of slow.poll(5)) if (o.type === 'setuid-file') found.push(o.path);
    }
    expect(found).toContain('/tmp/d3/late');
    // one round of 30 directories and 300 files at most, a step a poll
    expect(polls).toBeGreaterThan(30);
    expect(polls).toBeLessThanOrEqual(DIRS + DIRS * FILES + 2);
  });
});

/** #15 item 1 for the setuid scan: every read through the neighbour's root stays inside it (shared/fs). */
describe('setuid scan inside a hostile root', () => {
  const g = new FixtureProc();
  const rootfs = g.rootfs('sw-suid-root-');
  const outside = mkdtempSync(join(tmpdir(), 'sw-suid-outside-'));
  afterAll(() => {
    g.cleanup();
    rmSync(outside, { recursive: true, force: true });
  });

  it("a /var/tmp that is an absolute link is resolved in the workload's root, never in ours", () => {
    // the watcher's own directory holds a setuid file; the workload's /var/tmp points at it by absolute path
    writeFileSync(join(outside, 'ours'), '');
    chmodSync(join(outside, 'ours'), 0o4755);
    mkdirSync(join(rootfs, 'var'), { recursive: true });
    symlinkSync(outside, join(rootfs, 'var', 'tmp'));
    // inside the root that path exists too, with a setuid file of the workload's
    mkdirSync(join(rootfs, outside), { recursive: true });
    writeFileSync(join(rootfs, outside, 'theirs'), '');
    chmodSync(join(rootfs, outside, 'theirs'), 0o4755);
    g.add({ pid: 91, comm: 'app', root: rootfs });
    const { proc, tracker } = trackerOver(g);
    const scan = createSetuidScan({ proc, tracker, dirs: ['/tmp', '/var/tmp'], maxScanMs: Infinity });
    const found = scan.poll(0).flatMap((o) => (o.type === 'setuid-file' ? [o.path] : []));
    const name = outside.slice(outside.lastIndexOf('/') + 1);
    expect(found.sort()).toEqual([`/tmp/${name}/theirs`, '/var/tmp/theirs']);
  });
});
