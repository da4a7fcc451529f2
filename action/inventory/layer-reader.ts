import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';

/** One path as a layer records it. */
export interface FileEntry {
  type: 'file' | 'dir' | 'symlink' | 'link' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 hex, for executables. */
  sha256?: string;
  /** symlink or hardlink target as written in the tar. */
  target?: string;
  /** Kept for the few files the inventory parses (passwd, dpkg status, apk db). */
  content?: Buffer;
}

export interface LayerRecord {
  /** Paths without a leading slash (`usr/bin/node`), as added by this layer. */
  entries: Map<string, FileEntry>;
  /** `dir/.wh.name` removes `dir/name` (and everything below it) from lower layers. */
  whiteouts: string[];
  /** `dir/.wh..wh..opq` hides everything under `dir/` from lower layers. */
  opaqueDirs: string[];
}

/** Files whose content the inventory reads (packages, users) or the sealer checks (a previous seal). */
export function keepsContent(path: string): boolean {
  return (
    path === 'etc/passwd' ||
    path === '.sealwatch/seal.jsonl' ||
    path === 'var/lib/dpkg/status' ||
    path.startsWith('var/lib/dpkg/status.d/') ||
    path === 'lib/apk/db/installed'
  );
}

/**
 * The most of one file's content kept in memory (64 MiB): a larger passwd, package database or seal is not
 * read (the inventory says nothing of it) instead of being held whole.
 */
export const CONTENT_MAX_BYTES = 64 * 1024 * 1024;

/** `./usr/bin/` → `usr/bin`, `usr//lib` → `usr/lib`, `usr/bin/../lib` → `usr/lib`; `..` stops at the root, as in the engine. */
export function normalizeLayerPath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/**
 * Reads one layer tar as it streams: records every path with its type, mode and owner, hashes
 * executables (any execute bit) with sha256, keeps the content of the files in `keepsContent`,
 * and collects whiteouts. Never buffers whole files other than those few.
 */
export async function readLayerTar(stream: Readable): Promise<LayerRecord> {
  const record: LayerRecord = { entries: new Map(), whiteouts: [], opaqueDirs: [] };
  const reader = extract();
  const feeding = (async () => {
    try {
      for await (const chunk of stream) {
        if (!reader.write(chunk as Buffer)) await new Promise<void>((r) => reader.once('drain', () => r()));
      }
      reader.end(undefined);
    } catch (error) {
      reader.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  for await (const entry of reader) {
    const h = entry.header;
    const path = normalizeLayerPath(h.name);
    const base = path.slice(path.lastIndexOf('/') + 1);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    const mode = h.mode ?? 0;
    if (base === '.wh..wh..opq') {
      record.opaqueDirs.push(dir);
      await drain(entry);
      continue;
    }
    if (base.startsWith('.wh.')) {
      record.whiteouts.push(dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}`);
      await drain(entry);
      continue;
    }
    const type: FileEntry['type'] =
      h.type === 'file' || h.type === 'contiguous-file'
        ? 'file'
        : h.type === 'directory'
          ? 'dir'
          : h.type === 'symlink'
            ? 'symlink'
            : h.type === 'link'
              ? 'link'
              : 'other';
    const file: FileEntry = { type, mode: mode & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0 };
    if (type === 'symlink' || type === 'link') file.target = h.linkname ?? '';
    if (type === 'file') {
      const wantHash = (mode & 0o111) !== 0;
      const wantContent = keepsContent(path) && (h.size ?? 0) <= CONTENT_MAX_BYTES;
      if (wantHash || wantContent) {
        const hash = wantHash ? createHash('sha256') : undefined;
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Uint8Array>) {
          hash?.update(chunk);
          if (wantContent) chunks.push(Buffer.from(chunk));
        }
        if (hash) file.sha256 = hash.digest('hex');
        if (wantContent) file.content = Buffer.concat(chunks);
      } else {
        await drain(entry);
      }
    } else {
      await drain(entry);
    }
    if (path !== '') record.entries.set(path, file);
  }
  await feeding;
  return record;
}

async function drain(entry: unknown): Promise<void> {
  for await (const _ of entry as AsyncIterable<Uint8Array>) {
    // discard
  }
}
