import { createDockerClient, type DockerClient } from '../../shared/docker/index.ts';
import { rewriteImageArchive, sealLayerTar, sha256Digest } from '../../shared/image/index.ts';
import { SEAL_LABEL, formatSealLabel, parseSealLabel } from '../../shared/seal/index.ts';
import { runOk } from '../harness/exec.ts';

// Moved to the shared test harness (test/sidecar seals images too); re-exported for the seal tests.
export { buildFrom, cli, removeTags, testTag } from '../harness/seal.ts';

export async function inspect(ref: string): Promise<{
  Id: string;
  Config: { Labels?: Record<string, string> | null; User?: string };
  RootFS: { Layers: string[] };
}> {
  const out = await runOk('docker', ['image', 'inspect', ref]);
  return (JSON.parse(out) as never[])[0]!;
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
