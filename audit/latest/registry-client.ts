import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EnvironmentError, UsageError, VerificationError } from '../../shared/errors/index.ts';
import type { ListedImage } from './sealed-build.ts';

/**
 * A small Docker Registry HTTP API v2 client: tags, manifests (Docker v2 and OCI, image indexes
 * resolved to linux/amd64 or the first entry), config blobs and small layer blobs. Auth: anonymous,
 * basic, or bearer tokens from the realm the registry names (token endpoint must be https, the
 * registry's own origin, or loopback when the registry is too, so credentials never go in clear text
 * to another host). Every response is validated with zod.
 */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** `https://registry.example` or `http://127.0.0.1:5000`. */
  baseUrl: string;
  credentials?: RegistryCredentials;
  /** Injected for tests; default global fetch. */
  fetch?: typeof fetch;
  /** At most this many tags are examined (newest builds are found by their labels, not tag order). */
  maxTags?: number;
}

const TagList = z.object({ name: z.string(), tags: z.array(z.string()).nullable() });
const Descriptor = z.looseObject({ mediaType: z.string().optional(), digest: z.string(), size: z.number().optional() });
const ImageManifest = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
});
const ImageIndex = z.looseObject({
  schemaVersion: z.literal(2),
  manifests: z.array(
    Descriptor.extend({
      platform: z.looseObject({ os: z.string().optional(), architecture: z.string().optional() }).optional(),
    }),
  ),
});
const ConfigBlob = z.looseObject({
  created: z.string().optional(),
  config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  rootfs: z.looseObject({ diff_ids: z.array(z.string()) }).optional(),
});
export type RegistryConfigBlob = z.infer<typeof ConfigBlob>;
const TokenResponse = z.looseObject({ token: z.string().optional(), access_token: z.string().optional() });

const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface RegistryImage extends ListedImage {
  manifestDigest: string;
  config: RegistryConfigBlob;
  layers: { digest: string; mediaType?: string; size?: number }[];
}

export class RegistryClient {
  private readonly base: URL;
  private readonly fetchFn: typeof fetch;
  private authHeader: string | undefined;

