export { readLayerTar, normalizeLayerPath, keepsContent } from './layer-reader.ts';
export type { FileEntry, LayerRecord } from './layer-reader.ts';
export { mergeLayers } from './merge-layers.ts';
export { buildInventory, resolveSymlink, parseDpkgStatus, parseApkInstalled, parsePasswd } from './build-inventory.ts';
