import { z } from 'zod';
import { AdmissionConfig } from '../admission/index.ts';
import { LearnFlags, WatchFlags } from '../cli/commands/watch-flags.ts';
import { Event } from '../shared/events/index.ts';
import { PolicySpec } from '../shared/policy/index.ts';
import { Profile } from '../shared/profile/index.ts';
import { PolicyFile } from '../sidecar/evaluate/policy-file.ts';

/**
 * The JSON Schemas published in docs/schema/, generated from the zod schemas (the one source of truth) for editors
 * (yaml-language-server) and SIEM engineers: the files sealwatch reads (profile, rule policy, gates policy,
 * admission policy, the `--config` files of watch and learn) as their input form, and the event it writes.
 * `npm run schemas` rewrites them; test/shared/schemas.test.ts fails when they are stale.
 */
const SCHEMAS: ReadonlyArray<{ file: string; schema: z.ZodType; title: string; io: 'input' | 'output' }> = [
  { file: 'profile.json', schema: Profile, title: 'sealwatch runtime profile', io: 'input' },
  { file: 'event.json', schema: Event, title: 'sealwatch event', io: 'output' },
  {
    file: 'policy.json',
    schema: PolicyFile,
    title: 'sealwatch rule policy (custom rules, disabled built-in rules; policy lint, policy test)',
    io: 'input',
  },
  {
    file: 'gates-policy.json',
    schema: PolicySpec,
    title: 'sealwatch policy gates (verify --policy)',
    io: 'input',
  },
  {
    file: 'admission-config.json',
    schema: AdmissionConfig,
    title: 'sealwatch admission policy (admission --config)',
    io: 'input',
  },
  {
    file: 'watch-config.json',
    schema: WatchFlags,
    title: 'sealwatch watch --config file (keys are the long flags without --)',
    io: 'input',
  },
  {
    file: 'learn-config.json',
    schema: LearnFlags,
    title: 'sealwatch learn --config file (keys are the long flags without --)',
    io: 'input',
  },
];

export function renderJsonSchemas(): Record<string, string> {
  return Object.fromEntries(
    SCHEMAS.map(({ file, schema, title, io }) => [
      file,
      `${JSON.stringify(
        {
          $id: `https://sealwatch.dev/schema/${file}`,
          title,
          ...z.toJSONSchema(schema, { io, unrepresentable: 'any' }),
        },
        null,
        2,
      )}\n`,
    ]),
  );
}
