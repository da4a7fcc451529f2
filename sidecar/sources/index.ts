export type { Observation, ProcessInfo, ParentInfo, FdKind, FileSight, Source } from './types.ts';
export { createHashCache } from './hash-cache.ts';
export type { HashCache } from './hash-cache.ts';
export { createProcessTracker, countGap } from './process-tracker.ts';
export type { ProcessTracker, ProcessTrackerOptions } from './process-tracker.ts';
export { podScope, containerScope, treeScope, podContainerIdOf } from './scope.ts';
export type { ContainerScope, PodScope, Scope, TreeScope } from './scope.ts';
export { createSocketSource } from './socket-source.ts';
export { createResourceSource } from './resource-source.ts';
export { createProcConnector, openProcConnector, parseProcEvents } from './proc-connector/index.ts';
export type { ProcConnector, ProcConnectorOptions, ProcConnectorStats, ProcEvent } from './proc-connector/index.ts';
export { containerEventSource, createDockerSource } from './docker-source.ts';
export type { ContainerEventSource, DockerSource } from './docker-source.ts';
export {
  classifyContainerEvent,
  containerChangesOf,
  DockerContainerEvent,
  followContainerChanges,
  streamBreakObservation,
} from './docker-event.ts';
export type { ContainerChange, ContainerChangeStream } from './docker-event.ts';
export { createContainerFollower } from './container-follower.ts';
export type { ContainerFollower, ContainerState } from './container-follower.ts';
export { createSetuidScan, WRITABLE_DIRS } from './setuid-scan.ts';
export type { SetuidScanOptions } from './setuid-scan.ts';
