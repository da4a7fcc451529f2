import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerClient, type DockerClient } from '../../shared/docker/index.ts';
import { rewriteImageArchive, sealLayerTar, sha256Digest } from '../../shared/image/index.ts';
import { SEAL_LABEL, formatSealLabel, parseSealLabel } from '../../shared/seal/index.ts';
import { run, runOk } from '../harness/exec.ts';
import { runCliCaptured } from '../harness/cli.ts';

export async function cli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const { code, stdout, stderr } = await runCliCaptured(argv, { cwd, env });
  return { code, out: stdout, err: stderr };
}

/** A unique tag under sealwatch-test/seal; remember it for cleanup. */
export function testTag(created: string[], what: string): string {
  const tag = `sealwatch-test/seal:${what}-${randomBytes(4).toString('hex')}`;
  created.push(tag);
  return tag;
}

export async function removeTags(tags: readonly string[]): Promise<void> {
  for (const tag of tags) await run('docker', ['rmi', '-f', tag]);
}

export async function inspect(ref: string): Promise<{
  Id: string;
  Config: { Labels?: Record<string, string> | null; User?: string };
  RootFS: { Layers: string[] };
}> {
  const out = await runOk('docker', ['image', 'inspect', ref]);
  return (JSON.parse(out) as never[])[0]!;
}

/** docker build of a Dockerfile FROM an image, with optional context files; classic builder, nothing pulled. */
export async function buildFrom(base: string, lines: string[], tag: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-tamper-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), [`FROM ${base}`, ...lines, ''].join('\n'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    await runOk('docker', ['build', '--quiet', '--network', 'none', '-t', tag, dir], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function docker(): DockerClient {
  return createDockerClient();
}

/**
 * An attacker's restamp: rewrites `source` into `tag` with a seal layer holding `jsonl` and a
 * label that names that layer (consistent, as a careful forger would make it).
 * `replaceTop` drops the source's top layer (its seal) first.
 */
export async function forgeSeal(
  source: string,
  tag: string,
  jsonl: string,
  labelFrom: string,
  options: { replaceTop: boolean },
): Promise<void> {
  const client = docker();
  const labelText = (await inspect(labelFrom)).Config.Labels?.[SEAL_LABEL];
  const label = parseSealLabel(labelText ?? '').label!;
  const layerTar = await sealLayerTar(jsonl);
  const rewrite = rewriteImageArchive(await client.saveImage(source));
  const loading = client.loadImage(rewrite.output);
  await rewrite.contents;
  await rewrite.finish({
    dropTopLayer: options.replaceTop,
    layerTar,
    labels: { [SEAL_LABEL]: formatSealLabel({ ...label, layer: sha256Digest(layerTar) }) },
    history: { created: new Date(0).toISOString(), created_by: 'forger', comment: '' },
    repoTags: [tag],
  });
  await loading;
}

/** The seal file of a sealed image, read through a created container. */
export async function readSeal(ref: string): Promise<string> {
  const file = await docker().readImageFile(ref, '/.sealwatch/seal.jsonl');
  return file!.toString('utf8');
}
