import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDockerClient } from '../../shared/docker/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { cli, makeKeyFiles, removeTags, testTag } from '../harness/seal.ts';
import { waitFor } from '../harness/wait.ts';
import { startWatcherInPod } from '../sidecar/pod-watcher.ts';

/**
 * The neighbour's workload owns its filesystem, so it owns what the watcher finds at `/.sealwatch/seal.jsonl`
 * through /proc/<pid>/root. In the pod pattern with the real watcher: a FIFO there must not block start-up, a
 * link to /dev/zero must not be read, and an absolute link must not be followed into the WATCHER's filesystem
 * (here it points at a valid seal the watcher holds: followed, the app would pass as sealed). Each ends in
 * seal.invalid naming the reason, with the watcher's API up.
 */
describeDocker('a hostile /.sealwatch/seal.jsonl in the pod pattern (real Docker pod)', () => {
  useContainerCleanup();
  const created: string[] = [];
  const dirs: string[] = [];
  const keys = makeKeyFiles();
  let app: string;
  let nodeImage: string;
  let borrowedDir: string;

  beforeAll(async () => {
    [app, nodeImage] = await Promise.all([
      buildAppImage({
        repository: 'sealwatch-test/pod-hostile-seal',
        symlinks: { 'zero/.sealwatch/seal.jsonl': '/dev/zero', 'host/.sealwatch/seal.jsonl': '/borrowed/seal.jsonl' },
      }),
      buildNodeBaseImage(),
    ]);
    // a valid seal, signed by the trusted key, that only the watcher's filesystem holds
    const work = mkdtempSync(join(tmpdir(), 'sw-pod-hostile-'));
    borrowedDir = mkdtempSync(join(tmpdir(), 'sw-pod-hostile-borrowed-'));
    dirs.push(work, borrowedDir, keys.dir);
    const sealed = testTag(created, 'pod-hostile-sealed');
    const res = await cli(['seal', '--image', app, '--key', keys.keyPath, '--tag', sealed], work);
    expect(res.code, res.err).toBe(0);
    const jsonl = await createDockerClient().readImageFile(sealed, '/.sealwatch/seal.jsonl');
    writeFileSync(join(borrowedDir, 'seal.jsonl'), jsonl!);
  });
  afterAll(async () => {
    await removeTags(created);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** The app with `setup` run in it first (its root moved to `/<variant>` by chroot), the watcher beside it. */
  async function pod(setup: string) {
    const out = mkdtempSync(join(tmpdir(), 'sw-pod-hostile-out-'));
    dirs.push(out);
    const container = await startContainer({ image: app, cmd: ['sh', '-c', `${setup} && exec sleep 3600`] });
    const { events } = await startWatcherInPod(container, {
      nodeImage,
      out,
      args: ['--pub', '/keys/sealwatch.pub', '--mode', 'monitor'],
      mounts: [
        { host: keys.dir, container: '/keys', readonly: true },
        { host: borrowedDir, container: '/borrowed', readonly: true },
      ],
    });
    const checked = await waitFor(
      'seal-checked event',
      () => events().find((e) => e.event.action === 'seal-checked'),
      45_000,
    );
    const alert =
      checked.sealwatch.seal?.status === 'invalid'
        ? await waitFor('seal.invalid alert', () =>
            events().find((e) => e.event.kind === 'alert' && e.rule?.id === 'seal.invalid'),
          )
        : undefined;
    const health = await container.exec(['wget', '-qO-', 'http://127.0.0.1:9464/healthz']);
    return { checked, alert, health, events };
  }

  it('a FIFO, a link to /dev/zero, an absolute link into the watcher: seal.invalid with the reason', async () => {
    const [fifo, zero, host] = await Promise.all([
      pod('mkdir -p /.sealwatch && busybox mkfifo /.sealwatch/seal.jsonl'),
      pod('cp -a /zero/.sealwatch /.sealwatch'),
      pod('cp -a /host/.sealwatch /.sealwatch'),
    ]);
    for (const [what, p, reason] of [
      ['fifo', fifo, /a FIFO, not a regular file/],
      ['/dev/zero', zero, /a symlink on the path/],
      ['host link', host, /a symlink on the path/],
    ] as const) {
      expect(p.checked.sealwatch.seal?.status, what).toBe('invalid');
      expect(p.alert?.message, what).toMatch(reason);
      expect(p.health.code, `${what}: /healthz ${p.health.stderr}`).toBe(0);
    }
  });
});
