import type { Event } from '../../shared/events/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import type { InventoryExecutable } from '../../shared/seal/index.ts';

/**
 * The verdict on a neighbour's seal. A discriminated union: only a verified seal carries a profile and an
 * inventory, so nothing downstream can take them from a seal that did not verify. This file has no dependency on
 * the verifier (sigstore), which loads only when a key is trusted.
 */
export type SealCheck =
  | {
      status: 'verified';
      /** one line: where the seal was found and which key signed it */
      detail: string;
      identity: string;
      keyHint: string;
      /** where the seal was read (a path, or `image <ref>`) */
      source: string;
      profile?: Profile;
      /** executables of the sealed inventory: path → sha256 */
      inventory?: ReadonlyMap<string, string>;
      /** the sealed inventory's executables in full (size, mode), for the identity check through `root` */
      executables?: readonly InventoryExecutable[];
      /** the root filesystem the seal was read from (`/proc/<pid>/root`), when it was read from one */
      root?: string;
    }
  | {
      status: 'unsealed' | 'invalid';
      /** one line: where the seal was looked for and why it was rejected */
      detail: string;
      source?: string;
    }
  | {
      /** not checked: no key is trusted (--pub) */
      status: 'unknown';
      detail: string;
    };

/** The seal of a target whose seal is not checked because no key is trusted. */
export function uncheckedSeal(): SealCheck {
  return { status: 'unknown', detail: 'no trusted key given (--pub): the seal is not checked' };
}

/** The seal as stamped on every event of the run (`sealwatch.seal`). */
export function sealStamp(seal: SealCheck): NonNullable<Event['sealwatch']['seal']> {
  return seal.status === 'verified'
    ? { status: seal.status, identity: seal.identity, key_hint: seal.keyHint }
    : { status: seal.status };
}

/** The profile a seal gives, with where it came from: only a verified seal gives one. */
export function sealedProfile(seal: SealCheck | undefined): { profile: Profile; source: string } | undefined {
  if (seal?.status !== 'verified' || seal.profile === undefined) return undefined;
  return { profile: seal.profile, source: `seal ${seal.source} (${seal.identity})` };
}
