export { createDockerClient } from './client.ts';
export type {
  DockerClient,
  DockerClientOptions,
  ImageInspect,
  ContainerInspect,
  ImageHistoryEntry,
  RegistryAuth,
} from './client.ts';
