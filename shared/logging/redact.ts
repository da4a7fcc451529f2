/**
 * Central redaction of secrets in our own logs (after renovate's sanitize): values of keys that
 * name a secret, and PEM blocks, bearer tokens and URL passwords inside any string.
 */
const SECRET_KEY = /(pass(word)?|secret|token|api[-_]?key|private[-_]?key|authorization|credential|^key$)/i;
const PEM_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const BEARER = /\b(Bearer|Splunk|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]+@/gi;
const URL_TOKEN_PARAM = /([?&](?:token|password|api[-_]?key|secret)=)[^&\s]+/gi;

export const REDACTED = '[redacted]';

export function redactString(text: string): string {
  return text
    .replace(PEM_BLOCK, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(URL_TOKEN_PARAM, `$1${REDACTED}`);
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return redactString(value.message);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redact(inner, depth + 1);
  }
  return out;
}
