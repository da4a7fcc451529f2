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
  return `sha256:${hash('sha256', canonicalJson(body, { wellFormed: true }), 'hex')}`;
}
