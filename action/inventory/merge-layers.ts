import type { FileEntry, LayerRecord } from './layer-reader.ts';

/** Applies layers bottom to top (whiteouts first, then the layer's own entries): the final rootfs. */
export function mergeLayers(layers: readonly LayerRecord[]): Map<string, FileEntry> {
  const fs = new Map<string, FileEntry>();
  for (const layer of layers) {
    for (const dir of layer.opaqueDirs) removeBelow(fs, dir, false);
    for (const path of layer.whiteouts) removeBelow(fs, path, true);
    for (const [path, entry] of layer.entries) {
      if (entry.type === 'link') {
        // A hardlink is the same file as its target (in this layer or below).
        const target = layer.entries.get(normalize(entry.target ?? '')) ?? fs.get(normalize(entry.target ?? ''));
        fs.set(path, target ? { ...target, content: target.content } : { ...entry, type: 'file' });
        continue;
      }
      const existing = fs.get(path);
      if (entry.type === 'dir' && existing?.type !== 'dir') removeBelow(fs, path, false);
      fs.set(path, entry);
    }
  }
  return fs;
}

function normalize(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

function removeBelow(fs: Map<string, FileEntry>, path: string, includeSelf: boolean): void {
  const prefix = path === '' ? '' : `${path}/`;
  if (includeSelf) fs.delete(path);
  for (const key of [...fs.keys()]) if (key.startsWith(prefix) && key !== path) fs.delete(key);
}
