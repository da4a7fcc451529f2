import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../sidecar/sources/index.ts';
import { FixtureProc } from './fixture-proc.ts';
import { fixtureFileSight } from './fixture-sight.ts';

/**
 * The watch budget, against the real kernel: a root with more to watch than the budget allows keeps the most
 * important watches (sensitive files, then executables) and gives up the rest (system directories, writable places),
 * saying so in a `sight-lost` event.
 */
describe('file sight: the watch budget', () => {
  const fx = new FixtureProc();
  const root = fx.rootfs('sw-budget-root-');
  afterAll(() => fx.cleanup());

  it('gives up the least important watches first, with an event', async () => {
    for (const dir of ['etc', 'usr/bin', 'tmp', 'var/tmp']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'etc/shadow'), 'root:*:1::::::\n');
    for (const name of ['a', 'b']) writeFileSync(join(root, 'usr/bin', name), '#!/bin/sh\n', { mode: 0o755 });
    fx.add({ pid: 300, comm: 'app', exe: '/bin/app', root });
    const sight = fixtureFileSight(fx, { anchor: 300, maxWatches: 3 });
    try {
      sight.join([], Date.now());
      expect(sight.watchCounts()).toMatchObject({ sensitive: 1, executable: 2, 'system-dir': 0, writable: 0 });
      const lost = sight
        .poll(Date.now())
        .filter((o): o is Extract<Observation, { type: 'sight-lost' }> => o.type === 'sight-lost');
      expect(lost).toHaveLength(1);
      expect(lost[0]!.kind).toBe('files');
      expect(lost[0]!.detail).toMatch(
        /^budget: watch budget reached at 3 watches: not watched \d+ system-dir, 2 writable/,
      );
      expect(lost[0]!.count).toBeGreaterThanOrEqual(3);
      expect(sight.stats.lost).toBe(lost[0]!.count);
    } finally {
      await sight.stop?.();
    }
  });
});
