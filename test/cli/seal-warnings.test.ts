import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { cli, makeKeyFiles, removeTags, testTag } from '../harness/seal.ts';
import { runOk } from '../harness/exec.ts';

/** `seal` reports what `profile lint` warns about in the profiles it seals (it used to drop it). */
describeDocker('sealwatch seal: profile warnings', () => {
  const created: string[] = [];
  let work: string;
  let image: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sw-seal-warn-'));
    const base = await buildAppImage({ repository: 'sealwatch-test/seal-warn' });
    image = testTag(created, 'warn');
    await runOk('docker', ['tag', base, image]);
    writeFileSync(
      join(work, 'profile.yaml'),
      'apiVersion: sealwatch.dev/v1\nkind: Profile\nnetwork:\n  listen: [{ port: 8080 }, { port: 8080 }]\n',
    );
  }, 120_000);
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  it('prints each warning in the summary, and lists them in --json', async () => {
    const keys = makeKeyFiles();
    const text = await cli(['seal', '--image', image, '--key', keys.keyPath, '--profile', 'profile.yaml'], work);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('  warning: profile.yaml: network.listen[1]: tcp/8080 is listed twice');
    const json = await cli(
      ['seal', '--image', image, '--key', keys.keyPath, '--profile', 'profile.yaml', '--json'],
      work,
    );
    expect(json.code, json.err).toBe(0);
    expect((JSON.parse(json.out) as { warnings?: string[] }).warnings).toEqual([
      'profile.yaml: network.listen[1]: tcp/8080 is listed twice',
    ]);
  }, 120_000);
});
