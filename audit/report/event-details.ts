import type { Event } from '../../shared/events/index.ts';

/**
 * Plain-text pieces of an event that every format shows. The strings are RAW (attacker-controlled):
 * each renderer escapes them for its own format.
 */
export function processSummary(event: Event): string {
  const p = event.process;
  if (!p) return '';
  const parts: string[] = [];
  parts.push(p.name ?? p.executable ?? '?');
  parts.push(`pid ${p.pid}`);
  if (p.ppid !== undefined) parts.push(`ppid ${p.ppid}`);
  if (p.executable !== undefined && p.executable !== p.name) parts.push(`exe ${p.executable}`);
  if (p.args && p.args.length > 0) parts.push(`args ${JSON.stringify(p.args)}`);
  const user = p.user?.name ?? p.user?.id;
  if (user !== undefined) parts.push(`user ${user}`);
  if (p.parent) parts.push(`parent ${p.parent.name ?? p.parent.executable ?? '?'} (pid ${p.parent.pid})`);
  if (p.hash) parts.push(`sha256 ${p.hash.sha256.slice(0, 12)}`);
  return parts.join(', ');
}

function endpoint(e: Event['source']): string {
  if (!e) return '?';
  const host = e.domain ?? e.ip ?? '?';
  const shown = e.ip !== undefined && e.ip.includes(':') && e.domain === undefined ? `[${host}]` : host;
  return e.port === undefined ? shown : `${shown}:${e.port}`;
}

export function connectionSummary(event: Event): string {
  if (!event.source && !event.destination && !event.network) return '';
  const transport = event.network?.transport ?? '';
  const direction = event.network?.direction;
  if (direction === 'listening' && event.destination === undefined) {
    return `${transport} listening ${endpoint(event.source)}`.trim();
  }
  const pieces = [transport, `${endpoint(event.source)} → ${endpoint(event.destination)}`];
  if (direction !== undefined) pieces.push(`(${direction})`);
  return pieces.filter((p) => p !== '').join(' ');
}

export function containerSummary(event: Event): string {
  const parts: string[] = [];
  const c = event.container;
  if (c?.name !== undefined) parts.push(c.name);
  else if (c?.id !== undefined) parts.push(c.id.slice(0, 12));
  if (c?.image?.name !== undefined) parts.push(c.image.name);
  const o = event.orchestrator;
  if (o?.namespace !== undefined) parts.push(`ns ${o.namespace}`);
  if (o?.resource?.name !== undefined) parts.push(`pod ${o.resource.name}`);
  return parts.join(', ');
}

export function outcomeOf(event: Event): string {
  return event.sealwatch.outcome ?? '';
}
