import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { EnvironmentError, errnoCode } from '../errors/index.ts';

/**
 * The one adapter over dockerode: the rest of the code never imports it, and never sees its
 * callback/promise mix or its types. Errors come out as EnvironmentError with a code
 * (DOCKER_UNREACHABLE, NOT_FOUND, PERMISSION_DENIED) and a message that says what to do.
 * Extend this interface (and `createDockerClient`) when a caller needs more of the engine.
 */
export interface DockerClient {
  /** Resolves if the engine answers; throws EnvironmentError('DOCKER_UNREACHABLE') otherwise. */
  ping(): Promise<void>;
  inspectImage(ref: string): Promise<ImageInspect>;
  /** `docker save` of one image, as a tar stream. */
  saveImage(ref: string): Promise<Readable>;
  /** `docker load` of an image tar; resolves when the engine has loaded it. */
  loadImage(tar: Readable): Promise<void>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string): Promise<void>;
  inspectContainer(ref: string): Promise<ContainerInspect>;
  /** Raw engine handle for the few callers that need more; prefer adding a method above. */
  readonly raw: Docker;
}

export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: string;
  Config?: {
    User?: string;
    Entrypoint?: string[] | string | null;
    Cmd?: string[] | string | null;
    Env?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
  };
  RootFS?: { Type: string; Layers?: string[] };
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Labels?: Record<string, string> | null; User?: string };
  State: { Pid: number; Running: boolean; Status: string };
}

export interface DockerClientOptions {
  /** Path to the engine socket; default DOCKER_HOST's unix path or /var/run/docker.sock. */
  socketPath?: string;
}

export function createDockerClient(options: DockerClientOptions = {}): DockerClient {
  const socketPath = options.socketPath ?? '/var/run/docker.sock';
  const docker = new Docker({ socketPath });
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toEnvironmentError(error, what, socketPath);
    }
  };
  return {
    raw: docker,
    ping: async () => {
      await call('ping', () => docker.ping());
    },
    inspectImage: (ref) => call(`image ${ref}`, () => docker.getImage(ref).inspect() as Promise<ImageInspect>),
    saveImage: (ref) => call(`image ${ref}`, () => docker.getImage(ref).get() as Promise<Readable>),
    loadImage: (tar) =>
      call('load', async () => {
        const response = (await docker.loadImage(tar)) as Readable;
        await drainJsonProgress(response);
      }),
    tagImage: (ref, repo, tag) =>
      call(`image ${ref}`, async () => {
        await docker.getImage(ref).tag({ repo, tag });
      }),
    removeImage: (ref) =>
      call(`image ${ref}`, async () => {
        await docker.getImage(ref).remove();
      }),
    inspectContainer: (ref) =>
      call(`container ${ref}`, () => docker.getContainer(ref).inspect() as Promise<ContainerInspect>),
  };
}

/** Reads the engine's JSON progress stream to its end and throws on an `error` record. */
async function drainJsonProgress(stream: Readable): Promise<void> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: { error?: string; errorDetail?: { message?: string } };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue;
    }
    if (record.error) throw new Error(record.errorDetail?.message ?? record.error);
  }
}

function toEnvironmentError(error: unknown, what: string, socketPath: string): EnvironmentError {
  const status = (error as { statusCode?: number }).statusCode;
  const errno = errnoCode(error);
  if (status === 404)
    return new EnvironmentError('NOT_FOUND', `${what}: not found in the Docker engine`, { cause: error });
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new EnvironmentError(
      'PERMISSION_DENIED',
      `Docker socket ${socketPath}: permission denied (run as root or join the docker group)`,
      {
        cause: error,
      },
    );
  }
  if (errno === 'ENOENT' || errno === 'ECONNREFUSED') {
    return new EnvironmentError(
      'DOCKER_UNREACHABLE',
      `Docker engine not reachable at ${socketPath}; start it (scripts/start-docker.sh) or pass --docker-socket`,
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EnvironmentError('IO', `${what}: ${message.split('\n')[0] ?? message}`, { cause: error });
}
