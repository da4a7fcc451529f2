export { escapeTerminal, visibleEscape, UNSAFE_CHARACTERS } from './terminal.ts';
export { forEachFileLine, forEachLine, splitBlocks } from './lines.ts';
export type { BlockOptions, ReadInto } from './lines.ts';
export { escapeBytes } from './bytes.ts';
export { createProgressLine, type ProgressLine } from './progress.ts';
