import { z } from 'zod';
import { SeverityInput } from '../shared/severity/index.ts';

/**
 * Value types of flags, shared by the commands' flag schemas (cli/flags.ts). Each takes what a command line, a
 * `SEALWATCH_*` variable (text) and a `--config` YAML file (text, numbers, booleans, lists) give, so one schema
 * validates all three, and its input form is the published JSON Schema of the config file.
 */

/**
 * A flag that may be given several times; in a config file one value or a list. Always a list once parsed.
 * `error`: the message when it is required and missing.
 */
export function repeatable<T extends z.ZodType>(item: T, error?: string) {
  return z
    .union([item, z.array(item)], error === undefined ? undefined : { error })
    .transform((v): Array<z.output<T>> => (Array.isArray(v) ? v : [v]));
}

/** A whole number from `min` to `max` (text or number), e.g. `whole('milliseconds', 10, 10_000)`. */
export function whole(unit: string, min: number, max: number) {
  const range = `${unit}, a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: range }).int(range).min(min, range).max(max, range);
}

/** A positive number (text or number), fractions allowed: `positive('seconds, e.g. 30 or 1.5', 600)`. */
export function positive(what: string, max: number) {
  return z.coerce.number({ error: what }).positive(`${what}, more than 0`).max(max, `at most ${max}`);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A duration like `500ms`, `30s`, `5m` or `1h`, in milliseconds once parsed. */
export const Duration = z
  .string({ error: 'a duration like 30s, 5m or 1h' })
  .regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s, 5m or 1h')
  .transform((s) => {
    const m = /^(\d+)(ms|s|m|h)$/.exec(s)!;
    return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  });

/** The name of an environment variable that holds a secret (the secret itself is never a flag: `ps` shows flags). */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/** `HOST:PORT` to listen on, e.g. `127.0.0.1:9464` or `[::1]:9464`; `{ host, port }` once parsed. */
export function listenAddress(example: string) {
  return z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:[\]\s]+):\d{1,5}$/, `HOST:PORT, e.g. ${example}`)
    .transform((s, ctx) => {
      const i = s.lastIndexOf(':');
      const port = Number(s.slice(i + 1));
      if (port > 65535) {
        ctx.addIssue({ code: 'custom', message: `port ${port} is not a TCP port (1–65535)` });
        return z.NEVER;
      }
      return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
    });
}

/** A severity: a label (info, low, medium, high, critical) or a score 0–10. */
export const Severity = z.union(SeverityInput.options, {
  error: 'a severity: info, low, medium, high, critical or 0–10',
});
