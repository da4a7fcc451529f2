import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { hostnameField, printableAscii, truncateUtf8, wellFormed } from './text.ts';

/**
 * RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`. HOSTNAME keeps only host-name
 * characters (hostnameField); the other header fields are printable US-ASCII (others become `_`) cut to
 * their limits (HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32);
 * timestamps carry microseconds. Our fields go into one SD element `[sealwatch@32473 …]` whose values
 * escape `"`, `\` and `]`.
 */
export const SD_ID = 'sealwatch@32473';
export const APP_NAME = 'sealwatch';
export const DEFAULT_FACILITY = 16; // local0

/** syslog severity (0 emerg … 7 debug) for our 0–10 score. */
export function syslogSeverity(score: number): number {
  if (score >= 9) return 2; // crit
  if (score >= 7) return 3; // err
  if (score >= 4) return 4; // warning
  if (score >= 1) return 5; // notice
  return 6; // info
}

export function priority(score: number, facility = DEFAULT_FACILITY): number {
  return facility * 8 + syslogSeverity(score);
}

/** `2026-11-20T09:03:04.120000Z`: always six fraction digits, leading zeros kept; `-` if unparseable. */
export function rfc5424Timestamp(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (m !== null) return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}${m[3]}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '-' : rfc5424Timestamp(new Date(t).toISOString());
}

/**
 * Each SD-PARAM value is cut to this many UTF-8 bytes before escaping (never splitting a character):
 * rsyslog's mmpstrucdata gives up on structured data beyond about 64 KB, and the JSON formats carry
 * full values.
 */
export const SD_VALUE_MAX_BYTES = 4096;

export function escapeSdValue(value: string): string {
  return truncateUtf8(wellFormed(value), SD_VALUE_MAX_BYTES).replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** Our fields as SD-PARAMs (names ≤ 32 printable ASCII characters, no `=`, space, `]` or `"`). */
export function sdParams(event: Event): Array<[string, string]> {
  const p = event.process;
  const out: Array<[string, string | number | undefined]> = [
    ['event.id', event.event.id],
    ['run_id', event.sealwatch.run_id],
    ['seq', event.sealwatch.seq],
    ['severity', event.event.severity],
    ['severity_label', event.sealwatch.severity],
    ['kind', event.event.kind],
    ['action', event.event.action],
    ['category', event.event.category.join(',')],
    ['outcome', event.sealwatch.outcome ?? event.event.outcome],
    ['mode', event.sealwatch.mode],
    ['rule.id', event.rule?.id],
    ['rule.name', event.rule?.name],
    ['process.pid', p?.pid],
    ['process.ppid', p?.ppid],
    ['process.name', p?.name],
    ['process.executable', p?.executable],
    ['process.command_line', p?.command_line ?? p?.args?.join(' ')],
    ['user.id', p?.user?.id],
    ['user.name', p?.user?.name],
    ['source.ip', event.source?.ip],
    ['source.port', event.source?.port],
    ['destination.ip', event.destination?.ip],
    ['destination.port', event.destination?.port],
    ['destination.domain', event.destination?.domain],
    ['network.transport', event.network?.transport],
    ['file.path', event.file?.path],
    ['container.id', event.container?.id],
    ['container.name', event.container?.name],
    ['container.image.name', event.container?.image?.name],
    ['container.image.digest', event.container?.image?.digest],
    ['orchestrator.namespace', event.orchestrator?.namespace],
    ['orchestrator.pod', event.orchestrator?.resource?.name],
    ['host.name', event.host?.name],
    ['seal.status', event.sealwatch.seal?.status],
    ['profile_id', event.sealwatch.profile_id],
    ['chain.prev', event.sealwatch.chain?.prev],
    ['chain.hash', event.sealwatch.chain?.hash],
    ['chain.previous_run', previousRunText(event)],
    ['checkpoint', checkpointJson(event)],
    ['truncated', event.sealwatch.truncated?.fields.join(',')],
  ];
  return out.filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)]);
}

function previousRunText(event: Event): string | undefined {
  const p = event.sealwatch.chain?.previous_run;
  return p === undefined ? undefined : `${p.run_id} ${p.seq} ${p.hash}`;
}

function checkpointJson(event: Event): string | undefined {
  const c = event.sealwatch.checkpoint;
  return c === undefined ? undefined : JSON.stringify(c);
}

export function structuredData(event: Event): string {
  return `[${SD_ID}${sdParams(event)
    .map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`)
    .join('')}]`;
}

export interface SyslogHeader {
  hostname: string;
  facility?: number;
  appName?: string;
  procId?: string;
}

/** The last rendering of each per-event header piece: consecutive events usually repeat them. */
const lastHeader = {
  iso: '',
  timestamp: '',
  msgIdIn: '',
  msgId: '',
  hostname: '',
  appName: '',
  procId: '',
  middle: '',
};

function cachedTimestamp(iso: string): string {
  if (iso !== lastHeader.iso) {
    lastHeader.timestamp = rfc5424Timestamp(iso);
    lastHeader.iso = iso;
  }
  return lastHeader.timestamp;
}

/** `HOSTNAME APP-NAME PROCID`, rendered again only when one of them changes. */
function cachedMiddle(hostname: string, appName: string, procId: string): string {
  const c = lastHeader;
  if (hostname !== c.hostname || appName !== c.appName || procId !== c.procId || c.middle === '') {
    c.middle = `${hostnameField(hostname)} ${printableAscii(appName, 48)} ${printableAscii(procId, 128)}`;
    c.hostname = hostname;
    c.appName = appName;
    c.procId = procId;
  }
  return c.middle;
}

function cachedMsgId(value: string): string {
  if (value !== lastHeader.msgIdIn || lastHeader.msgId === '') {
    lastHeader.msgId = printableAscii(value, 32);
    lastHeader.msgIdIn = value;
  }
  return lastHeader.msgId;
}

/**
 * Wraps a message (CEF, LEEF, JSON, or our own text) in an RFC 5424 header; `sd` defaults to `-`.
 * `messageWellFormed` skips the NUL/lone-surrogate pass over a message its formatter already made
 * well-formed (CEF does, value by value).
 */
export function formatRfc5424(
  event: Event,
  message: string,
  header: SyslogHeader,
  sd = '-',
  messageWellFormed = false,
): string {
  const head = `<${priority(event.event.severity, header.facility)}>1 ${cachedTimestamp(event['@timestamp'])} ${cachedMiddle(
    header.hostname,
    header.appName ?? APP_NAME,
    header.procId ?? '-',
  )} ${cachedMsgId(event.rule?.id ?? event.event.action)} ${sd}`;
  if (message === '') return head;
  return `${head} ${messageWellFormed ? message : wellFormed(message)}`;
}

/** `format=rfc5424`: the whole line, our fields in structured data and the event message as MSG. */
export const formatRfc5424Sd: Formatter = (event, options) =>
  formatRfc5424(
    event,
    event.message,
    { hostname: options.hostname ?? '-', facility: options.facility },
    structuredData(event),
  );
