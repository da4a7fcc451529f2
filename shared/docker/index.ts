export { createDockerClient } from './client.ts';
export type { DockerClient, DockerClientOptions, ImageInspect, ContainerInspect } from './client.ts';
