/**
 * Text for a terminal or a log line, when any of it came from an image, a bundle, a container or a file
 * someone else wrote. Control characters would act on the screen (ESC sequences clear it, move the cursor,
 * recolour it; a C1 CSI does the same in some terminals; CR rewrites the line), bidirectional overrides
 * reorder what is shown, and line separators start a line that looks like ours. Each is shown as a visible
 * escape instead (`\x1b`, `\u202e`), so a hostile string reads as what it is and stays on one line.
 */
/** Those characters, as a regular expression character class (the audit report's formats use it too). */
export const UNSAFE_CHARACTERS =
  '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]';
const UNSAFE = new RegExp(UNSAFE_CHARACTERS, 'g');

/** One character as its visible escape: `\x1b`, `\u202e`. */
export function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function escapeTerminal(value: string): string {
  return value.replace(UNSAFE, visibleEscape);
}
