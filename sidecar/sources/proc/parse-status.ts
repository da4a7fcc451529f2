/**
 * `/proc/<pid>/status`: `Key:\tvalue` lines. We take only what the rules need; a record without
 * the mandatory keys (Uid, Gid, PPid) is rejected. `Name:` is escaped by the kernel, so it is
 * never used as the program name (comm comes from stat, argv[0] from cmdline).
 */
export interface ProcStatus {
  /** real, effective, saved, filesystem */
  uids: [number, number, number, number];
  gids: [number, number, number, number];
  ppid: number;
  tracerPid: number;
  /** pid as seen in each nested PID namespace, outermost first (NSpid) */
  nsPids: number[];
  vmRssKiB: number;
  threads: number;
  /** voluntary + nonvoluntary context switches of the main thread: unchanged means it has not run */
  ctxtSwitches?: number;
}

function ids(value: string | undefined): [number, number, number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) return undefined;
  return parts.map(Number) as [number, number, number, number];
}

function int(value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const m = /^\s*(\d+)/.exec(value);
  return m?.[1] !== undefined ? Number(m[1]) : fallback;
}

function switches(fields: Map<string, string>): number | undefined {
  const v = int(fields.get('voluntary_ctxt_switches'));
  const n = int(fields.get('nonvoluntary_ctxt_switches'));
  return v === undefined || n === undefined ? undefined : v + n;
}

export function parseStatus(text: string): ProcStatus | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    // Name: comes first and may not contain a raw newline (the kernel escapes it), but keep the first value seen
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1));
  }
  const uids = ids(fields.get('Uid'));
  const gids = ids(fields.get('Gid'));
  const ppid = int(fields.get('PPid'));
  if (uids === undefined || gids === undefined || ppid === undefined) return undefined;
  const nsPids = (fields.get('NSpid') ?? '')
    .trim()
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
  return {
    uids,
    gids,
    ppid,
    tracerPid: int(fields.get('TracerPid'), 0) ?? 0,
    nsPids,
    vmRssKiB: int(fields.get('VmRSS'), 0) ?? 0,
    threads: int(fields.get('Threads'), 1) ?? 1,
    ctxtSwitches: switches(fields),
  };
}
