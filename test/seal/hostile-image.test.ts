import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256Digest } from '../../shared/image/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { makeKeyFiles } from './helpers.ts';
import { buildFrom, cli, docker, inspect, removeTags, testTag } from './docker-helpers.ts';
import { addLayer, layerTar } from './hand-made-layers.ts';

/**
 * Images an attacker built by hand (layer tars written entry by entry, loaded into the real engine) against
 * `seal` and `verify`: an executable hidden behind a hard link in non-canonical form, a forged seal label
 * naming an app layer, a `/.sealwatch` symlink into the host, and config that runs commands added after
 * sealing (HEALTHCHECK, STOPSIGNAL).
 */
describeDocker('seal and verify against hand-made hostile images (real engine)', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  let work: string;
  let base: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sw-hostile-image-'));
    base = await buildAppImage({ repository: 'sealwatch-test/hostile-image' });
  });
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  const seal = (args: string[]) => cli(['seal', '--key', keys.keyPath, ...args], work);
  const verify = (image: string) => cli(['verify', '--image', image, '--pub', keys.pubPath], work);

  it('a hard link in non-canonical form cannot hide sshd from the inventory or --deny-executable', async () => {
    const image = testTag(created, 'hidden-sshd');
    await addLayer(
      base,
      image,
      await layerTar([
        { name: 'usr/', type: 'directory', mode: 0o755 },
        { name: 'usr/lib/', type: 'directory', mode: 0o755 },
        { name: 'usr/lib/real-sshd', mode: 0o755, content: '#!/bin/sh\necho sshd\n' },
        { name: 'usr/sbin/', type: 'directory', mode: 0o755 },
        { name: 'usr/sbin/sshd', type: 'link', mode: 0o755, linkname: 'usr//lib/real-sshd' },
        { name: 'usr/local/', type: 'directory', mode: 0o755 },
        { name: 'usr/local/sbin/', type: 'directory', mode: 0o755 },
        { name: 'usr/local/sbin/sshd', type: 'link', mode: 0o755, linkname: './usr/bin/../lib/real-sshd' },
      ]),
    );
    // the engine itself resolved both links: each is the 0755 file
    const res = await seal(['--image', image, '--deny-executable', '*/sshd', '--tag', testTag(created, 'x')]);
    expect(res.code, res.err).toBe(1);
    expect(res.err).toContain('/usr/sbin/sshd');
    expect(res.err).toContain('/usr/local/sbin/sshd');
  });

  it('a forged dev.sealwatch.seal label naming an app layer: the layer is kept, the forged labels dropped', async () => {
    const app = await layerTar([
      { name: 'app/', type: 'directory', mode: 0o755 },
      { name: 'app/important', mode: 0o755, content: '#!/bin/sh\necho the app\n' },
    ]);
    const forged = {
      v: 1,
      identity: `sha256:${'0'.repeat(64)}`,
      layer: sha256Digest(app),
      keyHint: 'forged',
      statements: 1,
      sealedAt: '2026-01-01T00:00:00Z',
    };
    const image = testTag(created, 'forged-label');
    await addLayer(base, image, app, { 'dev.sealwatch.seal': JSON.stringify(forged), 'dev.sealwatch.evil': 'yes' });
    const before = await inspect(image);
    const sealed = testTag(created, 'forged-label-sealed');
    const res = await seal(['--image', image, '--tag', sealed]);
    expect(res.code, res.err).toBe(0);
    expect(res.out + res.err).not.toContain('previous seal replaced');
    expect(res.out + res.err).toContain('not a seal layer');
    const after = await inspect(sealed);
    expect(after.RootFS.Layers.slice(0, -1)).toEqual(before.RootFS.Layers);
    expect(after.Config.Labels?.['dev.sealwatch.evil']).toBeUndefined();
    expect((await verify(sealed)).code).toBe(0);
    // a real seal is still replaced on re-sealing, not stacked
    const again = testTag(created, 'forged-label-resealed');
    const res2 = await seal(['--image', sealed, '--tag', again]);
    expect(res2.out + res2.err).toContain('previous seal replaced');
    expect((await inspect(again)).RootFS.Layers).toHaveLength(after.RootFS.Layers.length);
  });

  it('a /.sealwatch symlink to a host directory is never read on the host', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'sw-hostile-host-'));
    writeFileSync(join(hostDir, 'seal.jsonl'), 'HOST FILE CONTENT\n');
    try {
      const tar = await layerTar([{ name: '.sealwatch', type: 'symlink', linkname: hostDir }]);
      const image = testTag(created, 'host-link');
      await addLayer(base, image, tar, {
        'dev.sealwatch.seal': JSON.stringify({
          v: 1,
          identity: `sha256:${'0'.repeat(64)}`,
          layer: sha256Digest(tar),
          keyHint: 'x',
          statements: 1,
          sealedAt: '2026-01-01T00:00:00Z',
        }),
      });
      const file = await docker().readImageFile(image, '/.sealwatch/seal.jsonl');
      expect(file).toBeUndefined();
      const res = await verify(image);
      expect(res.code).toBe(1);
      expect(res.err).not.toContain('HOST FILE');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('HEALTHCHECK or STOPSIGNAL added after sealing: verify fails naming the field; the seal file is read within a cap', async () => {
    const sealed = testTag(created, 'config-sealed');
    expect((await seal(['--image', base, '--tag', sealed])).code).toBe(0);
    const ok = await verify(sealed);
    expect(ok.code).toBe(0);
    // each check and its result, in order, as cosign lists them
    expect(
      ok.out
        .split('\n')
        .filter((l) => l.startsWith('  check '))
        .map((l) => l.split(':')[0]),
    ).toEqual(['  check pass', '  check pass', '  check pass', '  check pass', '  check pass']);
    expect(ok.out).toMatch(/check pass: seal layer: the top layer is exactly the seal/);
    expect(ok.out).toMatch(/check pass: identity: /);
    expect(ok.out).toMatch(/statements: 3: provenance, inventory, manifest/);
    const health = testTag(created, 'config-health');
    const stop = testTag(created, 'config-stop');
    await Promise.all([
      buildFrom(sealed, ['HEALTHCHECK --interval=5s CMD ["/bin/busybox", "wget", "-q", "http://127.0.0.1/"]'], health),
      buildFrom(sealed, ['STOPSIGNAL SIGUSR1'], stop),
    ]);
    const [h, s] = await Promise.all([verify(health), verify(stop)]);
    expect(h.code).toBe(1);
    expect(h.out).toMatch(
      /^not verified: \S+\n {2}check pass: label: passed\n {2}check pass: seal layer: passed\n {2}check pass: signatures: passed\n {2}check pass: manifest: passed\n {2}check FAIL: identity: .*Healthcheck changed/,
    );
    expect(h.err).toMatch(
      /Healthcheck changed after sealing \(none → \{"Test":\["CMD","\/bin\/busybox","wget".*"Interval":5000000000\}\)/,
    );
    expect(s.code).toBe(1);
    expect(s.err).toContain('StopSignal changed after sealing (none → "SIGUSR1")');
    await expect(docker().readImageFile(sealed, '/.sealwatch/seal.jsonl', 100)).rejects.toThrow(
      /over the 100-byte limit/,
    );
  });
});
