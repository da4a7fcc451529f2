export { replaceFileAtomic, unsafeDirectoryReason } from './replace-file.ts';
