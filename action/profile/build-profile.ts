import { loadConfigFile } from '../../shared/config/index.ts';
import { mergeProfiles, profileSpec, type Profile } from '../../shared/profile/index.ts';
import type { InventoryPredicate, ProfilePredicate } from '../../shared/seal/index.ts';

export interface ProfileFiles {
  declared?: { path: string; source: string };
  learned?: { path: string; source: string };
}

/** Loads and validates the declared and learned profiles (ConfigError naming file and field). */
export function loadProfiles(files: ProfileFiles): { declared?: Profile; learned?: Profile; warnings: string[] } {
  const warnings: string[] = [];
  const load = (f: { path: string; source: string } | undefined): Profile | undefined => {
    if (f === undefined) return undefined;
    const { value, warnings: w } = loadConfigFile(profileSpec, f.path, f.source);
    warnings.push(...w);
    return value;
  };
  const declared = load(files.declared);
  const learned = load(files.learned);
  return { ...(declared ? { declared } : {}), ...(learned ? { learned } : {}), warnings };
}

/**
 * The profile predicate: declared and learned merged, and every process given by an exact path
 * (no glob) gets its sha256 from the inventory (through symlinks, e.g. /bin/sh → /bin/busybox),
 * unless the profile pins one already.
 */
export function buildProfilePredicate(
  declared: Profile | undefined,
  learned: Profile | undefined,
  inventory: InventoryPredicate,
): ProfilePredicate | undefined {
  const merged = mergeProfiles(declared, learned);
  if (merged === undefined) return undefined;
  const hashes = new Map(inventory.executables.map((e) => [e.path, e.sha256]));
  for (const link of inventory.symlinks) {
    const h = hashes.get(link.target);
    if (h) hashes.set(link.path, h);
  }
  const processes = merged.processes.map((p) => {
    if (p.sha256 !== undefined || /[*?[\]{}]/.test(p.exe)) return p;
    const sha256 = hashes.get(p.exe);
    return sha256 ? { ...p, sha256 } : p;
  });
  const sources: ProfilePredicate['sources'] = [];
  if (declared) sources.push('declared');
  if (learned) sources.push('learned');
  return { sources, profile: { ...merged, processes } };
}