  constructor(private readonly options: RegistryOptions) {
    try {
      this.base = new URL(options.baseUrl);
    } catch {
      throw new UsageError('BAD_ARGUMENT', `--registry: "${options.baseUrl}" is not a URL`);
    }
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw new UsageError('BAD_ARGUMENT', `--registry: "${options.baseUrl}" must be http:// or https://`);
    }
    this.fetchFn = options.fetch ?? fetch;
  }

  get origin(): string {
    return this.base.origin;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (next !== undefined && tags.length < (this.options.maxTags ?? 10_000)) {
      const response = await this.request(next, { accept: 'application/json' }, `tags of ${repository}`);
      if (response.status === 404) return [];
      const list = TagList.safeParse(await this.json(response, `tags of ${repository}`));
      if (!list.success) throw this.badResponse(`tags of ${repository}`, 'not a tag list');
      tags.push(...(list.data.tags ?? []));
      next = nextLink(response.headers.get('link'));
    }
    return tags.sort();
  }

  /** The image a tag points at: manifest digest, config blob (labels, created, diff_ids), layers. */
  async getImage(repository: string, tag: string): Promise<RegistryImage> {
    const what = `${repository}:${tag}`;
    let response = await this.request(
      `/v2/${repository}/manifests/${encodeURIComponent(tag)}`,
      { accept: MANIFEST_ACCEPT },
      what,
    );
    if (response.status === 404) throw new EnvironmentError('NOT_FOUND', `registry ${this.origin}: ${what} not found`);
    let body = await this.json(response, what);
    let manifestDigest = response.headers.get('docker-content-digest') ?? '';
    const index = ImageIndex.safeParse(body);
    if (index.success && !('config' in (body as object))) {
      const pick =
        index.data.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
        index.data.manifests[0];
      if (!pick) throw this.badResponse(what, 'empty image index');
      response = await this.request(`/v2/${repository}/manifests/${pick.digest}`, { accept: MANIFEST_ACCEPT }, what);
      body = await this.json(response, what);
      manifestDigest = pick.digest;
    }
    const manifest = ImageManifest.safeParse(body);
    if (!manifest.success) throw this.badResponse(what, 'not a v2 image manifest');
    const config = ConfigBlob.safeParse(
      JSON.parse((await this.blob(repository, manifest.data.config.digest, what)).toString('utf8')),
    );
    if (!config.success) throw this.badResponse(what, 'config blob is not an image config');
    return {
      repository,
      tags: [tag],
      imageId: manifest.data.config.digest,
      manifestDigest,
      ...(config.data.created !== undefined ? { created: config.data.created } : {}),
      labels: config.data.config?.Labels ?? {},
      config: config.data,
      layers: manifest.data.layers.map((l) => ({
        digest: l.digest,
        ...(l.mediaType !== undefined ? { mediaType: l.mediaType } : {}),
        ...(l.size !== undefined ? { size: l.size } : {}),
      })),
    };
  }

  /** A blob by digest, checked against its digest. */
  async blob(repository: string, digest: string, what: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, { accept: '*/*' }, what);
    if (!response.ok) throw this.badResponse(what, `blob ${digest}: HTTP ${response.status}`);
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > maxBytes) throw this.badResponse(what, `blob ${digest} is ${length} bytes (limit ${maxBytes})`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest.startsWith('sha256:') && actual !== digest) {
      throw new VerificationError(
        'BUNDLE_INVALID',
        `registry ${this.origin}: ${what}: blob ${digest} has digest ${actual}`,
      );
    }
    return bytes;
  }

  private async json(response: Response, what: string): Promise<unknown> {
    if (!response.ok) throw this.badResponse(what, `HTTP ${response.status}`);
    try {
      return await response.json();
    } catch {
      throw this.badResponse(what, 'response is not JSON');
    }
  }

  private badResponse(what: string, why: string): EnvironmentError {
    return new EnvironmentError('IO', `registry ${this.origin}: ${what}: ${why}`);
  }

  private async request(path: string, headers: { accept: string }, what: string, retried = false): Promise<Response> {
    const url = new URL(path, this.base);
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        headers: {
          accept: headers.accept,
          ...(this.authHeader !== undefined ? { authorization: this.authHeader } : {}),
        },
        redirect: 'follow',
      });
    } catch (error) {
      throw new EnvironmentError(
        'IO',
        `registry ${this.origin}: ${what}: cannot connect (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})`,
        {
          cause: error,
        },
      );
    }
    if (response.status === 401 && !retried) {
      await response.body?.cancel();
      await this.authenticate(response.headers.get('www-authenticate') ?? '', what);
      return this.request(path, headers, what, true);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: ${what}: HTTP ${response.status} (give --username and --password-env for this registry)`,
      );
    }
    return response;
  }

  private async authenticate(challenge: string, what: string): Promise<void> {
    const creds = this.options.credentials;
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') {
      if (!creds)
        throw new EnvironmentError(
          'PERMISSION_DENIED',
          `registry ${this.origin}: ${what}: needs basic auth (give --username and --password-env)`,
        );
      this.authHeader = basic(creds);
      return;
    }
    if (scheme !== 'bearer') {
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: ${what}: unsupported auth challenge "${challenge.slice(0, 80)}"`,
      );
    }
    const params = parseChallenge(challenge.slice('bearer'.length));
    const realm = params.realm;
    if (realm === undefined)
      throw new EnvironmentError('PERMISSION_DENIED', `registry ${this.origin}: bearer challenge without a realm`);
    const tokenUrl = new URL(realm);
    const loopback = (host: string): boolean => /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(host);
    const sameMachine = loopback(tokenUrl.hostname) && loopback(this.base.hostname);
    if (tokenUrl.protocol !== 'https:' && tokenUrl.origin !== this.base.origin && !sameMachine) {
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: token realm ${tokenUrl.origin} is neither https, the registry itself, nor on this machine's loopback; refusing to send credentials`,
      );
    }
    if (params.service !== undefined) tokenUrl.searchParams.set('service', params.service);
    if (params.scope !== undefined) tokenUrl.searchParams.set('scope', params.scope);
    let response: Response;
    try {
      response = await this.fetchFn(tokenUrl, { headers: creds ? { authorization: basic(creds) } : {} });
    } catch (error) {
      throw new EnvironmentError('IO', `registry ${this.origin}: token endpoint ${tokenUrl.origin}: cannot connect`, {
        cause: error,
      });
    }
    if (!response.ok) {
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: token endpoint refused (HTTP ${response.status})`,
      );
    }
    const token = TokenResponse.safeParse(await response.json().catch(() => undefined));
    const value = token.success ? (token.data.token ?? token.data.access_token) : undefined;
    if (value === undefined)
      throw new EnvironmentError('PERMISSION_DENIED', `registry ${this.origin}: token endpoint gave no token`);
    this.authHeader = `Bearer ${value}`;
  }
}

function basic(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** `realm="https://auth",service="registry",scope="repository:app:pull"` → a map. */
export function parseChallenge(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) out[match[1]!.toLowerCase()] = match[2]!;
  return out;
}

/** RFC 5988 `Link: </v2/app/tags/list?n=1000&last=x>; rel="next"`. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  const match = /<([^>]+)>;\s*rel="?next"?/.exec(header);
  return match?.[1];
}
