import { z } from 'zod';
import { DEFAULT_DOCKER_SOCKET } from '../shared/docker/socket.ts';
import { MaxSeverity } from './policy/index.ts';

/**
 * The inputs of a seal run: the one schema behind `sealwatch seal` flags, the GitHub Action's
 * `action.yml` inputs (same names, checked by a contract test) and the Jenkins step.
 * Keys are the flag names without the leading `--`.
 */
const list = (what: string) => z.array(z.string().min(1)).default([]).describe(what);

export const SealInputs = z
  .object({
    image: z.string().min(1).describe('image to seal: a reference in the local engine (app:1.4.2) or an image id'),
    key: z
      .string()
      .min(1)
      .describe(
        'private key (ECDSA P-256 or Ed25519; sealwatch keygen): a PEM file path, env:NAME (the PEM or its path in that variable), fd:N (read from file descriptor N), or the PEM text itself; the CLI defaults to env:SEALWATCH_KEY',
      ),
    tag: z.string().optional().describe('tag for the sealed image; default: re-tag the image in place'),
    junit: list('JUnit/xUnit XML report files or globs (reports/**/*.xml)'),
    'security-suite': list(
      'suite name patterns counted as security tests (glob or substring), besides every suite whose name contains "security"',
    ),
    scan: list('Trivy or Grype JSON report files or globs'),
    sarif: list('SARIF 2.1.0 report files or globs'),
    profile: z.string().optional().describe('declared runtime profile YAML'),
    learned: z.string().optional().describe('learned runtime profile YAML (sealwatch learn)'),
    'runtime-trace': list(
      'in-toto runtime-trace statements or predicates (JSON, e.g. from sealwatch learn): what the image did in CI',
    ),
    base: z.string().optional().describe('base image reference, if not found in the image history'),
    'require-tests': list('fail unless suites matching this pattern ran and passed'),
    'max-severity': MaxSeverity.optional().describe('fail on vulnerabilities above this severity'),
    'deny-executable': list('fail if an executable matches this glob (e.g. */sshd)'),
    sbom: z
      .boolean()
      .default(false)
      .describe('also sign the inventory as a CycloneDX 1.6 SBOM statement (https://cyclonedx.org/bom) into the seal'),
    'seal-on-fail': z.boolean().default(false).describe('write the seal even when a policy gate fails (still exit 1)'),
    'bundle-out': z.string().optional().describe('also write the seal (seal.jsonl) to this file'),
    push: z.boolean().default(false).describe('push the sealed image with the engine after sealing'),
    output: list('event outputs for the "build sealed" event (file://…, syslog+tcp://…, …)'),
    json: z.boolean().default(false).describe('print the result as JSON on stdout'),
    progress: z.boolean().default(false).describe('show bytes read on stderr even when it is not a TTY'),
    'docker-socket': z.string().default(DEFAULT_DOCKER_SOCKET).describe('Docker engine socket'),
  })
  .strict();
export type SealInputs = z.infer<typeof SealInputs>;
export type SealInputName = keyof SealInputs;

export const SEAL_INPUT_NAMES = Object.keys(SealInputs.shape) as SealInputName[];

/** Which inputs are lists and which are booleans (the Action gets everything as strings). */
export function inputKind(name: SealInputName): 'list' | 'boolean' | 'string' {
  const field = SealInputs.shape[name] as z.ZodType;
  const inner = field instanceof z.ZodDefault || field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
  if (inner instanceof z.ZodArray) return 'list';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  return 'string';
}

/**
 * Action inputs (strings) → raw seal inputs: lists split on newlines and commas, booleans from
 * "true"/"false", empty strings dropped (the Action runner passes "" for unset inputs).
 */
export function fromStringInputs(get: (name: string) => string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const name of SEAL_INPUT_NAMES) {
    const value = get(name).trim();
    if (value === '') continue;
    const kind = inputKind(name);
    if (kind === 'list') {
      raw[name] = value
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else if (kind === 'boolean') {
      raw[name] = /^(true|1|yes)$/i.test(value) ? true : /^(false|0|no)$/i.test(value) ? false : value;
    } else {
      raw[name] = value;
    }
  }
  return raw;
}
