import type { KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { VerificationError } from '../errors/index.ts';
import { SEAL_FILE, verifySealedConfig, type ImageSealVerification } from '../seal/index.ts';
import type { TrustedKeys } from '../signing/index.ts';
import type { CallOptions, RegistryClient, RegistryImage } from './client.ts';

/** A seal layer holds one small file: a top layer bigger than this is not a seal layer. */
export const SEAL_LAYER_MAX_BYTES = 4 * 1024 * 1024;

/** The seal file from a layer blob (tar, or gzip tar), read to a bound; undefined when it holds none. */
export async function sealFileFromLayer(blob: Buffer): Promise<Buffer | undefined> {
  const gz = blob[0] === 0x1f && blob[1] === 0x8b;
  const chunks: Buffer[] = [];
  let total = 0;
  const source = gz ? Readable.from([blob]).pipe(createGunzip()) : Readable.from([blob]);
  try {
    for await (const chunk of source) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total > SEAL_LAYER_MAX_BYTES) return undefined;
    }
  } catch {
    return undefined; // not gzip after all, or cut: no seal here
  }
  const reader = extract();
  Readable.from([Buffer.concat(chunks)]).pipe(reader);
  let file: Buffer | undefined;
  try {
    for await (const entry of reader) {
      const parts: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
      const name = entry.header.name.replace(/^\.\//, '').replace(/^\//, '');
      if (name === SEAL_FILE && entry.header.type === 'file') file = Buffer.concat(parts);
    }
  } catch {
    return undefined;
  }
  return file;
}

/** The seal text of a registry image: its top layer blob (when small enough) read and unpacked. */
export async function readRegistrySealText(
  client: RegistryClient,
  image: RegistryImage,
  where: string,
  call: CallOptions = {},
): Promise<string | undefined> {
  const top = image.layers.at(-1);
  if (!top || (top.size ?? 0) > SEAL_LAYER_MAX_BYTES) return undefined;
  const blob = await client.blob(image.repository, top.digest, where, SEAL_LAYER_MAX_BYTES, call);
  return (await sealFileFromLayer(blob))?.toString('utf8');
}

export interface RegistrySealVerification extends ImageSealVerification {
  image: RegistryImage;
}

/**
 * `verify --image host/repo:tag` without an engine: manifest (or index), config and its label, then the seal
 * layer blob, verified exactly as for an image in the engine (shared/seal verifySealedConfig). Throws
 * VerificationError (UNSEALED, LAYER_MISMATCH, SUBJECT_MISMATCH, BAD_SIGNATURE…) with a one-line reason.
 */
export async function verifyRegistryImage(
  client: RegistryClient,
  repository: string,
  reference: string,
  where: string,
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
  call: CallOptions = {},
): Promise<RegistrySealVerification> {
  const image = await client.getImage(repository, reference, call);
  const result = await verifySealedConfig(
    where,
    image.configText,
    () => readRegistrySealText(client, image, where, call),
    trustedKeys,
  );
  return { ...result, image };
}

/** For an unverified read (`audit image`): the seal text, when the image's top layer carries one. */
export async function sealTextOrUndefined(
  client: RegistryClient,
  image: RegistryImage,
  where: string,
  call: CallOptions = {},
): Promise<string | undefined> {
  try {
    return await readRegistrySealText(client, image, where, call);
  } catch (error) {
    if (error instanceof VerificationError) return undefined;
    throw error;
  }
}
