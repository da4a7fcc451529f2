import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runSeal } from '../../action/run.ts';
import { SealInputs } from '../../action/inputs.ts';
import { createDockerClient } from '../../shared/docker/index.ts';
import { verifyImageSeal } from '../../shared/seal/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { makeKeyFiles } from './helpers.ts';
import { buildFrom, inspect, removeTags, testTag } from './docker-helpers.ts';
import { fakeOciSaveClient } from './fake-oci-save.ts';

describeDocker('docker save in the OCI layout of Docker 25+ (gzip layers)', () => {
  const created: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-oci-'));
  afterAll(async () => {
    await removeTags(created);
    rmSync(dir, { recursive: true, force: true });
  });

  it('inventories gzip blob layers, loads the rewritten archive, and the result verifies; re-seal replaces', async () => {
    const base = await buildAppImage({
      files: { '/usr/local/bin/app': { content: '#!/bin/sh\necho app\n', mode: 0o755 } },
      repository: 'sealwatch-test/seal-oci',
    });
    const image = testTag(created, 'oci-src');
    await buildFrom(base, ['USER 0', 'RUN ["/bin/busybox", "rm", "/usr/local/bin/app"]', 'USER app'], image);
    const keys = makeKeyFiles();
    const docker = fakeOciSaveClient(createDockerClient());
    const deps = {
      docker,
      env: {},
      cwd: dir,
      git: {},
      now: () => new Date('2026-11-26T00:00:00Z'),
      toolVersion: 'test',
    };
    const sealed = testTag(created, 'oci-sealed');
    const first = await runSeal(SealInputs.parse({ image, key: keys.keyPath, tag: sealed }), deps);
    expect(first.summary.sealed).toBe(true);
    expect(first.summary.inventory.executables).toBe(1); // busybox; the deleted app is gone (whiteout)
    const result = await verifyImageSeal(createDockerClient(), sealed, [keys.pubPem]);
    expect(result.identity).toBe(first.summary.identity);
    const resealed = testTag(created, 'oci-resealed');
    const second = await runSeal(SealInputs.parse({ image: sealed, key: keys.keyPath, tag: resealed }), deps);
    expect(second.summary.resealed).toBe(true);
    expect((await inspect(resealed)).RootFS.Layers).toHaveLength((await inspect(sealed)).RootFS.Layers.length);
    expect((await verifyImageSeal(createDockerClient(), resealed, [keys.pubPem])).identity).toBe(
      first.summary.identity,
    );
  });
});
