import type { Observation, Source } from '../sources/index.ts';
import type { SealCheck } from './seal-check.ts';

/**
 * The seal check as a source: one `seal` observation on the first tick, so its verdict goes through
 * normalize and the rules (`seal.unsealed`, `seal.invalid`) like everything else. Nothing when the seal was
 * not looked at (learning).
 */
export function sealSource(check: SealCheck | undefined): Source {
  const pending: Observation[] = check
    ? [
        {
          type: 'seal',
          status: check.status,
          detail: check.detail,
          ...(check.status === 'verified' ? { identity: check.identity, keyHint: check.keyHint } : {}),
          ...('source' in check ? { source: check.source } : {}),
        },
      ]
    : [];
  return { name: 'seal', poll: () => pending.splice(0) };
}
