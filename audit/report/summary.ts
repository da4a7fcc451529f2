import type { Event } from '../../shared/events/index.ts';
// The plain scale: a reading thread counts without loading zod.
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../shared/severity/scale.ts';
import type { LogVerifyResult } from '../verify-log/index.ts';
import type { InputStats } from './read-events.ts';
import { num, plural } from './text.ts';
import { TopCounter, type TopList, type TopState } from './top-counter.ts';
import type { ReportWindow } from './window.ts';

export type SeverityCounts = Record<SeverityLabel, number>;

/**
 * The watcher's answers to an alert (responder and `--on-unsealed stop`): each carries the rule of
 * the alert it answers, so it is counted as a response of that rule, never as a second alert.
 */
const RESPONSE_ACTIONS = new Set(['process-killed', 'process-kill-failed', 'target-stopped', 'target-stop-failed']);

export function isResponse(event: Event): boolean {
  return RESPONSE_ACTIONS.has(event.event.action);
}

/** What an event counts as: an alert, a response to one, or another event (state, observation). */
export type EventRole = 'alert' | 'response' | 'other';

export function eventRole(event: Event): EventRole {
  if (isResponse(event)) return 'response';
  return event.event.kind === 'alert' ? 'alert' : 'other';
}

export interface RuleSummary {
  /** `''` for events that carry no rule. */
  id: string;
  name: string;
  /** Every event of the rule in the report (alerts, responses, others). */
  events: number;
  alerts: number;
  /** Responses by outcome (`killed`, `kill_failed`, `dry_run`). */
  responses: Record<string, number>;
  maxSeverity: number;
  first: string;
  last: string;
  /** Alerts by severity. */
  bySeverity: SeverityCounts;
}

/** Alerts in one time bucket (a UTC day or hour). */
export interface BucketSummary {
  /** `YYYY-MM-DD` for a day, `YYYY-MM-DDTHH` for an hour (UTC). */
  start: string;
  total: number;
  bySeverity: SeverityCounts;
  /** Alerts by rule id (only rules with alerts in the bucket). */
  byRule: Record<string, number>;
}

/** Everything a report says before it lists events. Bounded by the number of rules and days, not events. */
export interface ReportSummary {
  window: ReportWindow;
  filters: string[];
  inputs: InputStats[];
  /** Events in the report. */
  total: number;
  alerts: number;
  responses: number;
  /** Events in the report that are neither alerts nor responses. */
  others: number;
  /** Events read but outside the window or filters. */
  excluded: number;
  /** Alerts by severity. */
  bySeverity: SeverityCounts;
  byOutcome: Record<string, number>;
  /** Sorted by rule id (the order of the per-rule tables). */
  rules: RuleSummary[];
  /** Every day from the first to the last alert (gaps filled when the span is under a year). */
  days: BucketSummary[];
  /** Every hour from the first to the last alert, when they are at most two days apart. */
  hours?: BucketSummary[];
  /** The processes and destinations named most often by alerts. */
  topProcesses: TopList;
  topDestinations: TopList;
  /** The result of verifying the event chain, when it was checked. */
  integrity?: LogVerifyResult;
  first?: string;
  last?: string;
}

/** "2 killed, 1 kill_failed": a rule's responses, or "" when it had none. */
export function describeResponses(responses: Record<string, number>): string {
  return Object.entries(responses)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([outcome, count]) => `${num(count)} ${outcome.replace('_', ' ')}`)
    .join(', ');
}

/** "2 alerts, 1 killed": what a rule's section holds. */
export function groupHeading(rule: RuleSummary): string {
  const parts = [plural(rule.alerts, 'alert')];
  const responses = describeResponses(rule.responses);
  if (responses !== '') parts.push(responses);
  const others = rule.events - rule.alerts - Object.values(rule.responses).reduce((s, c) => s + c, 0);
  if (others > 0) parts.push(plural(others, 'other event'));
  return parts.join(', ');
}

export function emptySeverityCounts(): SeverityCounts {
  return Object.fromEntries(SEVERITY_LABELS.map((l) => [l, 0])) as SeverityCounts;
}

