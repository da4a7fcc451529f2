import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { makeKeyFiles } from './helpers.ts';
import { cli, removeTags, testTag } from './docker-helpers.ts';

/**
 * The private key without a command line: `--key env:NAME`, `--key fd:N` and `$SEALWATCH_KEY` seal with the
 * right key (the hint printed is the key's); the PEM on the command line still works but is warned about. And
 * an image name that does not exist is exit 2 (a name to fix), not 3 (the engine is down).
 */
describeDocker('seal key inputs and a missing image (real engine)', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  let work: string;
  let base: string;
  let pem: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sw-key-input-'));
    base = await buildAppImage({ repository: 'sealwatch-test/hostile-image' });
    pem = readFileSync(keys.keyPath, 'utf8');
  });
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  const hintOf = (out: string) => (JSON.parse(out) as { keyHint: string }).keyHint;

  it('env:NAME, fd:N and $SEALWATCH_KEY (PEM text or a path) sign with that key', async () => {
    const expected = keys.key.keyHint;
    const seal = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      cli(['seal', '--image', base, '--tag', testTag(created, 'key'), '--json', ...args], work, env);
    const byEnv = await seal(['--key', 'env:MY_SIGNING_KEY'], { MY_SIGNING_KEY: pem });
    expect(byEnv.code, byEnv.err).toBe(0);
    expect(hintOf(byEnv.out)).toBe(expected);
    const byDefault = await seal([], { SEALWATCH_KEY: keys.keyPath });
    expect(byDefault.code, byDefault.err).toBe(0);
    expect(hintOf(byDefault.out)).toBe(expected);
    const fd = openSync(keys.keyPath, 'r');
    try {
      const byFd = await seal(['--key', `fd:${fd}`]);
      expect(byFd.code, byFd.err).toBe(0);
      expect(hintOf(byFd.out)).toBe(expected);
    } finally {
      closeSync(fd);
    }
    const inline = await seal(['--key', pem]);
    expect(inline.code, inline.err).toBe(0);
    expect(inline.err).toContain('shows the private key to every local user');
    const unset = await seal(['--key', 'env:NOT_SET_ANYWHERE']);
    expect(unset.code).toBe(2);
    expect(unset.err.trim()).toBe('--key env:NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set');
  });

  it('a wrong image name is exit 2 with one line, for seal, verify and audit image', async () => {
    const absent = 'sealwatch-test/no-such-image:nope';
    for (const argv of [
      ['seal', '--image', absent, '--key', keys.keyPath],
      ['verify', '--image', absent, '--pub', keys.pubPath],
      ['audit', 'image', absent, '--pub', keys.pubPath],
    ]) {
      const res = await cli(argv, work);
      expect(res.code, `${argv[0]}: ${res.err}`).toBe(2);
      expect(res.err.trimEnd().split('\n'), argv[0]).toHaveLength(1);
      expect(res.err).toContain('not found');
    }
  });
});
