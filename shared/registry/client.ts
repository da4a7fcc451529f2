import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EnvironmentError, UsageError, VerificationError } from '../errors/index.ts';

/**
 * The one registry reader (Docker Registry HTTP API v2, OCI distribution): tags, manifests (Docker v2 and
 * OCI; image indexes resolved to one platform), config blobs and small layer blobs. Used by `audit latest`,
 * `audit image`, `verify --image` and the admission webhook.
 *
 * Everything a registry sends is hostile input:
 *  - every response body is read to a bound (manifests and tag pages 4 MiB, token answers 64 KiB, blobs as
 *    the caller says) and every request to a time bound (`timeoutMs`, and the caller's `signal`);
 *  - manifests fetched by digest and every blob are checked against their digest;
 *  - the credentials go only to the registry's own origin: redirects are followed by hand (5 at most) and
 *    carry no Authorization once they leave it (blob stores), a `Link: rel="next"` page on another origin
 *    is refused, and the token realm must be https, the registry itself, or loopback when the registry is;
 *  - every JSON answer is validated with zod; errors name the registry's origin, never the credentials.
 */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryOptions {
  /** `https://registry.example` or `http://127.0.0.1:5000`. */
  baseUrl: string;
  credentials?: RegistryCredentials;
  /** Time bound of one request, body included (default 30 s). */
  timeoutMs?: number;
  /** At most this many tags are examined (newest builds are found by their labels, not tag order). */
  maxTags?: number;
  /** Which entry of an image index is read (default linux/amd64, else the first). */
  platform?: { os: string; architecture: string };
}

/** Per call: the caller's deadline (admission answers within the webhook timeout). */
export interface CallOptions {
  signal?: AbortSignal;
}

export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
const TOKEN_MAX_BYTES = 64 * 1024;
const MAX_REDIRECTS = 5;

const TagList = z.object({ name: z.string(), tags: z.array(z.string()).nullable() });
const Descriptor = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a sha256 digest'),
  size: z.number().int().nonnegative().optional(),
});
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

