import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { loadConfigFile, parseYaml, readTextFile } from '../../shared/config/index.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { Event } from '../../shared/events/index.ts';
import { forEachFileLine } from '../../shared/text/index.ts';
import { CustomRule, Profile, profileRules } from '../../shared/profile/index.ts';
import { allRules, createRuleEngine } from './engine.ts';
import type { Hit } from './rule.ts';
import { BUILTIN_RULES } from './rules/builtin/index.ts';
import { PROFILE_RULES } from './rules/profile-rules.ts';

/**
 * A policy file: custom rules and disabled built-in ids, on their own (`kind: Policy`) or inside a
 * Profile (`kind: Profile`, `rules:`). `sealwatch policy lint` validates either; `policy test`
 * replays events from a JSONL file through the rules it defines.
 */
export const PolicyFile = z
  .object({
    apiVersion: z.literal('sealwatch.dev/v1'),
    kind: z.literal('Policy'),
    metadata: z.object({ name: z.string().optional(), description: z.string().optional() }).strict().default({}),
    disable: z.array(z.string()).default([]).describe('ids of built-in rules to turn off'),
    rules: z.array(CustomRule).default([]).describe('custom rules'),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFile>;

/** A Policy as the Profile the rule engine consumes (no processes or network: drift rules stay quiet). */
export function policyToProfile(doc: PolicyFile): Profile {
  return Profile.parse({
    apiVersion: 'sealwatch.dev/v1',
    kind: 'Profile',
    metadata: { name: doc.metadata.name, source: 'declared' },
    rules: { disable: doc.disable, custom: doc.rules },
  });
}

const KNOWN_IDS = new Set([...BUILTIN_RULES, ...PROFILE_RULES].map((r) => r.meta.id));

export const policySpec = {
  schema: PolicyFile.transform(policyToProfile),
  rules: (profile: Profile) => {
    const { errors, warnings } = profileRules(profile);
    profile.rules.disable.forEach((id, i) => {
      if (!KNOWN_IDS.has(id)) warnings.push(`rules.disable[${i}]: "${id}" is not a built-in rule id`);
    });
    profile.rules.custom.forEach((rule, i) => {
      if (KNOWN_IDS.has(rule.id)) errors.push(`rules.custom[${i}].id: "${rule.id}" is the id of a built-in rule`);
    });
    return { errors, warnings };
  },
};

/** Loads a Policy or Profile file; ConfigError listing every problem, one line each. */
export function loadPolicy(file: string, source = file): { profile: Profile; warnings: string[]; isProfile: boolean } {
  const raw = parseYaml(readTextFile(file, source), source);
  const isProfile = typeof raw === 'object' && raw !== null && (raw as { kind?: unknown }).kind === 'Profile';
  // a union's errors are unreadable: validate against the one schema the document claims to be
  const { value, warnings } = isProfile
    ? loadConfigFile({ schema: Profile, rules: policySpec.rules }, file, source)
    : loadConfigFile(policySpec, file, source);
  return { profile: value, warnings, isProfile };
}

export interface PolicyTestResult {
  hits: Array<{ line: number; hit: Hit }>;
  events: number;
  skipped: Array<{ line: number; reason: string }>;
  /** a rule that threw on an event (the other rules still judged it) */
  ruleErrors: Array<{ line: number; rule: string; message: string }>;
}

/** A line longer than this is skipped as it streams past, never held whole. */
const MAX_LINE_BYTES = 1024 * 1024;

/** Replays a JSONL event file through the built-in rules and the policy's own; bad lines are counted. */
export async function testPolicy(profile: Profile, eventsFile: string, isProfile: boolean): Promise<PolicyTestResult> {
  const result: PolicyTestResult = { hits: [], events: 0, skipped: [], ruleErrors: [] };
  let line = 0;
  const engine = createRuleEngine(allRules(profile), isProfile ? { profile } : {}, (rule, error) =>
    result.ruleErrors.push({ line, rule: rule.id, message: error instanceof Error ? error.message : String(error) }),
  );
  const stream = createReadStream(eventsFile, { highWaterMark: 1 << 20 });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch {
    throw new ConfigError('NOT_FOUND', `--events ${eventsFile}: cannot read the file`);
  }
  try {
    await forEachFileLine(stream, MAX_LINE_BYTES, (text, number) => {
      line = number;
      if (text === undefined) {
        result.skipped.push({ line, reason: `longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB` });
        return;
      }
      if (text.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        result.skipped.push({ line, reason: 'not JSON' });
        return;
      }
      const parsed = Event.safeParse(json);
      if (!parsed.success) {
        result.skipped.push({ line, reason: `not an event (${parsed.error.issues[0]?.path.join('.') ?? '?'})` });
        return;
      }
      result.events++;
      for (const hit of engine.evaluate(parsed.data)) result.hits.push({ line, hit });
    });
  } finally {
    stream.destroy();
  }
  return result;
}
