export { normalize, processFields } from './normalize.ts';
export type { NormalizeContext } from './normalize.ts';
