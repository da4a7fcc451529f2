import { UsageError } from '../../shared/errors/index.ts';
import type { Event } from '../../shared/events/index.ts';
// The plain scale: a reading thread filters without loading zod.
import { SEVERITY_FLOOR, SEVERITY_LABELS, type SeverityLabel } from '../../shared/severity/scale.ts';
import type { ReportWindow } from './window.ts';

/** What to keep. Empty lists mean "any". Values compare exactly (rule ids, types, namespaces). */
export interface EventFilter {
  window: ReportWindow;
  rules: string[];
  types: string[];
  categories: string[];
  minSeverity: number;
  images: string[];
  namespaces: string[];
}

/** `high` → 7 (the floor of the band), `5` → 5. */
export function parseMinSeverity(text: string): number {
  if ((SEVERITY_LABELS as readonly string[]).includes(text)) return SEVERITY_FLOOR[text as SeverityLabel];
  if (/^(10|[0-9])$/.test(text)) return Number(text);
  throw new UsageError(
    'BAD_ARGUMENT',
    `--min-severity: "${text}" is not a label (info, low, medium, high, critical) or a number 0–10`,
  );
}

function imageMatches(event: Event, wanted: string): boolean {
  const image = event.container?.image;
  if (!image) return false;
  if (image.digest === wanted || image.id === wanted) return true;
  const name = image.name;
  if (name === undefined) return false;
  return name === wanted || name.startsWith(`${wanted}:`) || name.startsWith(`${wanted}@`);
}

/** Everything except the time window (checked by the caller, which has parsed the timestamp). */
export function matchesFilter(event: Event, filter: EventFilter): boolean {
  if (event.event.severity < filter.minSeverity) return false;
  if (filter.rules.length > 0 && !filter.rules.includes(event.rule?.id ?? '')) return false;
  if (filter.types.length > 0 && !filter.types.some((t) => event.event.type.includes(t) || event.event.action === t))
    return false;
  if (
    filter.categories.length > 0 &&
    !filter.categories.some((c) => event.event.category.includes(c) || event.rule?.category === c)
  )
    return false;
  if (filter.images.length > 0 && !filter.images.some((i) => imageMatches(event, i))) return false;
  if (filter.namespaces.length > 0 && !filter.namespaces.includes(event.orchestrator?.namespace ?? '')) return false;
  return true;
}

export function inWindow(ms: number, window: ReportWindow): boolean {
  if (window.from !== undefined && ms < window.from) return false;
  if (window.to !== undefined && ms >= window.to) return false;
  return true;
}

/** One line per active filter, for the report header (deterministic order). */
export function describeFilter(filter: EventFilter): string[] {
  const lines: string[] = [];
  if (filter.rules.length > 0) lines.push(`rule: ${filter.rules.join(', ')}`);
  if (filter.types.length > 0) lines.push(`type: ${filter.types.join(', ')}`);
  if (filter.categories.length > 0) lines.push(`category: ${filter.categories.join(', ')}`);
  if (filter.minSeverity > 0) lines.push(`min severity: ${filter.minSeverity}`);
  if (filter.images.length > 0) lines.push(`image: ${filter.images.join(', ')}`);
  if (filter.namespaces.length > 0) lines.push(`namespace: ${filter.namespaces.join(', ')}`);
  return lines;
}
