import { SEAL_LABEL, SEAL_LABEL_MAX_BYTES, formatSealLabel, type SealLabel } from '../../shared/seal/index.ts';
import { InternalError } from '../../shared/errors/index.ts';
import type { CiContext } from '../context/index.ts';

/** The seal label plus the standard OCI annotations we know from the CI context. */
export function sealLabels(
  label: SealLabel,
  context: CiContext,
  extra: { baseImage?: string; version?: string },
): Record<string, string> {
  const text = formatSealLabel(label);
  if (Buffer.byteLength(text) >= SEAL_LABEL_MAX_BYTES) {
    throw new InternalError('INVARIANT', `seal label is ${Buffer.byteLength(text)} bytes; must stay under 4 KB`);
  }
  const labels: Record<string, string> = {
    [SEAL_LABEL]: text,
    'org.opencontainers.image.created': label.sealedAt,
  };
  if (context.repository) labels['org.opencontainers.image.source'] = context.repository;
  if (context.commit) labels['org.opencontainers.image.revision'] = context.commit;
  if (context.ref) labels['org.opencontainers.image.ref.name'] = context.ref.replace(/^refs\/(heads|tags)\//, '');
  if (extra.baseImage) labels['org.opencontainers.image.base.name'] = extra.baseImage;
  if (extra.version) labels['org.opencontainers.image.version'] = extra.version;
  return labels;
}
