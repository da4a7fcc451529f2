import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import type { DockerClient } from '../../shared/docker/index.ts';

/**
 * fake-oci-save: the real engine, except that `saveImage` returns what Docker 25+ writes (the OCI
 * layout: `blobs/sha256/<hex>`, `index.json`, `oci-layout`, a manifest.json pointing at blobs), with
 * every layer gzip-compressed as a containerd image store may store it. Docker 25 cannot run here
 * (the engine is 20.10), so its archive format is reproduced from the real 20.10 archive.
 */
export function fakeOciSaveClient(real: DockerClient): DockerClient {
  return {
    ...real,
    saveImage: async (ref) => Readable.from([await toOciLayout(await real.saveImage(ref))], { objectMode: false }),
  };
}

async function toOciLayout(legacy: Readable): Promise<Buffer> {
  const files = new Map<string, Buffer>();
  const reader = extract();
  legacy.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const c of entry as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
  }
  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as {
    Config: string;
    RepoTags: string[];
    Layers: string[];
  }[];
  const m = manifest[0]!;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const out = pack();
  const blobs: string[] = [];
  const add = (name: string, body: Buffer) => out.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  const config = files.get(m.Config)!;
  add(`blobs/sha256/${sha(config)}`, config);
  for (const layer of m.Layers) {
    const gz = gzipSync(files.get(layer)!);
    blobs.push(`blobs/sha256/${sha(gz)}`);
    add(blobs.at(-1)!, gz);
  }
  add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] })));
  add('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  add(
    'manifest.json',
    Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${sha(config)}`, RepoTags: m.RepoTags, Layers: blobs }])),
  );
  out.finalize();
  const chunks: Buffer[] = [];
  for await (const c of out as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