export interface RegistryImage {
  repository: string;
  /** The tag or digest it was asked by. */
  reference: string;
  /** Digest of the manifest the reference resolved to (of the index when it is one). */
  digest: string;
  /** Digest of the platform image manifest read (equal to `digest` unless the reference is an index). */
  manifestDigest: string;
  /** The config blob's digest (the image id). */
  imageId: string;
  /** The config blob, exactly as stored (its digest was checked). */
  configText: string;
  config: RegistryConfigBlob;
  labels: Record<string, string>;
  created?: string;
  layers: { digest: string; mediaType?: string; size?: number }[];
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class RegistryClient {
  private readonly base: URL;
  private readonly timeoutMs: number;
  /** Authorization per repository (bearer tokens are scoped to one), or for the whole registry (basic). */
  private readonly auth = new Map<string, string>();

  constructor(private readonly options: RegistryOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new UsageError('BAD_ARGUMENT', `--registry: "${redactUrlText(options.baseUrl)}" is not a URL`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new UsageError('BAD_ARGUMENT', `--registry: "${base.origin}" must be http:// or https://`);
    }
    if (base.username !== '' || base.password !== '') {
      throw new UsageError(
        'BAD_ARGUMENT',
        `--registry: ${base.origin}: put no credentials in the URL (use --username and --password-env)`,
      );
    }
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get origin(): string {
    return this.base.origin;
  }

  async listTags(repository: string, call: CallOptions = {}): Promise<string[]> {
    const what = `tags of ${repository}`;
    const tags: string[] = [];
    let next: URL | undefined = new URL(`/v2/${repository}/tags/list?n=1000`, this.base);
    while (next !== undefined && tags.length < (this.options.maxTags ?? 10_000)) {
      const response = await this.request(next, 'application/json', repository, what, call);
      if (response.status === 404) {
        await response.body?.cancel();
        return [];
      }
      const list = TagList.safeParse(await this.json(response, what, MANIFEST_MAX_BYTES, call));
      if (!list.success) throw this.badResponse(what, 'not a tag list');
      tags.push(...(list.data.tags ?? []));
      const link = nextLink(response.headers.get('link'));
      next = link === undefined ? undefined : new URL(link, next);
      if (next !== undefined && next.origin !== this.base.origin) {
        throw this.badResponse(what, `the next page is on another origin (${next.origin}); not followed`);
      }
    }
    return tags.sort();
  }

  /**
   * The image a tag or digest names: the manifest (an index resolved to the configured platform), then its
   * config blob (labels, created, diff_ids). A manifest asked by digest must hash to it.
   */
  async getImage(repository: string, reference: string, call: CallOptions = {}): Promise<RegistryImage> {
    const what = `${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const first = await this.manifest(repository, reference, what, call);
    let { body } = first;
    const digest = first.digest;
    let manifestDigest = digest;
    const index = ImageIndex.safeParse(body);
    if (index.success && !('config' in (body as object))) {
      const want = this.options.platform ?? { os: 'linux', architecture: 'amd64' };
      const pick =
        index.data.manifests.find((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture) ??
        index.data.manifests[0];
      if (!pick) throw this.badResponse(what, 'empty image index');
      ({ body } = await this.manifest(repository, pick.digest, what, call));
      manifestDigest = pick.digest;
    }
    const manifest = ImageManifest.safeParse(body);
    if (!manifest.success) throw this.badResponse(what, 'not a v2 image manifest');
    const configBytes = await this.blob(repository, manifest.data.config.digest, what, MANIFEST_MAX_BYTES, call);
    let configJson: unknown;
    try {
      configJson = JSON.parse(configBytes.toString('utf8'));
    } catch {
      throw this.badResponse(what, 'config blob is not JSON');
    }
    const config = ConfigBlob.safeParse(configJson);
    if (!config.success) throw this.badResponse(what, 'config blob is not an image config');
    return {
      repository,
      reference,
      digest,
      manifestDigest,
      imageId: manifest.data.config.digest,
      configText: configBytes.toString('utf8'),
      config: config.data,
      labels: config.data.config?.Labels ?? {},
      ...(config.data.created !== undefined ? { created: config.data.created } : {}),
      layers: manifest.data.layers.map((l) => ({
        digest: l.digest,
        ...(l.mediaType !== undefined ? { mediaType: l.mediaType } : {}),
        ...(l.size !== undefined ? { size: l.size } : {}),
      })),
    };
  }

  /** The digest a tag points at now (HEAD, falling back to GET), for caching by digest. */
  async resolveDigest(repository: string, reference: string, call: CallOptions = {}): Promise<string> {
    if (/^sha256:[0-9a-f]{64}$/.test(reference)) return reference;
    return (await this.manifest(repository, reference, `${repository}:${reference}`, call)).digest;
  }

  /** A blob by digest, at most `maxBytes`, checked against its digest. */
  async blob(
    repository: string,
    digest: string,
    what: string,
    maxBytes = 64 * 1024 * 1024,
    call: CallOptions = {},
  ): Promise<Buffer> {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw this.badResponse(what, 'a blob digest is not sha256');
    const response = await this.request(
      new URL(`/v2/${repository}/blobs/${digest}`, this.base),
      '*/*',
      repository,
      what,
      call,
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw this.badResponse(what, `blob ${digest}: HTTP ${response.status}`);
    }
    const bytes = await this.readBounded(response, maxBytes, `${what}: blob ${digest}`, call);
    const actual = sha256(bytes);
    if (actual !== digest) {
      throw new VerificationError(
        'BUNDLE_INVALID',
        `registry ${this.origin}: ${what}: blob ${digest} has digest ${actual}`,
      );
    }
    return bytes;
  }

  private async manifest(
    repository: string,
    reference: string,
    what: string,
    call: CallOptions,
  ): Promise<{ body: unknown; digest: string }> {
    const response = await this.request(
      new URL(`/v2/${repository}/manifests/${encodeURIComponent(reference)}`, this.base),
      MANIFEST_ACCEPT,
      repository,
      what,
      call,
    );
    if (response.status === 404) {
      await response.body?.cancel();
      throw new EnvironmentError('NOT_FOUND', `registry ${this.origin}: ${what} not found`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw this.badResponse(what, `HTTP ${response.status}`);
    }
    const bytes = await this.readBounded(response, MANIFEST_MAX_BYTES, what, call);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new VerificationError(
        'BUNDLE_INVALID',
        `registry ${this.origin}: ${what}: the manifest served has digest ${digest}`,
      );
    }
    try {
      return { body: JSON.parse(bytes.toString('utf8')) as unknown, digest };
    } catch {
      throw this.badResponse(what, 'manifest is not JSON');
    }
  }

  private async json(response: Response, what: string, maxBytes: number, call: CallOptions): Promise<unknown> {
    if (!response.ok) {
      await response.body?.cancel();
      throw this.badResponse(what, `HTTP ${response.status}`);
    }
    const bytes = await this.readBounded(response, maxBytes, what, call);
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw this.badResponse(what, 'response is not JSON');
    }
  }

  /** The body, at most `maxBytes`; a longer one is cut off and refused. */
  private async readBounded(response: Response, maxBytes: number, what: string, call: CallOptions): Promise<Buffer> {
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw this.badResponse(what, `the response exceeds ${maxBytes} bytes; not read further`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (!response.body) return Buffer.alloc(0);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel();
          throw this.badResponse(what, `the response exceeds ${maxBytes} bytes; not read further`);
        }
        chunks.push(Buffer.from(value));
      }
    } catch (error) {
      throw this.transportError(error, what, call);
    }
    return Buffer.concat(chunks);
  }

  private badResponse(what: string, why: string): EnvironmentError {
    return new EnvironmentError('IO', `registry ${this.origin}: ${what}: ${why}`);
  }

  /** A timeout, the caller's abort or a broken connection as one line; our own errors pass through. */
  private transportError(error: unknown, what: string, call: CallOptions): Error {
    if (error instanceof EnvironmentError || error instanceof VerificationError) return error;
    const name = error instanceof Error ? error.name : '';
    if (call.signal?.aborted) {
      return new EnvironmentError('IO', `registry ${this.origin}: ${what}: given up (the caller's deadline passed)`, {
        cause: error,
      });
    }
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new EnvironmentError(
        'IO',
        `registry ${this.origin}: ${what}: no answer within ${Number((this.timeoutMs / 1000).toFixed(1))} s`,
        { cause: error },
      );
    }
    const detail =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return new EnvironmentError('IO', `registry ${this.origin}: ${what}: cannot connect (${detail})`, {
      cause: error,
    });
  }

  private signal(call: CallOptions): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return call.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
  }

  private async request(
    url: URL,
    accept: string,
    repository: string,
    what: string,
    call: CallOptions,
    retried = false,
  ): Promise<Response> {
    const signal = this.signal(call);
    let response: Response;
    let current = url;
    try {
      for (let hop = 0; ; hop++) {
        const authorization = current.origin === this.base.origin ? this.authFor(repository) : undefined;
        response = await fetch(current, {
          headers: { accept, ...(authorization !== undefined ? { authorization } : {}) },
          redirect: 'manual',
          signal,
        });
        const location = response.headers.get('location');
        if (response.status < 300 || response.status >= 400 || location === null) break;
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw this.badResponse(what, `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, current);
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.base.protocol === 'http:')) {
          throw this.badResponse(what, `redirected to ${next.protocol} (${next.origin}); not followed`);
        }
        current = next;
      }
    } catch (error) {
      throw this.transportError(error, what, call);
    }
    if (response.status === 401 && !retried && current.origin === this.base.origin) {
      await response.body?.cancel();
      await this.authenticate(response.headers.get('www-authenticate') ?? '', repository, what, call);
      return this.request(url, accept, repository, what, call, true);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: ${what}: HTTP ${response.status} (give --username and --password-env for this registry)`,
      );
    }
    // the body is read within the same time bound
    return response;
  }

  private authFor(repository: string): string | undefined {
    return this.auth.get(repository) ?? this.auth.get('');
  }

  private async authenticate(challenge: string, repository: string, what: string, call: CallOptions): Promise<void> {
    const creds = this.options.credentials;
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') {
      if (!creds)
        throw new EnvironmentError(
          'PERMISSION_DENIED',
          `registry ${this.origin}: ${what}: needs basic auth (give --username and --password-env)`,
        );
      this.auth.set('', basic(creds));
      return;
    }
    if (scheme !== 'bearer') {
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: ${what}: unsupported auth challenge "${challenge.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}"`,
      );
    }
    const params = parseChallenge(challenge.slice('bearer'.length));
    const realm = params.realm;
    if (realm === undefined)
      throw new EnvironmentError('PERMISSION_DENIED', `registry ${this.origin}: bearer challenge without a realm`);
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new EnvironmentError('PERMISSION_DENIED', `registry ${this.origin}: the token realm is not a URL`);
    }
    const sameMachine = LOOPBACK_HOST.test(tokenUrl.hostname) && LOOPBACK_HOST.test(this.base.hostname);
    if (tokenUrl.protocol !== 'https:' && tokenUrl.origin !== this.base.origin && !sameMachine) {
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: token realm ${tokenUrl.origin} is neither https, the registry itself, nor on this machine's loopback; refusing to send credentials`,
      );
    }
    if (params.service !== undefined) tokenUrl.searchParams.set('service', params.service);
    if (params.scope !== undefined) tokenUrl.searchParams.set('scope', params.scope);
    const endpoint = `token endpoint ${tokenUrl.origin}`;
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        headers: creds ? { authorization: basic(creds) } : {},
        redirect: 'error',
        signal: this.signal(call),
      });
    } catch (error) {
      throw this.transportError(error, endpoint, call);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new EnvironmentError(
        'PERMISSION_DENIED',
        `registry ${this.origin}: token endpoint refused (HTTP ${response.status})`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse((await this.readBounded(response, TOKEN_MAX_BYTES, endpoint, call)).toString('utf8'));
    } catch (error) {
      if (error instanceof EnvironmentError) throw error;
      parsed = undefined;
    }
    const token = TokenResponse.safeParse(parsed);
    const value = token.success ? (token.data.token ?? token.data.access_token) : undefined;
    if (value === undefined || !/^[\x21-\x7e]+$/.test(value))
      throw new EnvironmentError('PERMISSION_DENIED', `registry ${this.origin}: token endpoint gave no token`);
    this.auth.set(repository, `Bearer ${value}`);
  }
}

function basic(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** A URL-ish text with any `user:password@` cut out, for messages. */
function redactUrlText(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@').slice(0, 200);
}

/** `realm="https://auth",service="registry",scope="repository:app:pull"` → a map. */
export function parseChallenge(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) out[match[1]!.toLowerCase()] = match[2]!;
  return out;
}

/** RFC 8288 `Link: </v2/app/tags/list?n=1000&last=x>; rel="next"`. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  const match = /<([^>]+)>;\s*rel="?next"?/.exec(header);
  return match?.[1];
}
