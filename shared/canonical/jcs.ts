/**
 * Canonical JSON, RFC 8785 (JSON Canonicalization Scheme): object members sorted by their names'
 * UTF-16 code units, no whitespace, numbers and strings serialized as ECMAScript's JSON.stringify
 * does (which is what JCS specifies). `undefined` members are dropped and `undefined` array
 * elements become `null`, as JSON.stringify does. The same value always gives the same bytes, so
 * its sha256 can name it: the image identity, statement digests, the event record's chain.
 *
 * RFC 8785 rejects strings holding lone surrogates. `wellFormed: true` replaces them, and NUL, with
 * U+FFFD first: exactly what every output does to a string before it leaves sealwatch, so the
 * digest of an event equals the digest of any JSON copy a receiver stored. Without it such strings
 * keep JSON.stringify's `\udXXX` escapes (the image identity's historical bytes).
 */
export interface CanonicalOptions {
  wellFormed?: boolean;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const MAYBE_UNSENDABLE = /[\u0000\uD800-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- NUL is exactly what this replaces
const UNSENDABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function canonicalJson(value: unknown, options: CanonicalOptions = {}): string {
  const out = serialize(value, options.wellFormed === true);
  return out ?? 'null';
}

// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string, wellFormed: boolean): string {
  // Most strings need no escape at all: JSON.stringify only for the ones that do.
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return JSON.stringify(wellFormed && MAYBE_UNSENDABLE.test(s) ? s.replace(UNSENDABLE, '\uFFFD') : s);
}

/**
 * `"name":` of member names seen before: events repeat the same few dozen names, and each would otherwise be
 * tested for escapes again. Bounded: names past the cap (an attacker's many labels) are serialized each time.
 */
const MEMBER_NAMES = new Map<string, string>();
const MEMBER_NAMES_CAP = 4096;

function memberName(key: string, wellFormed: boolean): string {
  if (!wellFormed) return `${str(key, false)}:`;
  let name = MEMBER_NAMES.get(key);
  if (name === undefined) {
    name = `${str(key, true)}:`;
    if (MEMBER_NAMES.size < MEMBER_NAMES_CAP) MEMBER_NAMES.set(key, name);
  }
  return name;
}

/** undefined for values JSON.stringify leaves out (undefined, functions, symbols). */
function serialize(value: unknown, wellFormed: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
      return str(value, wellFormed);
    case 'number':
      // What JSON.stringify gives (ECMAScript's Number::toString; NaN and the infinities are null), without its call.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt is not JSON');
    case 'object': {
      if (value === null) return 'null';
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === 'function') return serialize(withJson.toJSON(), wellFormed);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += serialize(value[i], wellFormed) ?? 'null';
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      // Sorted already, often (a canonical copy read back, a record built in order): sort only when not.
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1]! > keys[i]!) {
          keys.sort();
          break;
        }
      }
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = serialize(record[key], wellFormed);
        if (v === undefined) continue;
        out += first ? memberName(key, wellFormed) + v : `,${memberName(key, wellFormed)}${v}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}
