import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Observation, ProcessInfo } from '../../sidecar/sources/index.ts';
import type { FileSightSource } from '../../sidecar/sources/sight/file-sight.ts';
import { FixtureProc } from './fixture-proc.ts';
import { fixtureFileSight } from './fixture-sight.ts';

/**
 * An exec seen by file sight while the poller holds the process as its old program (read between the new program's
 * open, which is the inotify event, and the moment the process shows it): the exec is not reported as "exited before it
 * could be read" while that process is there, because the poller's next read reports it with PID and args (once,
 * not twice). Real inotify on a fixture root; the poller's view is set by the test, tick by tick, and the clock is the
 * test's (the fixture's uptime does not advance: start times are counted from file sight's clock).
 */
/** Uptime of the fixture's "kernel": process start times are counted from it, in 10 ms ticks. */
const UPTIME_S = 1000;

describe('file sight: an exec while the poller holds the process as its old program', () => {
  const fx = new FixtureProc();
  const root = fx.rootfs('sw-mid-exec-root-');
  afterAll(() => fx.cleanup());
  writeFileSync(join(fx.root, 'uptime'), `${UPTIME_S}.00 0.00\n`);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (const name of ['tool', 'other']) writeFileSync(join(root, 'usr/bin', name), '#!/bin/sh\n', { mode: 0o755 });
  fx.add({ pid: 300, comm: 'app', exe: '/bin/app', root });

  /** File sight's clock: it stands still unless the test moves it. */
  let clock = 1_800_000_000_000;

  /** A process the poller has, started `agoMs` before the clock. */
  const processOf = (pid: number, exe: string, agoMs: number): ProcessInfo =>
    ({
      pid,
      nsPid: pid,
      ppid: 300,
      session: 300,
      comm: exe.split('/').pop()!,
      name: exe.split('/').pop()!,
      args: [exe],
      exe,
      exeDeleted: false,
      exeMemfd: false,
      exeSetuid: false,
      uid: 0,
      euid: 0,
      gid: 0,
      tracerPid: 0,
      startTicks: Math.floor((UPTIME_S * 1000 - agoMs) / 10),
    }) as ProcessInfo;

  const setUp = (): { sight: FileSightSource; poller: Map<number, ProcessInfo> } => {
    const poller = new Map<number, ProcessInfo>();
    const sight = fixtureFileSight(fx, { anchor: 300, poller, now: () => clock });
    sight.join([], clock); // watches made
    return { sight, poller };
  };
  /** The kernel's side of an exec of `path`: the program is opened (inotify cannot tell an exec from a read). */
  const open = (path: string): void => closeSync(openSync(join(root, path), 'r'));
  const execs = (observations: Observation[]) =>
    observations.filter((o) => o.type === 'file-sight' && o.kind === 'exec');
  /**
   * The kernel queued the open's event during open(2); file sight reads it in the event loop's next poll phase, which
   * comes before the check phase of each setImmediate. Then three of the poller's ticks, 20 ms apart on file sight's
   * clock (an exec is joined once it is 15 ms old), collecting what file sight reports.
   */
  const ticks = async (sight: FileSightSource, observations: Observation[] = []): Promise<Observation[]> => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    const reported: Observation[] = [];
    for (let i = 0; i < 3; i++) {
      clock += 20;
      reported.push(...execs(sight.join(observations, clock)), ...execs(sight.poll(clock)));
    }
    return reported;
  };

  it('waits while a young process is there, and reports nothing when the poller then reads it as the program', async () => {
    const { sight, poller } = setUp();
    try {
      const child = processOf(400, '/bin/sh', 50); // the fork, read as the shell it was
      poller.set(400, child);
      open('usr/bin/tool');
      expect(await ticks(sight)).toEqual([]);
      // the poller's next read: the same PID now runs the program; its process-start stands for the exec
      const became = { ...child, exe: '/usr/bin/tool', comm: 'tool', name: 'tool', args: ['/usr/bin/tool', '-x'] };
      poller.set(400, became);
      const start: Observation = { type: 'process-start', process: became };
      expect(await ticks(sight, [start])).toEqual([]);
    } finally {
      await sight.stop?.();
    }
  });

  it('reports the exec itself once that process is gone without having shown the program', async () => {
    const { sight, poller } = setUp();
    try {
      poller.set(401, processOf(401, '/bin/sh', 50));
      open('usr/bin/tool');
      expect(await ticks(sight)).toEqual([]);
      poller.delete(401); // exited before the poller read it again
      const reported = await ticks(sight);
      expect(reported).toEqual([expect.objectContaining({ kind: 'exec', path: '/usr/bin/tool' })]);
    } finally {
      await sight.stop?.();
    }
  });

  it('does not wait for processes older than the exec window, nor past the wait', async () => {
    const { sight, poller } = setUp();
    try {
      poller.set(402, processOf(402, '/bin/sh', 5_000)); // long-running: not a fork about to exec
      open('usr/bin/other');
      const reported = await ticks(sight);
      expect(reported).toEqual([expect.objectContaining({ kind: 'exec', path: '/usr/bin/other' })]);

      poller.set(403, processOf(403, '/bin/sh', 50));
      open('usr/bin/tool');
      expect(await ticks(sight)).toEqual([]);
      // a second later the young process still shows the shell: the exec is reported after all
      clock += 1_000;
      expect(await ticks(sight)).toEqual([expect.objectContaining({ kind: 'exec', path: '/usr/bin/tool' })]);
    } finally {
      await sight.stop?.();
    }
  });
});
