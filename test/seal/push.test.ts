import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { run } from '../harness/exec.ts';
import { makeKeyFiles } from './helpers.ts';
import { cli, removeTags } from './docker-helpers.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const hasRegistry = (await run('sh', ['-c', 'command -v docker-registry'])).code === 0;

describeDocker('seal --push to a real registry on 127.0.0.1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-push-'));
  const created: string[] = [];
  let registry: ChildProcess | undefined;
  let host = '';

  beforeAll(async () => {
    if (!hasRegistry) return;
    host = `127.0.0.1:${await freePort()}`;
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }\nhttp: { addr: "${host}" }\n`,
    );
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://${host}/v2/`)).status === 200) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('docker-registry did not start');
  });

  afterAll(async () => {
    await removeTags(created);
    registry?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasRegistry)(
    'pushes the sealed tag; the registry serves the sealed config with the seal label',
    async () => {
      const keys = makeKeyFiles();
      const image = await buildAppImage({ repository: 'sealwatch-test/seal-push' });
      const tag = `${host}/app:sealed`;
      created.push(tag);
      const res = await cli(['seal', '--image', image, '--key', keys.keyPath, '--tag', tag, '--push', '--json'], dir);
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
