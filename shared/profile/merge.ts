import type { Profile, ProfileEgress, ProfileListen, ProfileProcess } from './schema.ts';

/**
 * Merges a declared profile (written by people) with a learned one (from `sealwatch learn`).
 * What either allows is allowed (processes, listen ports, egress are unions; the same process
 * entry merges its users), except where the declared profile states a limit: its resources and
 * its process constraints (sha256, args) win. Rules: disables are unioned; custom rules by id,
 * declared first. The result says `metadata.source: merged` when both were given.
 */
export function mergeProfiles(declared: Profile | undefined, learned: Profile | undefined): Profile | undefined {
  if (declared === undefined) return learned;
  if (learned === undefined) return declared;
  const processes = new Map<string, ProfileProcess>();
  for (const p of [...declared.processes, ...learned.processes]) {
    const key = `${p.exe}\u0000${p.name ?? ''}`;
    const seen = processes.get(key);
    if (seen === undefined) {
      processes.set(key, { ...p });
      continue;
    }
    if (seen.users === undefined || p.users === undefined) delete seen.users;
    else seen.users = unique([...seen.users, ...p.users]);
    seen.sha256 ??= p.sha256;
    seen.args ??= p.args;
  }
  const listen = uniqueBy<ProfileListen>([...declared.network.listen, ...learned.network.listen], (l) =>
    JSON.stringify([l.protocol, l.port, l.address ?? null]),
  );
  const egress = uniqueBy<ProfileEgress>([...declared.network.egress, ...learned.network.egress], (e) =>
    JSON.stringify([e.cidr ?? null, e.host ?? null, e.ports ?? null, e.protocol ?? null]),
  );
  const custom = uniqueBy([...declared.rules.custom, ...learned.rules.custom], (r) => r.id);
  return {
    apiVersion: declared.apiVersion,
    kind: declared.kind,
    metadata: {
      ...learned.metadata,
      ...declared.metadata,
      source: 'merged',
    },
    processes: [...processes.values()],
    network: { listen, egress },
    resources: { ...learned.resources, ...declared.resources },
    rules: { disable: unique([...declared.rules.disable, ...learned.rules.disable]), custom },
  };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function uniqueBy<T>(values: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) if (!seen.has(key(v))) seen.set(key(v), v);
  return [...seen.values()];
}
