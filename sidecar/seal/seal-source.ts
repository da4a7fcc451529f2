import type { Observation, Source } from '../sources/index.ts';
import type { SealCheck } from './neighbour-seal.ts';

/**
 * The seal check as a source: one `seal` observation on the first tick, so its verdict goes through
 * normalize and the rules (`seal.unsealed`, `seal.invalid`) like everything else. Nothing when no key is
 * trusted (the seal was not checked).
 */
export function sealSource(check: SealCheck | undefined): Source {
  const pending: Observation[] = check
    ? [
        {
          type: 'seal',
          status: check.status,
          detail: check.detail,
          identity: check.identity,
          keyHint: check.keyHint,
          source: check.source,
        },
      ]
    : [];
  return { name: 'seal', poll: () => pending.splice(0) };
}
