import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { EnvironmentError, VerificationError, errnoCode } from '../errors/index.ts';
import { readFileInRoot } from '../fs/index.ts';
import { DockerEvent, readJsonLines, type DockerEventsOptions } from './events.ts';
import { DEFAULT_DOCKER_SOCKET } from './socket.ts';

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
  /** `docker images --filter reference=…`: images whose reference matches (e.g. `app` → every `app:*`). */
  listImages(reference: string): Promise<ImageSummary[]>;
  /** `docker save` of one image, as a tar stream. */
  saveImage(ref: string): Promise<Readable>;
  /** `docker load` of an image tar; resolves when the engine has loaded it. */
  loadImage(tar: Readable): Promise<void>;
  tagImage(ref: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string): Promise<void>;
  inspectContainer(ref: string): Promise<ContainerInspect>;
  /**
   * One regular file from an image's filesystem, read through a created (never started)
   * container; `undefined` when the path does not exist. Used to read a seal without `docker save`.
   */
  /**
   * A regular file of the image (undefined when absent or not a regular file). Over `maxBytes` (default
   * 64 MiB): VerificationError('BUNDLE_INVALID'), nothing more is read.
   */
  readImageFile(ref: string, path: string, maxBytes?: number): Promise<Buffer | undefined>;
  /** `docker history`: the image's history entries, newest first (ids of local parent images). */
  imageHistory(ref: string): Promise<ImageHistoryEntry[]>;
  /** `docker push` of a tagged image; resolves when the engine reports it pushed. No auth: anonymous. */
  pushImage(ref: string, auth?: RegistryAuth): Promise<void>;
  /** `docker ps`: the running containers. */
  listContainers(): Promise<ContainerSummary[]>;
  /**
   * The engine's event stream with engine-side filters, until `options.signal` aborts. Records are
   * validated (`DockerEvent`); one that does not fit is skipped and reported to `onSkipped`.
   */
  events(options: DockerEventsOptions, onEvent: (event: DockerEvent) => void): Promise<void>;
  /** `docker stop` (SIGTERM, then SIGKILL after `timeoutSeconds`). */
  stopContainer(ref: string, timeoutSeconds: number): Promise<void>;
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

/** Registry credentials for push (the engine's X-Registry-Auth). */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress?: string;
}

export interface ImageHistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment?: string;
}

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  /** Unix seconds. */
  Created: number;
  Labels?: Record<string, string> | null;
}

export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image: string;
  ImageID: string;
  State?: string;
  Labels?: Record<string, string> | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Labels?: Record<string, string> | null; User?: string };
  State: { Pid: number; Running: boolean; Status: string };
}

export interface DockerClientOptions {
  /** Path to the engine socket; default DEFAULT_DOCKER_SOCKET (/var/run/docker.sock). */
  socketPath?: string;
}

