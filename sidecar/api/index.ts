export { createApi, listenApi } from './server.ts';
export type { ApiDeps, WatchStatus } from './server.ts';
export { createWatchMetrics } from './metrics.ts';
export type { WatchMetrics } from './metrics.ts';
