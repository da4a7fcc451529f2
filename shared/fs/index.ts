export {
  openDirInRoot,
  openFileInRoot,
  readFileInRoot,
  statInRoot,
  walkInRoot,
  fileKind,
  MAX_LINKS,
} from './in-root.ts';
export type {
  DirInRoot,
  InRootFailure,
  InRootResult,
  InRootOptions,
  ReadInRootOptions,
  RootEntry,
  WalkInRootOptions,
  WalkSummary,
} from './in-root.ts';
export { replaceFileAtomic, unsafeDirectoryReason } from './replace-file.ts';
