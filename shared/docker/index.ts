export { createDockerClient } from './client.ts';
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
