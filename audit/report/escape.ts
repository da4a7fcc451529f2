import { UNSAFE_CHARACTERS, visibleEscape } from '../../shared/text/index.ts';

/**
 * Escaping for every output format. Event fields (process names, args, paths, hostnames, messages)
 * are attacker-controlled: every one goes through one of these before it reaches a report.
 */

/**
 * Characters no report shows raw, whatever the format (the terminal's set, shared/text): every C0
 * control (ESC, BEL, CR, LF, tab…), DEL, every C1 control (U+0080–U+009F, which some terminals read
 * as CSI/OSC), the line and paragraph separators, and the bidirectional marks, embeddings, overrides
 * and isolates, which reorder the text a reader sees ("Trojan Source").
 */
const CONTROLS = new RegExp(`\\r\\n|${UNSAFE_CHARACTERS}`, 'g');
const HAS_CONTROL = new RegExp(UNSAFE_CHARACTERS);

function visible(c: string): string {
  return c === '\n' || c === '\r\n' ? '⏎' : visibleEscape(c);
}

/**
 * The text with every character above shown as a visible escape: `\x1b`, `\x07`, `\x9b`, `\u202e`;
 * a line break (LF or CRLF) as `⏎`, so every value stays on one line.
 */
export function showControls(value: string): string {
  return HAS_CONTROL.test(value) ? value.replace(CONTROLS, visible) : value;
}

/** Anything escapeHtml must change: one test, so that a clean value (most of them) costs one scan. */
const HTML_CARE = new RegExp(`[&<>"'\`]|${UNSAFE_CHARACTERS}`);

/** HTML text and attribute values (quotes included, so it is safe in both), controls made visible. */
export function escapeHtml(value: string): string {
  if (!HTML_CARE.test(value)) return value;
  // One pass over the text, copying the runs between specials: a regex with a callback per match costs more.
  const text = showControls(value);
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // & " ' < > `: the character as a numeric reference, `&#38;`
    if (c === 38 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96) {
      out += `${text.slice(from, i)}&#${c};`;
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Markdown table cells and text: backslash-escapes Markdown punctuation, turns `<`, `>` and `&` into
 * entities (renderers pass raw HTML through), and keeps everything on one line.
 */
export function escapeMarkdown(value: string): string {
  return showControls(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
}

// Tab and CR can no longer start a value once controls are escaped; they stay listed as the OWASP set.
const FORMULA_START = /^[=+\-@\t\r]/;
const CSV_QUOTE = /[",\r\n]/;
/** Anything csvField must change: a control, a quote or comma, or a formula start. */
const CSV_CARE = new RegExp(`${UNSAFE_CHARACTERS.slice(0, -1)}",]|^[=+\\-@]`);

/**
 * One CSV field (RFC 4180: quoted when it holds a comma or quote; quotes doubled). Controls are made
 * visible first, so a field never holds a line break, ESC or BEL. Values a spreadsheet would run as
 * a formula (starting with =, +, -, @) get a leading `'`.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return value < 0 ? `'${value}` : String(value);
  if (!CSV_CARE.test(value)) return value;
  let text = showControls(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return CSV_QUOTE.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Plain text for a terminal: control characters (ANSI escapes, CR, LF) cannot rewrite the screen. */
export const escapeTerminal = showControls;

// The unsafe characters JSON.stringify leaves raw (it escapes C0 itself).
const JSON_UNSAFE = new RegExp(UNSAFE_CHARACTERS.replace('\\u0000-\\u001f', ''), 'g');

/**
 * JSON text whose strings may hold DEL, C1 controls, separators or bidi characters (JSON.stringify
 * escapes only C0): each becomes a `\uXXXX` escape, so the bytes are safe to view and the value
 * parses back unchanged.
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