export const NO_RULE = '';

export function ruleKey(event: Event): string {
  return event.rule?.id ?? NO_RULE;
}

const MAX_FILLED_DAYS = 366;
const MAX_HOURS = 48;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
export const TOP_LIMIT = 10;

interface Bucket {
  total: number;
  bySeverity: SeverityCounts;
  byRule: Map<string, number>;
}

function mergeBuckets(into: Map<number, Bucket>, from: ReadonlyMap<number, Bucket>): void {
  for (const [index, other] of from) {
    const bucket = into.get(index);
    if (!bucket) {
      into.set(index, other);
      continue;
    }
    bucket.total += other.total;
    for (const label of SEVERITY_LABELS) bucket.bySeverity[label] += other.bySeverity[label];
    for (const [rule, n] of other.byRule) bucket.byRule.set(rule, (bucket.byRule.get(rule) ?? 0) + n);
  }
}

/** A SummaryBuilder's counts as plain data (Maps included: they cross threads as they are). */
export interface SummaryPart {
  total: number;
  alerts: number;
  responses: number;
  excluded: number;
  bySeverity: SeverityCounts;
  byOutcome: ReadonlyMap<string, number>;
  rules: ReadonlyMap<string, RuleSummary & { firstMs: number; lastMs: number }>;
  days: ReadonlyMap<number, Bucket>;
  hours: ReadonlyMap<number, Bucket> | undefined;
  topProcesses: TopState;
  topDestinations: TopState;
  firstMs: number;
  lastMs: number;
  first: string;
  last: string;
}

function newBucket(): Bucket {
  return { total: 0, bySeverity: emptySeverityCounts(), byRule: new Map() };
}

function count(bucket: Bucket, label: SeverityLabel, rule: string): void {
  bucket.total++;
  bucket.bySeverity[label]++;
  bucket.byRule.set(rule, (bucket.byRule.get(rule) ?? 0) + 1);
}

