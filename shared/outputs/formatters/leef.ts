import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { basename, commandLine, hostnameField, wellFormed } from './text.ts';

/**
 * IBM QRadar LEEF 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|key=value<delim>…`.
 * Two kinds of consumer read the attributes: delimiter-only parsers (split on the declared
 * delimiter, then at the first `=`) and key=value scanners that find ` key=` anywhere (syslog-ng's
 * kv-parser, which also splits on spaces whatever the delimiter). So that neither can be made to see
 * an attribute inside a value, every `=` in a value is written `\=` and every `\` as `\\` (the CEF
 * convention; a key=value scanner never takes `name\=` for a key, a delimiter-only parser shows the
 * value with the escapes). The delimiter, CR and LF cannot be escaped in LEEF and become a space.
 * The delimiter is a tab (default, written `x09`) or one of LEEF_DELIMITERS; header fields lose `|`.
 */
export const LEEF_DEFAULT_DELIMITER = '\t';
/** Delimiters no key, value escape or common parser confuses: tab, `^`, `|`, `~`. */
export const LEEF_DELIMITERS = ['\t', '^', '|', '~'] as const;

function headerField(value: string): string {
  return wellFormed(value).replace(/[|\r\n]/g, ' ');
}

/** The delimiter as the header writes it: `xHH` for control characters and `^`/`|`, else the character. */
function delimiterField(delimiter: string): string {
  const code = delimiter.codePointAt(0)!;
  return code < 0x21 || code === 0x7c || code === 0x7f ? `x${code.toString(16).padStart(2, '0')}` : delimiter;
}

export function leefAttributes(event: Event): Array<[string, string | number | undefined]> {
  const p = event.process;
  const image = event.container?.image;
  return [
    ['devTime', event['@timestamp']],
    ['devTimeFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSX"],
    ['sev', Math.max(1, event.event.severity)],
    ['cat', event.event.category.join(',')],
    ['eventId', event.event.id],
    ['seq', event.sealwatch.seq],
    ['runId', event.sealwatch.run_id],
    ['action', event.event.action],
    ['outcome', event.sealwatch.outcome ?? event.event.outcome],
    ['ruleName', event.rule?.name],
    ['src', event.source?.ip],
    ['srcPort', event.source?.port],
    ['dst', event.destination?.ip],
    ['dstPort', event.destination?.port],
    ['proto', event.network?.transport],
    ['usrName', p?.user?.name],
    ['uid', p?.user?.id],
    ['pid', p?.pid],
    ['ppid', p?.ppid ?? p?.parent?.pid],
    ['processName', p?.name],
    ['processPath', p?.executable],
    ['commandLine', commandLine(p)],
    ['filePath', event.file?.path],
    ['fileName', event.file?.name ?? (event.file === undefined ? undefined : basename(event.file.path))],
    ['identHostName', event.host?.name === undefined ? undefined : hostnameField(event.host.name)],
    ['containerId', event.container?.id],
    ['containerName', event.container?.name],
    ['image', image?.name],
    ['imageDigest', image?.digest],
    ['pod', event.orchestrator?.resource?.name],
    ['namespace', event.orchestrator?.namespace],
    ['sealStatus', event.sealwatch.seal?.status],
    ['profileId', event.sealwatch.profile_id],
    ['chainPrev', event.sealwatch.chain?.prev],
    ['chainHash', event.sealwatch.chain?.hash],
    ['chainPreviousRun', previousRun(event)],
    ['checkpoint', event.sealwatch.checkpoint === undefined ? undefined : JSON.stringify(event.sealwatch.checkpoint)],
    ['truncated', event.sealwatch.truncated?.fields.join(',')],
    ['msg', event.message],
  ];
}

function previousRun(event: Event): string | undefined {
  const p = event.sealwatch.chain?.previous_run;
  return p === undefined ? undefined : `${p.run_id} ${p.seq} ${p.hash}`;
}

/** `\` and `=` escaped; the delimiter, CR and LF (which LEEF cannot escape) become a space. */
export function escapeLeefValue(value: string, delimiter: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    let rep: string;
    if (c === '\\') rep = '\\\\';
    else if (c === '=') rep = '\\=';
    else if (c === delimiter || c === '\r' || c === '\n') rep = ' ';
    else continue;
    out += value.slice(from, i) + rep;
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

export const formatLeef: Formatter = (event, options) => {
  const delimiter = options.leefDelimiter ?? LEEF_DEFAULT_DELIMITER;
  const head = [
    'LEEF:2.0',
    'sealwatch',
    'sealwatch',
    headerField(event.sealwatch.version ?? options.version),
    headerField(event.rule?.id ?? event.event.action),
    delimiterField(delimiter),
  ].join('|');
  const attrs: string[] = [];
  for (const [key, raw] of leefAttributes(event)) {
    if (raw === undefined) continue;
    const value = escapeLeefValue(wellFormed(String(raw)), delimiter);
    if (value === '') continue;
    attrs.push(`${key}=${value}`);
  }
  return `${head}|${attrs.join(delimiter)}`;
};
