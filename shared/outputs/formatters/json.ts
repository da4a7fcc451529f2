import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { canonicalFormOf } from '../../record/index.ts';
import { wellFormedJson } from './text.ts';

const stringify = (value: unknown): string => wellFormedJson(JSON.stringify(value));

/**
 * JSON renderings. JSON.stringify escapes every control character, quote and backslash, so no
 * attacker-controlled value can add a field or a line; lone surrogates become \udXXX escapes.
 */

/**
 * Our normalized event as it is (ECS field names where ECS has them, ours under `sealwatch.*`). A chained
 * event is written in the canonical form its hash was computed over (members sorted, RFC 8785), so
 * `audit verify-log` can check a line by hashing its text.
 */
export const formatJson: Formatter = (event) => canonicalFormOf(event) ?? stringify(event);

export const ECS_VERSION = '8.11.0';

/** Strict ECS: the event plus `ecs.version`, `log.level` and our fields kept under `sealwatch.*` (a custom field set). */
export const formatEcs: Formatter = (event) => {
  const { '@timestamp': timestamp, ...rest } = event;
  return stringify({
    '@timestamp': timestamp,
    ecs: { version: ECS_VERSION },
    ...rest,
    log: { level: event.sealwatch.severity },
    observer: {
      vendor: 'sealwatch',
      product: 'sealwatch',
      type: 'container-security',
      version: event.sealwatch.version,
    },
  });
};

export const OCSF_VERSION = '1.1.0';
/** OCSF classes we render (class_uid): Process Activity, Network Activity, Detection Finding. */
export const OCSF_CLASS = { processActivity: 1007, networkActivity: 4001, detectionFinding: 2004 } as const;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const OCSF_SEVERITY = { info: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;

export function ocsfClass(event: Event): number {
  if (event.event.kind === 'alert' || event.rule !== undefined) return OCSF_CLASS.detectionFinding;
  if (event.event.category.includes('network')) return OCSF_CLASS.networkActivity;
  return OCSF_CLASS.processActivity;
}

function ocsfActivity(classUid: number, event: Event): number {
  const types = event.event.type;
  if (classUid === OCSF_CLASS.detectionFinding) return 1; // Create
  if (classUid === OCSF_CLASS.networkActivity) {
    if (types.includes('end')) return 2; // Close
    if (types.includes('denied')) return 5; // Refuse
    if (types.includes('connection') || types.includes('start')) return 1; // Open
    return 99;
  }
  if (types.includes('start')) return 1; // Launch
  if (types.includes('end')) return 2; // Terminate
  return 99;
}

function ocsfProcess(event: Event): Record<string, unknown> | undefined {
  const p = event.process;
  if (p === undefined) return undefined;
  return {
    pid: p.pid,
    name: p.name,
    cmd_line: p.command_line ?? p.args?.join(' '),
    file:
      p.executable === undefined
        ? undefined
        : { path: p.executable, hashes: p.hash && [{ algorithm_id: 3, value: p.hash.sha256 }] },
    user: p.user && { uid: p.user.id, name: p.user.name },
    created_time: p.start === undefined ? undefined : Date.parse(p.start),
    parent_process: p.parent && {
      pid: p.parent.pid,
      name: p.parent.name,
      file: p.parent.executable && { path: p.parent.executable },
    },
  };
}

/** OCSF 1.1: Detection Finding (2004) for rule hits, else Network Activity (4001) or Process Activity (1007). */
export const formatOcsf: Formatter = (event) => {
  const classUid = ocsfClass(event);
  const activityId = ocsfActivity(classUid, event);
  const categoryUid = Math.floor(classUid / 1000);
  const endpoint = (e: Event['source']): Record<string, unknown> | undefined =>
    e && { ip: e.ip, port: e.port, hostname: e.domain };
  const out: Record<string, unknown> = {
    class_uid: classUid,
    category_uid: categoryUid,
    activity_id: activityId,
    type_uid: classUid * 100 + activityId,
    time: Date.parse(event['@timestamp']),
    severity_id: OCSF_SEVERITY[event.sealwatch.severity],
    severity: event.sealwatch.severity,
    message: event.message,
    status_id: event.event.outcome === 'success' ? 1 : event.event.outcome === 'failure' ? 2 : 0,
    metadata: {
      version: OCSF_VERSION,
      uid: event.event.id,
      product: { name: 'sealwatch', vendor_name: 'sealwatch', version: event.sealwatch.version },
      correlation_uid: event.sealwatch.run_id,
      sequence: event.sealwatch.seq,
    },
    actor: event.process && { process: ocsfProcess(event) },
    process: ocsfProcess(event),
    src_endpoint: endpoint(event.source),
    dst_endpoint: endpoint(event.destination),
    connection_info: event.network && { protocol_name: event.network.transport, direction: event.network.direction },
    device: {
      hostname: event.host?.name,
      container: event.container && {
        uid: event.container.id,
        name: event.container.name,
        image: event.container.image && {
          name: event.container.image.name,
          uid: event.container.image.digest ?? event.container.image.id,
        },
      },
      namespace_pid: undefined,
    },
    unmapped: { event: event.event, sealwatch: event.sealwatch, orchestrator: event.orchestrator, file: event.file },
  };
  if (classUid === OCSF_CLASS.detectionFinding) {
    out.finding_info = {
      uid: event.event.id,
      title: event.rule?.name ?? event.message,
      desc: event.rule?.description,
      types: event.rule?.category === undefined ? undefined : [event.rule.category],
      analytic: event.rule && { uid: event.rule.id, name: event.rule.name, type_id: 1 },
    };
  }
  return stringify(out);
};
