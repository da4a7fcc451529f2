import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { registryAvailable, startRegistry, type TestRegistry } from '../harness/registry.ts';
import { makeKeyFiles } from './helpers.ts';
import { cli, removeTags } from './docker-helpers.ts';

const hasRegistry = await registryAvailable();

describeDocker('seal --push to a real registry on 127.0.0.1', () => {
  const created: string[] = [];
  let registry: TestRegistry | undefined;
  let host = '';

  beforeAll(async () => {
    if (!hasRegistry) return;
    registry = await startRegistry('none');
    host = registry.host;
  });

  afterAll(async () => {
    await removeTags(created);
    await registry?.stop();
  });

  it.skipIf(!hasRegistry)(
    'pushes the sealed tag; the registry serves the sealed config with the seal label',
    async () => {
      const keys = makeKeyFiles();
      const image = await buildAppImage({ repository: 'sealwatch-test/seal-push' });
      const tag = `${host}/app:sealed`;
      created.push(tag);
      const res = await cli(
        ['seal', '--image', image, '--key', keys.keyPath, '--tag', tag, '--push', '--json'],
        process.cwd(),
      );
      expect(res.err).toBe('');
      expect(res.code).toBe(0);
      const summary = JSON.parse(res.out) as { pushed: string[]; imageId: string; identity: string };
      expect(summary.pushed).toEqual([tag]);
      const manifest = (await (
        await fetch(`http://${host}/v2/app/manifests/sealed`, {
          headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
        })
      ).json()) as { config: { digest: string } };
      expect(manifest.config.digest).toBe(summary.imageId);
      const config = (await (await fetch(`http://${host}/v2/app/blobs/${manifest.config.digest}`)).json()) as {
        config: { Labels: Record<string, string> };
      };
      expect(JSON.parse(config.config.Labels['dev.sealwatch.seal']!).identity).toBe(summary.identity);
    },
  );
});
