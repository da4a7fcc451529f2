import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { startContainer, useContainerCleanup, type TestContainer } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildNodeBaseImage } from '../harness/images.ts';
import { buildIdentityImages } from '../harness/identity-images.ts';
import { makeKeyFiles, removeTags } from '../harness/seal.ts';
import { waitFor } from '../harness/wait.ts';
import { startWatcherInPod } from './pod-watcher.ts';

/**
 * Seal identity in the pod pattern with no Docker socket (as in Kubernetes): the watcher beside the app with only
 * `--pub`. Image B carrying image A's seal file and label, and image A with one binary changed after sealing, are
 * `seal.invalid` naming the paths that differ (the statements alone verify: only the files can tell); the sealed
 * image itself stays verified, and `/v1/status` shows the check's progress.
 */
describeDocker('seal identity in a pod without an engine (real pod pattern, no Docker socket)', () => {
  useContainerCleanup();
  const tags: string[] = [];
  const dirs: string[] = [];
  const keys = makeKeyFiles();
  let nodeImage: string;
  let sealed: string;
  let borrowed: string;
  let changed: string;

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-pod-identity-'));
    dirs.push(work, keys.dir);
    let images;
    [images, nodeImage] = await Promise.all([
      buildIdentityImages({ repository: 'sealwatch-test/pod-identity', keyPath: keys.keyPath, work, tags }),
      buildNodeBaseImage(),
    ]);
    ({ sealed, borrowed, changed } = images);
  }, 240_000);
  afterAll(async () => {
    await removeTags(tags);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function pod(image: string): Promise<{ app: TestContainer; events: () => Event[] }> {
    const out = mkdtempSync(join(tmpdir(), 'sw-pod-identity-out-'));
    dirs.push(out);
    const app = await startContainer({ image, cmd: ['sleep', '3600'] });
    const { events } = await startWatcherInPod(app, {
      nodeImage,
      out,
      args: ['--pub', '/keys/sealwatch.pub', '--mode', 'monitor'],
      mounts: [{ host: keys.dir, container: '/keys', readonly: true }],
    });
    return { app, events };
  }
  const status = async (
    app: TestContainer,
  ): Promise<{ seal?: { status: string; identity?: Record<string, unknown> } }> =>
    JSON.parse((await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/v1/status'])).stdout) as {
      seal?: { status: string; identity?: Record<string, unknown> };
    };

  it("image B with image A's seal: seal.invalid naming /app/server (changed) and /app/tool (added)", async () => {
    const { app, events } = await pod(borrowed);
    const checked = await waitFor('seal-checked', () => events().find((e) => e.event.action === 'seal-checked'));
    expect(checked.sealwatch.seal?.status).toBe('verified'); // the signatures are A's, valid
    const invalid = await waitFor('seal.invalid', () => events().find((e) => e.rule?.id === 'seal.invalid'));
    expect(invalid.message).toMatch(
      /\/app\/server sha256 [0-9a-f]{12}…, sealed [0-9a-f]{12}…|\/app\/server is \d+ bytes/,
    );
    expect(invalid.message).toContain('/app/tool is an executable the seal does not hold');
    // from then on the seal is not this app's: its events carry invalid, the status says so with the progress
    const s = await waitFor('status invalid', async () => {
      const st = await status(app);
      return st.seal?.status === 'invalid' && st.seal.identity?.state === 'done' ? st : undefined;
    });
    expect(s.seal?.identity).toMatchObject({ differences: 2, walkComplete: true });
  });

  it('a binary changed after sealing: seal.invalid naming it', async () => {
    const { events } = await pod(changed);
    const invalid = await waitFor('seal.invalid', () => events().find((e) => e.rule?.id === 'seal.invalid'));
    expect(invalid.message).toMatch(/\/app\/server is \d+ bytes, sealed \d+/);
    expect(invalid.message).not.toContain('/bin/busybox');
  });

  it('the sealed image: verified, every sealed executable checked, no seal.invalid', async () => {
    const { app, events } = await pod(sealed);
    const s = await waitFor('identity done', async () => {
      const st = await status(app);
      return st.seal?.identity?.state === 'done' ? st : undefined;
    });
    expect(s.seal).toMatchObject({
      status: 'verified',
      identity: { differences: 0, unverified: 0, walkComplete: true },
    });
    expect(s.seal?.identity?.checked).toBe(s.seal?.identity?.executables);
    expect(events().filter((e) => e.rule?.id === 'seal.invalid')).toEqual([]);
  });
});
