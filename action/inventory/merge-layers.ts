import { normalizeLayerPath, type FileEntry, type LayerRecord } from './layer-reader.ts';

/**
 * Applies layers bottom to top as the engine does: first what the layer hides below it (opaque directories,
 * whiteouts, and directories it replaces with a file or link), then its own entries. Hard link targets are
 * normalized as the engine normalizes them (`usr//lib/x`, `usr/bin/../lib/x` and `./usr/lib/x` are one file),
 * so a link cannot hide an executable from the inventory. Linear in the number of paths per layer: hidden
 * paths are collected in sets and the tree is swept once per layer that hides anything.
 */
export function mergeLayers(layers: readonly LayerRecord[]): Map<string, FileEntry> {
  const fs = new Map<string, FileEntry>();
  for (const layer of layers) {
    /** everything below these goes: opaque directories, and every path this layer makes a file or a link */
    const below = new Set(layer.opaqueDirs);
    for (const [path, entry] of layer.entries) if (entry.type !== 'dir') below.add(path);
    /** these go, with everything below them */
    const gone = new Set(layer.whiteouts);
    if (below.size + gone.size > 0) {
      for (const path of fs.keys()) if (hidden(path, below, gone)) fs.delete(path);
    }
    for (const [path, entry] of layer.entries) {
      if (entry.type === 'link') {
        // A hardlink is the same file as its target (in this layer or below).
        const targetPath = normalizeLayerPath(entry.target ?? '');
        const target = layer.entries.get(targetPath) ?? fs.get(targetPath);
        fs.set(path, target && target.type !== 'link' ? { ...target } : { ...entry, type: 'file' });
        continue;
      }
      fs.set(path, entry);
    }
  }
  return fs;
}

function hidden(path: string, below: ReadonlySet<string>, gone: ReadonlySet<string>): boolean {
  if (below.has('') || gone.has(path)) return true;
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const dir = path.slice(0, i);
    if (below.has(dir) || gone.has(dir)) return true;
  }
  return false;
}
