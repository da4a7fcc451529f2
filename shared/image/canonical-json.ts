/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, as JSON.stringify sees them), no
 * whitespace, `undefined` members dropped. The same value always gives the same bytes, so its
 * sha256 can name it (the image identity, statement digests).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
