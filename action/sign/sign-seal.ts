import { createSeal, type CreatedSeal, type Statement, type Subject } from '../../shared/seal/index.ts';
import type { IdentityMaterial } from '../../shared/image/index.ts';
import type { SigningKey } from '../../shared/signing/index.ts';

/** Signs the statements and the manifest with the key file's key (DSSE in Sigstore bundles v0.3). */
export function signSeal(input: {
  subject: Subject;
  statements: readonly Statement[];
  image: IdentityMaterial;
  baseImage?: string;
  sealedAt: string;
  toolVersion: string;
  key: SigningKey;
}): CreatedSeal {
  return createSeal(input);
}
