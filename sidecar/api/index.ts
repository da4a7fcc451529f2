export { createApi, listenApi } from './server.ts';
export type { ApiDeps } from './server.ts';
export { bindConnectorMetrics, bindDockerEventMetrics, createWatchMetrics } from './metrics.ts';
export type { ConnectorMetricsSource, WatchMetrics } from './metrics.ts';