export function createDockerClient(options: DockerClientOptions = {}): DockerClient {
  const socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
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
    listImages: (reference) =>
      call('list images', async () => {
        const images = await docker.listImages({ filters: JSON.stringify({ reference: [reference] }) });
        return images.map((i) => ({ Id: i.Id, RepoTags: i.RepoTags, Created: i.Created, Labels: i.Labels }));
      }),
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
    listContainers: () =>
      call('list containers', async () => {
        const list = await docker.listContainers();
        return list.map((c) => ({
          Id: c.Id,
          Names: c.Names,
          Image: c.Image,
          ImageID: c.ImageID,
          State: c.State,
          Labels: c.Labels,
        }));
      }),
    events: (options, onEvent) =>
      call('events', async () => {
        const stream = await openEvents(docker, options.filters ?? {}, options.signal, options.since);
        const skip = options.onSkipped ?? (() => undefined);
        await readJsonLines(
          stream,
          options.signal,
          (record) => {
            const parsed = DockerEvent.safeParse(record);
            if (parsed.success) onEvent(parsed.data);
            else skip(`event record does not fit: ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
          },
          skip,
        );
      }),
    stopContainer: (ref, timeoutSeconds) =>
      call(`container ${ref}`, async () => {
        try {
          await docker.getContainer(ref).stop({ t: timeoutSeconds });
        } catch (error) {
          // 304: already stopped
          if ((error as { statusCode?: number }).statusCode !== 304) throw error;
        }
      }),
    inspectContainer: (ref) =>
      call(`container ${ref}`, () => docker.getContainer(ref).inspect() as Promise<ContainerInspect>),
    readImageFile: (ref, path, maxBytes = DEFAULT_FILE_MAX_BYTES) =>
      call(`image ${ref}`, async () => {
        const tooLarge = () =>
          new VerificationError('BUNDLE_INVALID', `image ${ref}: ${path} is over the ${maxBytes}-byte limit`);
        // Fast path when the engine is local and uses overlay2: a regular file in the image's top
        // layer is read from the layer's directory (~1 ms instead of ~80 ms for a container mount).
        // The layer is the image author's: the path is resolved inside it, and a symlink anywhere on the
        // way (a `/.sealwatch` pointing at a host directory) is never followed on the host.
        // Anything else (a link, a lower layer, a whiteout, a remote engine, no permission) falls back.
        const inspect = (await docker.getImage(ref).inspect()) as ImageInspect & {
          GraphDriver?: { Name?: string; Data?: Record<string, string> | null };
        };
        const upper = inspect.GraphDriver?.Name === 'overlay2' ? inspect.GraphDriver.Data?.UpperDir : undefined;
        if (upper) {
          const local = readFileInRoot(upper, path, { maxBytes, links: 'refuse' });
          if (local.ok) return local.value;
          if (local.reason === 'too-large') throw tooLarge();
        }
        const container = await docker.createContainer({
          Image: ref,
          Entrypoint: ['/sealwatch-never-started'],
          Cmd: [],
          NetworkDisabled: true,
          Labels: { 'dev.sealwatch.reader': '1' },
        });
        try {
          const archive = (await container.getArchive({ path })) as Readable;
          const file = await firstFileOfTar(archive, maxBytes);
          if (file === 'too-large') throw tooLarge();
          return file;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw error;
        } finally {
          // Not awaited: the answer is ready; the engine removes the never-started container meanwhile
          // (an open request keeps a CLI process alive until it is done).
          void container.remove({ force: true }).catch(() => undefined);
        }
      }),
    imageHistory: (ref) => call(`image ${ref}`, () => docker.getImage(ref).history() as Promise<ImageHistoryEntry[]>),
    pushImage: (ref, auth) =>
      call(`push ${ref}`, async () => {
        // The engine requires the header even for an anonymous push: an empty auth is "{}".
        const response = (await docker.getImage(ref).push({ authconfig: auth ?? {} })) as Readable;
        await drainJsonProgress(response);
      }),
  };
}

async function openEvents(
  docker: Docker,
  filters: Record<string, string[] | undefined>,
  signal: AbortSignal,
  since?: number,
): Promise<Readable> {
  const stream = (await docker.getEvents({
    filters: JSON.stringify(filters),
    ...(since !== undefined ? { since } : {}),
    abortSignal: signal,
  } as Parameters<typeof docker.getEvents>[0])) as Readable;
  if (signal.aborted) stream.destroy();
  else signal.addEventListener('abort', () => stream.destroy(), { once: true });
  return stream;
}

/** The content of the first regular file in a tar stream (getArchive of one file). */
/** The engine's answer for an archive of one path: that path's regular file, at most maxBytes of it. */
async function firstFileOfTar(stream: Readable, maxBytes: number): Promise<Buffer | undefined | 'too-large'> {
  const reader = extract();
  stream.pipe(reader);
  let found: Buffer | undefined;
  try {
    for await (const entry of reader) {
      const wanted = found === undefined && entry.header.type === 'file';
      if (wanted && (entry.header.size ?? 0) > maxBytes) return 'too-large';
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Uint8Array>) if (wanted) chunks.push(Buffer.from(chunk));
      if (wanted) found = Buffer.concat(chunks);
    }
  } finally {
    stream.destroy();
  }
  return found;
}

/** The seal's own cap (a seal is at most 64 MiB); other callers pass theirs. */
const DEFAULT_FILE_MAX_BYTES = 64 * 1024 * 1024;

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
      `Docker engine not reachable at ${socketPath}; start it (systemctl start docker) or pass --docker-socket (sealwatch doctor checks the set-up)`,
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EnvironmentError('IO', `${what}: ${message.split('\n')[0] ?? message}`, { cause: error });
}
