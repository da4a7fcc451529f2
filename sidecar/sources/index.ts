export type { Observation, ProcessInfo, ParentInfo, FdKind, Source } from './types.ts';
export { createHashCache } from './hash-cache.ts';
export type { HashCache } from './hash-cache.ts';
export { createProcessTracker, countGap } from './process-tracker.ts';
export type { ProcessTracker, ProcessTrackerOptions } from './process-tracker.ts';
export { podScope, containerScope, treeScope } from './scope.ts';
export type { Scope } from './scope.ts';
export { createSocketSource } from './socket-source.ts';
export { createResourceSource } from './resource-source.ts';
