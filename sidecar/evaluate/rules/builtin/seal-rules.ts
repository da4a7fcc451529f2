import { builtinRule, details } from './define.ts';

/**
 * The neighbour's seal, checked once at start (`seal-checked`). Without a verified seal the
 * watcher runs the built-in rules only; in enforce mode `--on-unsealed stop` stops the target.
 */
const why = (e: Parameters<Parameters<typeof builtinRule>[1]>[0]): string => {
  const d = details(e).detail;
  return typeof d === 'string' ? `: ${d}` : '';
};

export const sealUnsealed = builtinRule(
  {
    id: 'seal.unsealed',
    name: 'Workload is not sealed',
    description:
      'The watched workload carries no seal (`/.sealwatch/seal.jsonl` in its root filesystem, or the image label): it was not built and sealed by the pipeline, so no sealed profile or inventory applies.',
    severity: 6,
    category: 'integrity',
    on: ['seal-checked'],
  },
  (e) => (e.sealwatch.seal?.status === 'unsealed' ? `the watched workload is not sealed${why(e)}` : undefined),
);

export const sealInvalid = builtinRule(
  {
    id: 'seal.invalid',
    name: 'Seal does not verify',
    description:
      'The workload carries a seal that does not verify with the trusted keys (`--pub`): a changed byte, another signer, a missing statement or a seal moved from another image. Its profile is not used.',
    severity: 8,
    category: 'integrity',
    on: ['seal-checked'],
  },
  (e) => (e.sealwatch.seal?.status === 'invalid' ? `the seal does not verify${why(e)}` : undefined),
);
