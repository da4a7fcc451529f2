import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { SeverityInput } from '../severity/index.ts';
import { compileArgsPattern } from './args-pattern.ts';

/**
 * The runtime behaviour profile: what a sealed workload may do. Declared in YAML by people,
 * learned by `sealwatch learn` (same format, so it can be read, edited and committed), and
 * sealed into the image. `.strict()` everywhere: a misspelt key is an error, not a silent no-op.
 */
const Port = z.number().int().min(1).max(65535).describe('port number, 1–65535');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters (sha256)');
const UserRef = z.union([z.string().min(1), z.number().int().nonnegative()]).describe('user name or numeric uid');

export const ProfileProcess = z
  .object({
    exe: z.string().min(1).describe('absolute executable path or glob (picomatch), e.g. /usr/local/bin/node'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('program name (argv[0] basename or comm); needed for multi-call binaries like busybox'),
    sha256: Sha256.optional().describe('expected sha256 of the executable; filled from the sealed inventory'),
    users: z.array(UserRef).optional().describe('users it may run as; any user when absent'),
    args: z.string().optional().describe('regular expression the joined arguments must match'),
  })
  .strict();
export type ProfileProcess = z.infer<typeof ProfileProcess>;

export const ProfileListen = z
  .object({
    port: Port,
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    address: z.string().optional().describe('bind address; any when absent'),
  })
  .strict();
export type ProfileListen = z.infer<typeof ProfileListen>;

export const ProfileEgress = z
  .object({
    cidr: z.string().optional().describe('destination network, e.g. 10.20.0.0/16 or 2001:db8::/32'),
    host: z.string().optional().describe('destination host name, resolved and refreshed at runtime'),
    ports: z.array(Port).optional().describe('allowed destination ports; any when absent'),
    protocol: z.enum(['tcp', 'udp']).optional(),
  })
  .strict();
export type ProfileEgress = z.infer<typeof ProfileEgress>;

/**
 * What a custom rule matches, and what its exceptions excuse: the same keys, both strict, so a misspelt key
 * (`{ parnet: cron }`) is an error naming it instead of an exception that silently matches everything.
 */
export const Conditions = z
  .object({
    exe: z.string().optional().describe('executable path glob'),
    name: z.string().optional().describe('program name glob (argv[0] basename or comm)'),
    args: z.string().optional().describe('regular expression over the joined arguments (linear-time engine)'),
    parent: z.string().optional().describe('parent program name glob'),
    user: UserRef.optional(),
    port: Port.optional(),
    cidr: z.string().optional(),
    path: z.string().optional().describe('file path glob (files held open)'),
  })
  .strict();
export type Conditions = z.infer<typeof Conditions>;

export const CustomRule = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-"'),
    name: z.string().min(1),
    description: z.string().optional(),
    severity: SeverityInput.describe('info, low, medium, high, critical, or 0–10'),
    on: z.enum(['process', 'connection', 'file']).default('process').describe('which observations it matches'),
    match: Conditions.describe('all given conditions must hold'),
    exceptions: z
      .array(Conditions.describe('a match that must not fire'))
      .default([])
      .describe('matches that must not fire, same keys as match'),
  })
  .strict();
export type CustomRule = z.infer<typeof CustomRule>;

export const Profile = z
  .object({
    apiVersion: z.literal('sealwatch.dev/v1'),
    kind: z.literal('Profile'),
    metadata: z
      .object({
        name: z.string().optional(),
        description: z.string().optional(),
        source: z.enum(['declared', 'learned', 'merged']).optional(),
      })
      .strict()
      .default({}),
    processes: z.array(ProfileProcess).default([]).describe('what may run'),
    network: z
      .object({
        listen: z.array(ProfileListen).default([]),
        egress: z.array(ProfileEgress).default([]),
      })
      .strict()
      .default({ listen: [], egress: [] }),
    resources: z
      .object({
        memoryMiB: z.object({ max: z.number().positive() }).strict().optional(),
        processes: z.object({ max: z.number().int().positive() }).strict().optional(),
        cpuPercent: z.object({ max: z.number().positive() }).strict().optional(),
      })
      .strict()
      .default({}),
    rules: z
      .object({
        disable: z.array(z.string()).default([]).describe('ids of built-in rules to turn off'),
        custom: z.array(CustomRule).default([]),
      })
      .strict()
      .default({ disable: [], custom: [] }),
  })
  .strict();
export type Profile = z.infer<typeof Profile>;

/** Cross-field rules the schema cannot express field by field. */
export function profileRules(profile: Profile): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  profile.network.egress.forEach((egress, i) => {
    const at = `network.egress[${i}]`;
    if ((egress.cidr === undefined) === (egress.host === undefined)) {
      errors.push(`${at}: set exactly one of "cidr" or "host"`);
    }
    if (egress.cidr !== undefined && !isValidCidr(egress.cidr)) {
      errors.push(`${at}.cidr: "${egress.cidr}" is not a CIDR block (e.g. 10.0.0.0/8)`);
    }
  });
  profile.processes.forEach((proc, i) => {
    if (!proc.exe.startsWith('/') && !proc.exe.startsWith('*')) {
      errors.push(`processes[${i}].exe: "${proc.exe}" must be an absolute path or a glob starting with "*"`);
    }
    argsProblem(proc.args, `processes[${i}].args`, errors);
  });
  const seen = new Set<string>();
  profile.rules.custom.forEach((rule, i) => {
    if (seen.has(rule.id)) errors.push(`rules.custom[${i}].id: duplicate rule id "${rule.id}"`);
    seen.add(rule.id);
    conditionProblems(rule.match, `rules.custom[${i}].match`, errors);
    if (Object.keys(rule.match).length === 0) errors.push(`rules.custom[${i}].match: needs at least one condition`);
    rule.exceptions.forEach((x, j) => {
      conditionProblems(x, `rules.custom[${i}].exceptions[${j}]`, errors);
      if (Object.keys(x).length === 0)
        errors.push(
          `rules.custom[${i}].exceptions[${j}]: needs at least one condition (an empty one excuses every match)`,
        );
    });
  });
  const listen = new Set<string>();
  profile.network.listen.forEach((l, i) => {
    const key = `${l.protocol}/${l.port}`;
    if (listen.has(key)) warnings.push(`network.listen[${i}]: ${key} is listed twice`);
    listen.add(key);
  });
  return { errors, warnings };
}

export const profileSpec = { schema: Profile, rules: profileRules };

export function isValidCidr(text: string): boolean {
  const [addr, bits, extra] = text.split('/');
  if (addr === undefined || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(addr);
  const prefix = Number(bits);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return false;
  try {
    new BlockList().addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    return true;
  } catch {
    return false;
  }
}

function argsProblem(source: string | undefined, at: string, errors: string[]): void {
  if (source === undefined) return;
  const compiled = compileArgsPattern(source);
  if ('problem' in compiled) errors.push(`${at}: ${compiled.problem}`);
}

function conditionProblems(c: Conditions, at: string, errors: string[]): void {
  argsProblem(c.args, `${at}.args`, errors);
  if (c.cidr !== undefined && !isValidCidr(c.cidr)) errors.push(`${at}.cidr: "${c.cidr}" is not a CIDR block`);
}