function bucketSummary(start: string, bucket: Bucket | undefined): BucketSummary {
  if (!bucket) return { start, total: 0, bySeverity: emptySeverityCounts(), byRule: {} };
  const byRule = Object.fromEntries([...bucket.byRule.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { start, total: bucket.total, bySeverity: bucket.bySeverity, byRule };
}

/** Top-list keys are attacker-controlled: a long one is cut, so the counters stay small. */
const MAX_KEY_LENGTH = 200;

function clip(key: string): string {
  return key.length > MAX_KEY_LENGTH ? `${key.slice(0, MAX_KEY_LENGTH)}…` : key;
}

/**
 * The last key made and what it was made of: events in a row mostly name the same process or
 * destination, and the same key string (its hash computed once) makes the top counter's lookup cheap.
 */
interface KeyCache {
  a: unknown;
  b: unknown;
  c: unknown;
  key: string | undefined;
}

function newKeyCache(): KeyCache {
  return { a: undefined, b: undefined, c: undefined, key: undefined };
}

function processKey(event: Event, cache: KeyCache): string | undefined {
  const p = event.process;
  if (!p) return undefined;
  if (cache.key !== undefined && p.name === cache.a && p.executable === cache.b) return cache.key;
  const name = p.name ?? p.executable;
  if (name === undefined) return undefined;
  const key = clip(p.executable !== undefined && p.executable !== name ? `${name} (${p.executable})` : name);
  Object.assign(cache, { a: p.name, b: p.executable, key });
  return key;
}

function destinationKey(event: Event, cache: KeyCache): string | undefined {
  const d = event.destination;
  if (!d) return undefined;
  if (cache.key !== undefined && d.domain === cache.a && d.ip === cache.b && d.port === cache.c) return cache.key;
  const host = d.domain ?? d.ip;
  if (host === undefined) return undefined;
  const shown = d.domain === undefined && host.includes(':') ? `[${host}]` : host;
  const key = clip(d.port === undefined ? shown : `${shown}:${d.port}`);
  Object.assign(cache, { a: d.domain, b: d.ip, c: d.port, key });
  return key;
}

/** Accumulates the summary while events stream past; `finish()` sorts everything deterministically. */
export class SummaryBuilder {
  private total = 0;
  private alerts = 0;
  private responses = 0;
  private excluded = 0;
  private readonly bySeverity = emptySeverityCounts();
  private readonly byOutcome = new Map<string, number>();
  private readonly rules = new Map<string, RuleSummary & { firstMs: number; lastMs: number }>();
  /** By day number since the epoch (UTC). */
  private readonly days = new Map<number, Bucket>();
  /** By hour number since the epoch; dropped once alerts fall in more than MAX_HOURS distinct hours. */
  private hours: Map<number, Bucket> | undefined = new Map();
  private readonly topProcesses = new TopCounter();
  private readonly topDestinations = new TopCounter();
  private readonly processCache = newKeyCache();
  private readonly destinationCache = newKeyCache();
  private firstMs = Infinity;
  private lastMs = -Infinity;
  private first = '';
  private last = '';

  exclude(): void {
    this.excluded++;
  }

  /** Everything counted so far, as plain data (it crosses threads): a reading thread's part. */
  part(): SummaryPart {
    return {
      total: this.total,
      alerts: this.alerts,
      responses: this.responses,
      excluded: this.excluded,
      bySeverity: this.bySeverity,
      byOutcome: this.byOutcome,
      rules: this.rules,
      days: this.days,
      hours: this.hours,
      topProcesses: this.topProcesses.state(),
      topDestinations: this.topDestinations.state(),
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      first: this.first,
      last: this.last,
    };
  }

  /** Adds a part counted elsewhere, as if its events had been added here. */
  absorb(part: SummaryPart): void {
    this.total += part.total;
    this.alerts += part.alerts;
    this.responses += part.responses;
    this.excluded += part.excluded;
    for (const label of SEVERITY_LABELS) this.bySeverity[label] += part.bySeverity[label];
    for (const [outcome, n] of part.byOutcome) this.byOutcome.set(outcome, (this.byOutcome.get(outcome) ?? 0) + n);
    if (part.firstMs < this.firstMs || (part.firstMs === this.firstMs && part.first < this.first)) {
      this.firstMs = part.firstMs;
      this.first = part.first;
    }
    if (part.lastMs > this.lastMs || (part.lastMs === this.lastMs && part.last > this.last)) {
      this.lastMs = part.lastMs;
      this.last = part.last;
    }
    for (const [key, other] of part.rules) {
      const rule = this.rules.get(key);
      if (!rule) {
        this.rules.set(key, other);
        continue;
      }
      rule.events += other.events;
      rule.alerts += other.alerts;
      for (const [outcome, n] of Object.entries(other.responses))
        rule.responses[outcome] = (rule.responses[outcome] ?? 0) + n;
      for (const label of SEVERITY_LABELS) rule.bySeverity[label] += other.bySeverity[label];
      rule.maxSeverity = Math.max(rule.maxSeverity, other.maxSeverity);
      if (other.firstMs < rule.firstMs || (other.firstMs === rule.firstMs && other.first < rule.first)) {
        rule.firstMs = other.firstMs;
        rule.first = other.first;
      }
      if (other.lastMs > rule.lastMs || (other.lastMs === rule.lastMs && other.last > rule.last)) {
        rule.lastMs = other.lastMs;
        rule.last = other.last;
      }
    }
    mergeBuckets(this.days, part.days);
    if (this.hours !== undefined) {
      if (part.hours === undefined) this.hours = undefined;
      else {
        mergeBuckets(this.hours, part.hours);
        if (this.hours.size > MAX_HOURS) this.hours = undefined;
      }
    }
    this.topProcesses.merge(part.topProcesses);
    this.topDestinations.merge(part.topDestinations);
  }

  add(event: Event, ms: number): void {
    this.total++;
    const outcome = event.sealwatch.outcome ?? 'unknown';
    this.byOutcome.set(outcome, (this.byOutcome.get(outcome) ?? 0) + 1);
    const ts = event['@timestamp'];
    if (ms < this.firstMs || (ms === this.firstMs && ts < this.first)) {
      this.firstMs = ms;
      this.first = ts;
    }
    if (ms > this.lastMs || (ms === this.lastMs && ts > this.last)) {
      this.lastMs = ms;
      this.last = ts;
    }
    const key = ruleKey(event);
    let rule = this.rules.get(key);
    if (!rule) {
      rule = {
        id: key,
        name: event.rule?.name ?? '(no rule)',
        events: 0,
        alerts: 0,
        responses: {},
        maxSeverity: 0,
        first: ts,
        last: ts,
        firstMs: ms,
        lastMs: ms,
        bySeverity: emptySeverityCounts(),
      };
      this.rules.set(key, rule);
    }
    rule.events++;
    if (ms < rule.firstMs || (ms === rule.firstMs && ts < rule.first)) {
      rule.firstMs = ms;
      rule.first = ts;
    }
    if (ms > rule.lastMs || (ms === rule.lastMs && ts > rule.last)) {
      rule.lastMs = ms;
      rule.last = ts;
    }
    const role = eventRole(event);
    if (role === 'response') {
      this.responses++;
      rule.responses[outcome] = (rule.responses[outcome] ?? 0) + 1;
      return;
    }
    if (role !== 'alert') return;
    this.alerts++;
    const label = severityLabel(event.event.severity);
    this.bySeverity[label]++;
    rule.alerts++;
    rule.bySeverity[label]++;
    rule.maxSeverity = Math.max(rule.maxSeverity, event.event.severity);
    const dayIndex = Math.floor(ms / DAY_MS);
    let day = this.days.get(dayIndex);
    if (!day) this.days.set(dayIndex, (day = newBucket()));
    count(day, label, key);
    if (this.hours) {
      const hourIndex = Math.floor(ms / HOUR_MS);
      let hour = this.hours.get(hourIndex);
      if (!hour) {
        this.hours.set(hourIndex, (hour = newBucket()));
        if (this.hours.size > MAX_HOURS) this.hours = undefined;
      }
      if (this.hours) count(hour, label, key);
    }
    const process = processKey(event, this.processCache);
    if (process !== undefined) this.topProcesses.add(process);
    const destination = destinationKey(event, this.destinationCache);
    if (destination !== undefined) this.topDestinations.add(destination);
  }

  finish(window: ReportWindow, filters: string[], inputs: InputStats[]): ReportSummary {
    const rules = [...this.rules.values()]
      .map(({ firstMs: _f, lastMs: _l, ...rule }) => rule)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const byOutcome = Object.fromEntries([...this.byOutcome.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    const hours = this.filledHours();
    return {
      window,
      filters,
      inputs,
      total: this.total,
      alerts: this.alerts,
      responses: this.responses,
      others: this.total - this.alerts - this.responses,
      excluded: this.excluded,
      bySeverity: this.bySeverity,
      byOutcome,
      rules,
      days: this.filledDays(),
      ...(hours ? { hours } : {}),
      topProcesses: this.topProcesses.result(TOP_LIMIT),
      topDestinations: this.topDestinations.result(TOP_LIMIT),
      ...(this.total > 0 ? { first: this.first, last: this.last } : {}),
    };
  }

  private filledDays(): BucketSummary[] {
    const present = [...this.days.keys()].sort((a, b) => a - b);
    const name = (d: number): string => new Date(d * DAY_MS).toISOString().slice(0, 10);
    if (present.length === 0) return [];
    const start = present[0]!;
    const end = present[present.length - 1]!;
    const indexes = end - start + 1 > MAX_FILLED_DAYS ? present : range(start, end);
    return indexes.map((d) => bucketSummary(name(d), this.days.get(d)));
  }

  private filledHours(): BucketSummary[] | undefined {
    if (!this.hours || this.hours.size === 0) return undefined;
    const present = [...this.hours.keys()].sort((a, b) => a - b);
    const start = present[0]!;
    const end = present[present.length - 1]!;
    if (end - start + 1 > MAX_HOURS) return undefined;
    return range(start, end).map((h) =>
      bucketSummary(new Date(h * HOUR_MS).toISOString().slice(0, 13), this.hours!.get(h)),
    );
  }
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}
