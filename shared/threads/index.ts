export { distFile, threadCode } from './thread-code.ts';
