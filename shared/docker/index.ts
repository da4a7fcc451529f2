export { createDockerClient } from './client.ts';
export { DEFAULT_DOCKER_SOCKET } from './socket.ts';
export { DockerEvent } from './events.ts';
export { followEvents } from './follow-events.ts';
export type { FollowEventsOptions } from './follow-events.ts';
export type { DockerEventFilters, DockerEventsOptions } from './events.ts';
export type {
  DockerClient,
  DockerClientOptions,
  ImageInspect,
  ContainerInspect,
  ContainerSummary,
  ImageSummary,
  ImageHistoryEntry,
  RegistryAuth,
} from './client.ts';
