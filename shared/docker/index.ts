export { createDockerClient } from './client.ts';
export type { DockerClient, DockerClientOptions, ImageInspect, ContainerInspect, ImageHistoryEntry } from './client.ts';
