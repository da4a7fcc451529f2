export { normalize, processFields } from './normalize.ts';
export type { NormalizeContext } from './normalize.ts';
export { programName, programNames, programOf } from './program.ts';
export type { Program } from './program.ts';
