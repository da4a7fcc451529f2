import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSealFromRootfs, verifySeal, type InventoryExecutable } from '../../shared/seal/index.ts';
import { loadTrustedKeys } from '../../shared/signing/index.ts';
import { createRootIdentityCheck, describeDifferences, mountPointsOf } from '../../sidecar/seal/root-identity.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildIdentityImages } from '../harness/identity-images.ts';
import { makeKeyFiles, removeTags } from '../harness/seal.ts';

/**
 * Seal identity without an engine, for real: image A sealed by `sealwatch seal`; image B, another app, given A's
 * seal file and seal label byte for byte; A with one binary changed after sealing. Each runs as a container and
 * its files are compared with A's signed inventory through /proc/<pid>/root, as the pod's watcher sees them.
 */
describeDocker('seal identity through the root (pod mode, no engine)', () => {
  useContainerCleanup();
  const created: string[] = [];
  const dirs: string[] = [];
  const keys = makeKeyFiles();
  let sealed: string;
  let borrowed: string;
  let changed: string;
  let executables: InventoryExecutable[];

  /** The container's root as the pod's watcher sees it, with its mount points (not the image's files). */
  const rootOf = async (image: string): Promise<{ root: string; mounts: string[] }> => {
    const c = await startContainer({ image, cmd: ['sleep', '3600'] });
    const pid = await c.hostPid();
    return { root: `/proc/${pid}/root`, mounts: mountPointsOf(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')) };
  };

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-identity-'));
    dirs.push(work, keys.dir);
    ({ sealed, borrowed, changed } = await buildIdentityImages({
      repository: 'sealwatch-test/identity',
      keyPath: keys.keyPath,
      work,
      tags: created,
    }));
    const seal = verifySeal(readSealFromRootfs((await rootOf(sealed)).root), {
      trustedKeys: loadTrustedKeys([keys.pubPath]),
    });
    executables = seal.inventory!.predicate.executables;
    expect(executables.map((e) => e.path)).toEqual(expect.arrayContaining(['/app/server', '/bin/busybox']));
  }, 180_000);
  afterAll(async () => {
    await removeTags(created);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the sealed image itself: every executable matches, nothing added, progress complete', async () => {
    const check = createRootIdentityCheck({ ...(await rootOf(sealed)), executables });
    expect(check.progress().state).toBe('pending');
    expect(await check.start()).toEqual([]);
    const p = check.progress();
    expect(p).toMatchObject({
      state: 'done',
      checked: executables.length,
      deferred: 0,
      unverified: 0,
      walkComplete: true,
      differences: 0,
    });
    expect(p.bytesHashed).toBe(p.bytesTotal);
  });

  it("image B with image A's seal: the paths that differ are named (changed and added)", async () => {
    const pod = await rootOf(borrowed);
    // the statements verify (they are A's, signed): only the files can tell
    expect(() =>
      verifySeal(readSealFromRootfs(pod.root), { trustedKeys: loadTrustedKeys([keys.pubPath]) }),
    ).not.toThrow();
    const diffs = await createRootIdentityCheck({ ...pod, executables }).start();
    expect(diffs.map((d) => [d.path, d.kind]).sort()).toEqual([
      ['/app/server', 'changed'],
      ['/app/tool', 'added'],
    ]);
    const line = describeDifferences(diffs);
    expect(line).toContain('/app/server');
    expect(line).toContain('/app/tool is an executable the seal does not hold');
  });

  it('a binary changed after sealing: named, with its size or hash', async () => {
    const diffs = await createRootIdentityCheck({ ...(await rootOf(changed)), executables }).start();
    expect(diffs).toEqual([
      {
        path: '/app/server',
        kind: 'changed',
        detail: expect.stringMatching(/^\/app\/server is \d+ bytes, sealed \d+$/),
      },
    ]);
  });

  it('over the start-up byte budget: the rest is deferred and checked on its first exec', async () => {
    const check = createRootIdentityCheck({ ...(await rootOf(changed)), executables, budgetBytes: 1, first: [] });
    expect(await check.start()).toEqual([]);
    expect(check.progress()).toMatchObject({ budgetExhausted: 'bytes', checked: 0, deferred: executables.length });
    expect(await check.onExec('/bin/busybox')).toBeUndefined();
    const d = await check.onExec('/app/server');
    expect(d).toMatchObject({ path: '/app/server', kind: 'changed' });
    expect(await check.onExec('/app/server')).toBeUndefined(); // once per path
    expect(check.progress()).toMatchObject({ checked: 2, deferred: executables.length - 2, differences: 1 });
  });
});

it('fixture root: a sealed path that became a link out of the root is missing, not followed; mounts are skipped; a mode change is named', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sw-identity-fixture-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'bin', 'tool'), 'tool');
    chmodSync(join(root, 'bin', 'tool'), 0o4755);
    symlinkSync('/etc/passwd', join(root, 'bin', 'passwd'));
    writeFileSync(join(root, 'data', 'script'), 'x');
    chmodSync(join(root, 'data', 'script'), 0o755);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const exe = (path: string, content: string, mode = 0o755): InventoryExecutable => ({
      path,
      sha256: sha(content),
      size: content.length,
      mode,
      uid: 0,
      gid: 0,
      setuid: false,
      setgid: false,
    });
    const check = createRootIdentityCheck({
      root,
      executables: [exe('/bin/tool', 'tool'), exe('/bin/passwd', 'root:x:0:0::/root:/bin/sh\n')],
      mounts: ['/data'],
    });
    const diffs = await check.start();
    expect(diffs.map((d) => d.detail).sort()).toEqual([
      '/bin/passwd is sealed but no longer a regular file',
      '/bin/tool mode 04755, sealed 0755',
    ]);
    expect(check.progress()).toMatchObject({ walkComplete: true });
    expect(
      mountPointsOf('36 35 98:0 / / rw - ext4 /dev/root rw\n37 36 0:5 / /var/run/secrets\\040x rw - tmpfs t rw\n'),
    ).toEqual(['/var/run/secrets x']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

it('the root gone (its process exited) makes the files unverified, never "missing"', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sw-identity-gone-'));
  rmSync(root, { recursive: true });
  const e: InventoryExecutable = {
    path: '/bin/app',
    sha256: '0'.repeat(64),
    size: 1,
    mode: 0o755,
    uid: 0,
    gid: 0,
    setuid: false,
    setgid: false,
  };
  const check = createRootIdentityCheck({ root, executables: [e, { ...e, path: '/bin/other' }] });
  expect(await check.start()).toEqual([]);
  expect(check.progress()).toMatchObject({ rootGone: true, unverified: 2, differences: 0, walkComplete: false });
});
