/**
 * The profile's glob language (picomatch, with these options) and how a literal is written in it. A profile's `exe`
 * and `name`, and a rule's `exe`, `name`, `parent` and `path`, are globs; what `sealwatch learn` observed is a literal
 * (a workload can run a program named `*`, or keep a file named `[a-z]*` open). So the learner writes every observed
 * value through `escapeGlob`: a program named `*` is learned as `\*`, which matches that name and nothing else.
 * `flags: 's'`: picomatch builds a regular expression whose `.` would stop at LF, CR, U+2028 and U+2029, so
 * the SSH key glob of `sensitive-file-open` missed a key whose path holds one of them (#15 item 6); with dotAll a
 * wildcard matches every character a name can have.
 */
export const GLOB_OPTIONS = { dot: true, bash: true, flags: 's' } as const;

/** Every character picomatch gives a meaning to (wildcards, classes, braces, extglobs, negation, anchors). */
const GLOB_SPECIAL = /[*?[\]{}()!+@|^$]/g;

/**
 * A literal as a glob that matches exactly it: each special character backslash-escaped, and a leading `.` too
 * (picomatch drops a leading `./`). Undefined for a literal with a backslash: picomatch has no exact way to match
 * one (`\\` before another escape fails to match, `[\\]` also matches `[\]`), so such a value cannot be allowed by
 * a learned entry.
 */
export function escapeGlob(literal: string): string | undefined {
  if (literal.includes('\\')) return undefined;
  const escaped = literal.replace(GLOB_SPECIAL, '\\$&');
  return escaped.startsWith('.') ? `\\${escaped}` : escaped;
}
