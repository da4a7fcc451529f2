import { createHash } from 'node:crypto';
import { VerificationError, isSealwatchError } from '../shared/errors/index.ts';
import {
  RegistryClient,
  credentialsFor,
  parseImageReference,
  registryApiUrl,
  verifyRegistryImage,
  type RegistryAuthMap,
  type RegistryCredentials,
} from '../shared/registry/index.ts';
import type { VerifiedSeal } from '../shared/seal/index.ts';
import type { TrustedKeys } from '../shared/signing/index.ts';

/** What the registry and the seal say about one image: verified (with the seal) or why not. */
export type SealVerdict =
  | { ok: true; digest: string; seal: VerifiedSeal }
  | {
      ok: false;
      /** `unsealed`, `invalid` (tampered, untrusted key…), or `unreadable` (registry error, bad reference, time). */
      status: 'unsealed' | 'invalid' | 'unreadable';
      code: string;
      reason: string;
      digest?: string;
    };

export interface VerifierOptions {
  keys: TrustedKeys;
  /** Credentials from mounted docker config.json files. */
  staticAuth: readonly RegistryAuthMap[];
  registryTimeoutMs: number;
  platform: { os: string; architecture: string };
  ttlMs: number;
  tagTtlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Timed<T> {
  value: T;
  until: number;
}

/** A small LRU with expiry (Map keeps insertion order: re-inserting on hit makes it recent). */
class ExpiringLru<T> {
  private readonly map = new Map<string, Timed<T>>();
  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}
  get(key: string): T | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    if (hit.until <= this.now()) return undefined;
    this.map.set(key, hit);
    return hit.value;
  }
  set(key: string, value: T, ttlMs: number): void {
    this.map.delete(key);
    this.map.set(key, { value, until: this.now() + ttlMs });
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number {
    return this.map.size;
  }
}

/**
 * Verifies images straight from their registries, caching verdicts by digest (a digest's content never
 * changes; the keys are fixed for the process) and tags by their digest for a short while. Concurrent
 * requests for one digest share one registry read. Registry errors are never cached.
 */
export class ImageVerifier {
  private readonly verdicts: ExpiringLru<SealVerdict>;
  private readonly tags: ExpiringLru<string>;
  private readonly inflight = new Map<string, Promise<SealVerdict>>();
  private readonly clients = new Map<string, RegistryClient>();
  private readonly now: () => number;
  readonly stats = { cold: 0, cached: 0, errors: 0 };

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
    this.verdicts = new ExpiringLru(options.maxEntries, this.now);
    this.tags = new ExpiringLru(options.maxEntries, this.now);
  }

  /** The verdict for an image reference as a pod spec names it, read with the pod's pull credentials. */
  async verify(image: string, pullAuth: readonly RegistryAuthMap[], signal: AbortSignal): Promise<SealVerdict> {
    let ref;
    try {
      ref = parseImageReference(image, 'image');
    } catch (error) {
      return unreadable(error, image);
    }
    const credentials = credentialsFor([...pullAuth, ...this.options.staticAuth], ref.registry);
    const client = this.clientFor(ref.registry, credentials);
    const where = `image ${image}`;
    const reference = ref.digest ?? ref.tag!;
    const tagKey = `${ref.registry}/${ref.repository}:${reference}`;
    const digest = ref.digest ?? this.tags.get(tagKey);
    if (digest !== undefined) {
      const cached = this.verdicts.get(digest);
      if (cached) {
        this.stats.cached++;
        return cached;
      }
    }
    const key = digest ?? tagKey;
    const running = this.inflight.get(key);
    if (running) return running;
    const work = this.readAndVerify(client, ref.repository, reference, where, signal, tagKey);
    this.inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async readAndVerify(
    client: RegistryClient,
    repository: string,
    reference: string,
    where: string,
    signal: AbortSignal,
    tagKey: string,
  ): Promise<SealVerdict> {
    this.stats.cold++;
    try {
      const result = await verifyRegistryImage(client, repository, reference, where, this.options.keys, { signal });
      return this.remember(tagKey, result.image.digest, { ok: true, digest: result.image.digest, seal: result.seal });
    } catch (error) {
      if (error instanceof VerificationError) {
        // a verification failure is a property of the content: cache it by digest when we know the digest
        const digest = await client.resolveDigest(repository, reference, { signal }).catch(() => undefined);
        const verdict: SealVerdict = {
          ok: false,
          status: error.code === 'UNSEALED' ? 'unsealed' : 'invalid',
          code: error.code,
          reason: error.message,
          ...(digest !== undefined ? { digest } : {}),
        };
        return digest !== undefined ? this.remember(tagKey, digest, verdict) : verdict;
      }
      this.stats.errors++;
      return unreadable(error, where);
    }
  }

  private remember(tagKey: string, digest: string, verdict: SealVerdict): SealVerdict {
    if (this.options.tagTtlMs > 0) this.tags.set(tagKey, digest, this.options.tagTtlMs);
    this.verdicts.set(digest, verdict, this.options.ttlMs);
    return verdict;
  }

  /** One client per registry and credentials, so bearer tokens are reused. */
  private clientFor(registry: string, credentials: RegistryCredentials | undefined): RegistryClient {
    const who = credentials
      ? createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex').slice(0, 16)
      : 'anonymous';
    const key = `${registry}\0${who}`;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= 1000) this.clients.clear(); // bounded: one per registry and credentials
      client = new RegistryClient({
        baseUrl: registryApiUrl(registry),
        ...(credentials ? { credentials } : {}),
        timeoutMs: this.options.registryTimeoutMs,
        platform: this.options.platform,
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

function unreadable(error: unknown, where: string): SealVerdict {
  const message = isSealwatchError(error)
    ? error.message
    : `${where}: ${error instanceof Error ? error.message : String(error)}`;
  return { ok: false, status: 'unreadable', code: isSealwatchError(error) ? error.code : 'IO', reason: message };
}
