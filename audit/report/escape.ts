/**
 * Escaping for every output format. Event fields (process names, args, paths, hostnames, messages)
 * are attacker-controlled: every one goes through one of these before it reaches a report.
 */

/** HTML text and attribute values (quotes included, so it is safe in both). */
// Control characters (other than tab, LF, CR) are never shown raw: a terminal or viewer could act on them.
// eslint-disable-next-line no-control-regex
const HTML_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f]/g;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`).replace(HTML_CONTROL, '\uFFFD');
}

/**
 * Markdown table cells and text: backslash-escapes Markdown punctuation, turns `<`, `>` and `&` into
 * entities (renderers pass raw HTML through), and keeps everything on one line.
 */
export function escapeMarkdown(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, ' ⏎ ')
    .replace(ANY_CONTROL, '\uFFFD');
}

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled). Values a
 * spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) get a leading `'`.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Plain text for a terminal: control characters (ANSI escapes, CR, LF) cannot rewrite the screen. */
export function escapeTerminal(value: string): string {
  return value.replace(ANY_CONTROL, (c) => (c === '\n' ? '⏎' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
