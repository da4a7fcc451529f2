import { pack, type Header } from 'tar-stream';
import { createDockerClient } from '../../shared/docker/index.ts';
import { rewriteImageArchive } from '../../shared/image/index.ts';

/** One entry of a hand-made layer tar: exactly the header an attacker would write, and its content. */
export interface LayerEntry {
  name: string;
  type?: Header['type'];
  mode?: number;
  content?: string | Buffer;
  linkname?: string;
}

/** A layer tar written entry by entry (names, link targets and modes as given, nothing normalized). */
export async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const tar = pack();
  for (const e of entries) {
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header: Partial<Header> & { name: string } = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? 0o644,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(body ? { size: body.length } : {}),
    };
    if (body) tar.entry(header, body);
    else tar.entry(header);
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** `docker load` of `source` with one more layer on top (and labels added), tagged `tag`: the real engine. */
export async function addLayer(
  source: string,
  tag: string,
  tar: Buffer,
  labels: Record<string, string> = {},
): Promise<void> {
  const client = createDockerClient();
  const rewrite = rewriteImageArchive(await client.saveImage(source));
  const loading = client.loadImage(rewrite.output);
  await rewrite.contents;
  await rewrite.finish({
    dropTopLayer: false,
    layerTar: tar,
    labels,
    history: { created: new Date(0).toISOString(), created_by: 'hand-made layer', comment: '' },
    repoTags: [tag],
  });
  await loading;
}
