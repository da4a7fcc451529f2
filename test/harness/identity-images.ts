import { createDockerClient } from '../../shared/docker/index.ts';
import { buildAppImage } from './images.ts';
import { buildFrom, cli, testTag } from './seal.ts';

/**
 * The images of the seal identity tests: app A (`/app/server`) sealed by the real `sealwatch seal`; app B, another
 * app (`/app/server` differs, `/app/tool` added), given A's seal file and seal label byte for byte; and A with
 * `/app/server` changed after sealing. Tags are remembered in `tags` for cleanup.
 */
export interface IdentityImages {
  /** A before sealing (unsealed) */
  plain: string;
  sealed: string;
  borrowed: string;
  changed: string;
}

export async function buildIdentityImages(input: {
  repository: string;
  keyPath: string;
  /** where `seal` runs */
  work: string;
  tags: string[];
}): Promise<IdentityImages> {
  const [plain, b] = await Promise.all([
    buildAppImage({
      repository: input.repository,
      files: { '/app/server': { content: '#!/bin/sh\necho server A\n', mode: 0o755 } },
    }),
    buildAppImage({
      repository: input.repository,
      files: {
        '/app/server': { content: '#!/bin/sh\necho server B, another app\n', mode: 0o755 },
        '/app/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o755 },
      },
    }),
  ]);
  const sealed = testTag(input.tags, 'identity-a');
  const res = await cli(['seal', '--image', plain, '--key', input.keyPath, '--tag', sealed], input.work);
  if (res.code !== 0) throw new Error(`seal exited ${res.code}: ${res.err}`);
  const docker = createDockerClient();
  const jsonl = (await docker.readImageFile(sealed, '/.sealwatch/seal.jsonl'))!.toString('utf8');
  const label = (await docker.inspectImage(sealed)).Config?.Labels?.['dev.sealwatch.seal'];
  const borrowed = testTag(input.tags, 'identity-b');
  await buildFrom(
    b,
    [`LABEL dev.sealwatch.seal=${JSON.stringify(label)}`, 'COPY seal.jsonl /.sealwatch/seal.jsonl'],
    borrowed,
    { 'seal.jsonl': jsonl },
  );
  const changed = testTag(input.tags, 'identity-changed');
  await buildFrom(sealed, ['RUN ["/bin/busybox", "sh", "-c", "echo patched >> /app/server"]'], changed);
  return { plain, sealed, borrowed, changed };
}
