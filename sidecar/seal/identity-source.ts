import { dirname } from 'node:path';
import { readFileInRoot } from '../../shared/fs/index.ts';
import type { Observation, ProcessTracker, Source } from '../sources/index.ts';
import {
  createRootIdentityCheck,
  describeDifferences,
  mountPointsOf,
  type IdentityDifference,
  type IdentityProgress,
  type RootIdentityCheck,
  type RootIdentityOptions,
} from './root-identity.ts';
import { rootKey } from './root-key.ts';
import type { SealCheck } from './seal-check.ts';

/**
 * The seal's identity checked through the root it was read from, as a source (pod mode, and the host agent on
 * containerd: no engine to recompute the image identity). A verified seal read from `/proc/<pid>/root` is
 * compared with that root's files (root-identity.ts): at start within its budget, then each sealed executable on
 * its first exec by a watched process of that root. Differences become a `seal` observation `invalid` naming the
 * paths, so the rules raise `seal.invalid` and the pipeline stops using the seal's profile and inventory.
 */
export interface IdentitySource extends Source {
  progress(): IdentityProgress;
}

export type IdentityBudget = Pick<RootIdentityOptions, 'budgetMs' | 'budgetBytes' | 'maxFileBytes' | 'maxWalkEntries'>;

/** At most this many distinct executables are remembered as looked at (beyond, the set starts again). */
const SEEN_MAX = 10_000;

export function createIdentitySource(input: {
  seal: SealCheck | undefined;
  tracker: Pick<ProcessTracker, 'processes'>;
  budget?: IdentityBudget;
  /** told of each file the check opens in the root (file sight leaves those opens out) */
  onOpen?: (path: string) => void;
}): IdentitySource | undefined {
  const { seal } = input;
  if (seal?.status !== 'verified' || seal.root === undefined || seal.executables === undefined) return undefined;
  const root = seal.root;
  const ownKey = rootKey(root);
  const mountinfo = readFileInRoot(dirname(root), 'mountinfo', { maxBytes: 4 * 1024 * 1024, links: 'refuse' });
  const mounts = mountinfo.ok ? mountPointsOf(mountinfo.value.toString('utf8')) : [];
  const executables = seal.executables;
  /** made on the first poll, after the processes source's first tick: the running programs are checked first */
  let check: RootIdentityCheck | undefined;
  const make = (): RootIdentityCheck =>
    createRootIdentityCheck({
      root,
      executables,
      mounts,
      first: [...input.tracker.processes().values()].flatMap((p) => (p.exe ? [p.exe] : [])),
      ...input.budget,
      onOpen: input.onOpen,
    });
  const pending: Observation[] = [];
  const invalid = (differences: readonly IdentityDifference[]): void => {
    pending.push({
      type: 'seal',
      status: 'invalid',
      detail: `${seal.source}: ${describeDifferences(differences)}`,
      identity: seal.identity,
      keyHint: seal.keyHint,
      source: seal.source,
    });
  };
  const seen = new Set<string>();
  return {
    name: 'seal-identity',
    poll() {
      if (!check) {
        check = make();
        void check.start().then((differences) => {
          if (differences.length > 0) invalid(differences);
        });
      }
      for (const p of input.tracker.processes().values()) {
        if (!p.exe || seen.has(p.exe)) continue;
        // a process of another container of the pod runs another root's files: not this seal's
        if (rootKey(`${dirname(dirname(root))}/${p.pid}/root`) !== ownKey) continue;
        if (seen.size >= SEEN_MAX) seen.clear();
        seen.add(p.exe);
        void check.onExec(p.exe, p.sha256).then((d) => {
          if (d) invalid([d]);
        });
      }
      return pending.splice(0);
    },
    progress: () => (check ?? make()).progress(),
  };
}
