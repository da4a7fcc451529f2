import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildInventory, mergeLayers, readLayerTar } from '../../action/inventory/index.ts';
import { layerTar, type LayerEntry } from './hand-made-layers.ts';

const read = async (entries: LayerEntry[]) => readLayerTar(Readable.from([await layerTar(entries)]));

/** The final rootfs from hand-made layer tars, read by the real layer reader. */
describe('merging layers as the engine does', () => {
  it('whiteouts, opaque directories and a directory replaced by a file hide what is below them', async () => {
    const lower = await read([
      { name: 'a/x', content: 'x' },
      { name: 'a/y/z', content: 'z' },
      { name: 'b/keep', content: 'k' },
      { name: 'c/old', content: 'o' },
      { name: 'd/inner', content: 'i' },
      { name: 'ab', content: 'sibling with a common prefix' },
    ]);
    const upper = await read([
      { name: 'a/.wh.y', content: '' },
      { name: 'c/.wh..wh..opq', content: '' },
      { name: 'c/new', content: 'n' },
      { name: 'd', content: 'now a file' },
    ]);
    const fs = mergeLayers([lower, upper]);
    expect([...fs.keys()].sort()).toEqual(['a/x', 'ab', 'b/keep', 'c/new', 'd']);
  });

  it('hard links in any spelling are the file they name', async () => {
    const layer = await read([
      { name: 'usr/lib/real', mode: 0o755, content: 'real' },
      { name: 'usr/sbin/a', type: 'link', linkname: 'usr//lib/real' },
      { name: 'usr/sbin/b', type: 'link', linkname: 'usr/bin/../lib/real' },
      { name: 'usr/sbin/c', type: 'link', linkname: './usr/lib/real' },
      { name: 'usr/sbin/d', type: 'link', linkname: '/usr/lib/real' },
      { name: 'usr/sbin/e', type: 'link', linkname: '../../../usr/lib/real' },
    ]);
    const inventory = buildInventory(mergeLayers([layer]));
    const hashes = new Map(inventory.executables.map((e) => [e.path, e.sha256]));
    for (const p of ['a', 'b', 'c', 'd', 'e'])
      expect(hashes.get(`/usr/sbin/${p}`), p).toBe(hashes.get('/usr/lib/real'));
  });

  it('40,000 whiteouts over 40,000 files: all applied', () => {
    const n = 40_000;
    const file = { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0 } as const;
    const names = Array.from({ length: n }, (_, i) => `d${i % 100}/f${i}`);
    const lower = { entries: new Map(names.map((p) => [p, file] as const)), whiteouts: [], opaqueDirs: [] };
    const upper = { entries: new Map(), whiteouts: names, opaqueDirs: [] };
    expect(mergeLayers([lower, upper]).size).toBe(0);
  });
});
