import { canonicalLineHash, hex64At, recordHash } from '../../shared/record/index.ts';

/**
 * One line of a log, reduced to what the chain needs. Reads the file output's JSON lines (json or
 * ecs), SIEM exports of them (an Elasticsearch hit's `_source`, a Splunk HEC envelope's `event`, a
 * Splunk export's `_raw`), OCSF (`unmapped.sealwatch`), and CEF lines wherever `CEF:0|` starts in the
 * line (a receiver's file, with its own syslog prefix).
 */
export interface RecordLine {
  runId: string;
  seq: number;
  prev?: string;
  hash?: string;
  previousRun?: { run_id: string; seq: number; hash: string };
  checkpoint?: { seq?: unknown; head?: unknown; bundle?: unknown };
  /** The recomputed hash, when the line carries the whole event (JSON or ECS, not shortened). */
  contentHash?: string;
  /** The line was shortened to fit its output: present and in order, content not verifiable. */
  truncated: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Finds our event inside a JSON value as SIEMs export it; undefined when there is none. */
function unwrap(raw: unknown): { event: Obj; whole: boolean } | undefined {
  if (!isObj(raw)) return undefined;
  if (isObj(raw.sealwatch) && typeof raw['@timestamp'] === 'string') {
    if (isObj(raw.ecs) && isObj(raw.observer)) {
      // ECS adds ecs, log and observer to the event as it is.
      const { ecs: _ecs, log: _log, observer: _observer, ...event } = raw;
      return { event, whole: true };
    }
    return { event: raw, whole: true };
  }
  if (isObj(raw._source)) return unwrap(raw._source);
  if (isObj(raw.result)) return unwrap(raw.result);
  if (typeof raw._raw === 'string') {
    try {
      return unwrap(JSON.parse(raw._raw));
    } catch {
      return undefined;
    }
  }
  if (isObj(raw.event) && isObj(raw.event.sealwatch)) return unwrap(raw.event);
  if (isObj(raw.unmapped) && isObj(raw.unmapped.sealwatch))
    return { event: { sealwatch: raw.unmapped.sealwatch }, whole: false };
  return undefined;
}

/**
 * From a parsed JSON line; undefined when it holds no event with a run_id and seq. With the line's text,
 * a line in canonical form is checked by hashing the text (no second canonicalization).
 */
export function recordFromJson(raw: unknown, text?: string): RecordLine | 'unchained' | undefined {
  const found = unwrap(raw);
  if (found === undefined) return undefined;
  const sw = found.event.sealwatch as Obj;
  if (typeof sw.run_id !== 'string' || typeof sw.seq !== 'number') return 'unchained';
  const chain = isObj(sw.chain) ? sw.chain : undefined;
  if (chain === undefined) return 'unchained';
  const truncated = sw.truncated !== undefined;
  const previousRun = isObj(chain.previous_run) ? (chain.previous_run as RecordLine['previousRun']) : undefined;
  return {
    runId: sw.run_id,
    seq: sw.seq,
    prev: typeof chain.prev === 'string' ? chain.prev : undefined,
    hash: typeof chain.hash === 'string' ? chain.hash : undefined,
    previousRun,
    checkpoint: isObj(sw.checkpoint) ? sw.checkpoint : undefined,
    contentHash:
      found.whole && !truncated
        ? text !== undefined && found.event === raw && canonicalLineHash(text) !== undefined
          ? (chain.hash as string)
          : recordHash(found.event)
        : undefined,
    truncated,
  };
}

const SEALWATCH = '"sealwatch":{';
const PREV = ',"prev":"sha256:';

/**
 * A line the file output wrote in canonical form, read without JSON.parse: its hash is checked over its
 * text, then run_id, seq and prev are taken from the `sealwatch` member (members are sorted and strings
 * escaped, so these keys can only be the structural ones). undefined for any other line (checkpoints,
 * shortened or exported copies, escapes in the run id): those take the parsed path.
 */
export function recordFromCanonicalLine(text: string): RecordLine | undefined {
  const found = canonicalLineHash(text);
  // chain is the first member of sealwatch (members are sorted), and holds hash and prev only
  if (found === undefined || !text.startsWith(SEALWATCH, found.at - SEALWATCH.length)) return undefined;
  const prevAt = found.next + PREV.length;
  if (!text.startsWith(PREV, found.next) || !hex64At(text, prevAt) || text.charCodeAt(prevAt + 65) !== 0x7d)
    return undefined;
  const sw = text.slice(found.at - SEALWATCH.length);
  if (/"(?:checkpoint|previous_run|truncated|details)":/.test(sw)) return undefined;
  const runId = /,"run_id":"([^"\\]*)"/.exec(sw);
  const seq = /,"seq":(\d+)[,}]/.exec(sw);
  if (runId === null || seq === null) return undefined;
  return {
    runId: runId[1]!,
    seq: Number(seq[1]),
    prev: text.slice(prevAt - 'sha256:'.length, prevAt + 64),
    hash: found.hash,
    contentHash: found.hash,
    truncated: false,
  };
}

/** CEF extension values: `\\=`, `\\\\`, `\\n`, `\\r` unescaped; keys at unescaped ` key=` boundaries. */
function cefExtension(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const starts = [...text.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((m) => {
    let slashes = 0;
    for (let i = m.index + m[0].length - 2; i >= 0 && text[i] === '\\'; i--) slashes++;
    return slashes % 2 === 0;
  });
  starts.forEach((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]!.index : text.length;
    out[m[1]!] = text
      .slice(m.index + m[0].length, end)
      .replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return out;
}

/** From a line holding a CEF message; undefined when there is none, 'unchained' without chain keys. */
export function recordFromCef(line: string): RecordLine | 'unchained' | undefined {
  const at = line.indexOf('CEF:0|');
  if (at < 0) return undefined;
  // Seven header fields end at the seventh unescaped pipe.
  let pipes = 0;
  let i = at;
  for (; i < line.length && pipes < 7; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') pipes++;
  }
  if (pipes < 7) return undefined;
  const ext = cefExtension(line.slice(i).trimStart());
  const runId = ext.flexString1;
  const seq = Number(ext.cn1);
  if (runId === undefined || !Number.isSafeInteger(seq) || ext.sealwatchChainHash === undefined) return 'unchained';
  let previousRun: RecordLine['previousRun'];
  const pr = /^(\S+) (\d+) (sha256:[0-9a-f]{64})$/.exec(ext.sealwatchChainPreviousRun ?? '');
  if (pr !== null) previousRun = { run_id: pr[1]!, seq: Number(pr[2]), hash: pr[3]! };
  let checkpoint: RecordLine['checkpoint'];
  if (ext.sealwatchCheckpoint !== undefined) {
    try {
      const parsed: unknown = JSON.parse(ext.sealwatchCheckpoint);
      checkpoint = isObj(parsed) ? parsed : { bundle: undefined };
    } catch {
      checkpoint = { bundle: undefined };
    }
  }
  return {
    runId,
    seq,
    prev: ext.sealwatchChainPrev,
    hash: ext.sealwatchChainHash,
    previousRun,
    checkpoint,
    truncated: ext.sealwatchTruncated !== undefined,
  };
}
