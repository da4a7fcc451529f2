import { createHash } from 'node:crypto';
import { pack } from 'tar-stream';

const EPOCH = new Date(0);

/**
 * The seal layer: a deterministic tar holding only `.sealwatch/` (0755) and
 * `.sealwatch/seal.jsonl` (0644), mtime 0, uid/gid 0, no user/group names. The same seal text
 * always gives the same bytes, so a verifier that reads the file back from the image can rebuild
 * the tar and compare its sha256 with the top layer's diff_id: equal means the layer holds the
 * seal and nothing else.
 */
export async function sealLayerTar(jsonl: string | Buffer): Promise<Buffer> {
  const body = typeof jsonl === 'string' ? Buffer.from(jsonl, 'utf8') : jsonl;
  const tar = pack();
  const common = { mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
  tar.entry({ ...common, name: '.sealwatch/', type: 'directory', mode: 0o755 });
  tar.entry({ ...common, name: '.sealwatch/seal.jsonl', type: 'file', mode: 0o644, size: body.length }, body);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
