import { hash } from 'node:crypto';
import { canonicalJson } from '../canonical/index.ts';

/** The `prev` of a run's first event when no earlier run is known. */
export const ZERO_HASH = `sha256:${'0'.repeat(64)}`;

/**
 * The hash of one event of the record: sha256 over the RFC 8785 canonical form of the event as
 * JSON, without `sealwatch.chain.hash` (the value being computed), with NUL and lone surrogates
 * as U+FFFD (what every output sends). Works on our Event and on any JSON copy read back.
 */
export function recordHash(event: object): string {
  const sealwatch = (event as { sealwatch?: Record<string, unknown> }).sealwatch;
  const chain = sealwatch?.chain as Record<string, unknown> | undefined;
  const body =
    chain === undefined || typeof chain !== 'object' || !('hash' in chain)
      ? event
      : { ...event, sealwatch: { ...sealwatch, chain: { ...chain, hash: undefined } } };
  return digestOf(canonicalJson(body, { wellFormed: true }));
}

/** `sha256:` and the hex sha256 of a canonical text. */
export function digestOf(text: string): string {
  return `sha256:${hash('sha256', text, 'hex')}`;
}

/** Where the hash member of a canonical line starts: `"chain":{"hash":"sha256:` then 64 hex digits and `",`. */
const HASH_MEMBER = '"chain":{"hash":"sha256:';
const HEX64_QUOTE = /[0-9a-f]{64}"/y;

/** True when `text` holds 64 lowercase hex digits and a quote at `at`. */
export function hex64At(text: string, at: number): boolean {
  HEX64_QUOTE.lastIndex = at;
  return HEX64_QUOTE.test(text);
}

/**
 * The canonical text of a chained event, with its hash: the text hashed with `"hash":"…",` put back
 * at the start of `chain` (members are sorted, and `hash` sorts first there).
 */
export function withHashMember(text: string, digest: string): string {
  return text.replace('"chain":{', `"chain":{"hash":"${digest}",`);
}

/**
 * Fast check of a JSON line that is already in canonical form (the file output writes chained events
 * so): its hash is the sha256 of the line without the hash member. Returns that hash, where the member
 * starts (`at`) and where the member after it starts (`next`, at its comma); undefined when the line is
 * not in that form (a SIEM reordered it, an escape differs): then the caller canonicalizes the parsed value.
 */
export function canonicalLineHash(line: string): { hash: string; at: number; next: number } | undefined {
  const at = line.indexOf(HASH_MEMBER);
  const digestAt = at + HASH_MEMBER.length;
  const next = digestAt + 65;
  if (at < 0 || !hex64At(line, digestAt) || line.charCodeAt(next) !== 0x2c /* , */) return undefined;
  const claimed = line.slice(digestAt - 'sha256:'.length, digestAt + 64);
  const body = line.slice(0, at) + '"chain":{' + line.slice(next + 1);
  return digestOf(body) === claimed ? { hash: claimed, at, next } : undefined;
}
