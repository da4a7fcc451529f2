import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { basename, commandLine, wellFormed } from './text.ts';

/**
 * IBM QRadar LEEF 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|key=value<delim>…`.
 * LEEF has no escaping, so values lose the delimiter, CR and LF (replaced by a space), and header
 * fields lose `|`. The default delimiter is a tab, written in the header as `x09`.
 */
export const LEEF_DEFAULT_DELIMITER = '\t';

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
    ['identHostName', event.host?.name],
    ['containerId', event.container?.id],
    ['containerName', event.container?.name],
    ['image', image?.name],
    ['imageDigest', image?.digest],
    ['pod', event.orchestrator?.resource?.name],
    ['namespace', event.orchestrator?.namespace],
    ['sealStatus', event.sealwatch.seal?.status],
    ['profileId', event.sealwatch.profile_id],
    ['msg', event.message],
  ];
}

export const formatLeef: Formatter = (event, options) => {
  const delimiter =
    options.leefDelimiter === undefined || options.leefDelimiter === ''
      ? LEEF_DEFAULT_DELIMITER
      : [...options.leefDelimiter][0]!;
  const strip = new RegExp(`[${delimiter.replace(/[\\\]^-]/g, '\\$&')}\\r\\n]`, 'g');
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
    const value = wellFormed(String(raw)).replace(strip, ' ');
    if (value === '') continue;
    attrs.push(`${key}=${value}`);
  }
  return `${head}|${attrs.join(delimiter)}`;
};
