import { z } from 'zod';
import { SeverityLabel, SeverityScore } from '../severity/index.ts';

/**
 * The one normalized event (ECS field names where ECS has them; ours under `sealwatch.*`).
 * Everything that happens, at build time or at runtime, becomes one of these; the formatters in
 * shared/outputs render it as CEF, LEEF, RFC 5424 or JSON. Values that an attacker controls
 * (process names, args, paths, hostnames) are stored raw here and escaped only by the formatters.
 */
const Ip = z.string().describe('IPv4 or IPv6 address, as text');
const Port = z.number().int().min(0).max(65535);

export const EventUser = z.object({
  id: z.string().optional().describe('numeric uid as text (ECS user.id)'),
  name: z.string().optional().describe('user name from the container /etc/passwd, if known'),
});

export const EventProcessParent = z.object({
  pid: z.number().int().nonnegative(),
  executable: z.string().optional(),
  name: z.string().optional(),
  args: z.array(z.string()).optional(),
});

export const EventProcess = z.object({
  pid: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('absent when the process had exited before it could be read (file sight)'),
  ppid: z.number().int().nonnegative().optional(),
  executable: z.string().optional().describe('resolved /proc/<pid>/exe path (may end in " (deleted)")'),
  name: z.string().optional().describe('program name: argv[0] basename, else comm'),
  args: z.array(z.string()).optional().describe('argv, lossy-decoded as UTF-8'),
  command_line: z.string().optional(),
  working_directory: z.string().optional(),
  user: EventUser.optional(),
  group: EventUser.optional(),
  hash: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  start: z.string().optional().describe('ISO 8601 start time'),
  parent: EventProcessParent.optional(),
  exit_code: z.number().int().optional(),
});

export const EventEndpoint = z.object({
  ip: Ip.optional(),
  port: Port.optional(),
  domain: z.string().optional(),
});

export const EventNetwork = z.object({
  transport: z.enum(['tcp', 'udp']).optional(),
  type: z.enum(['ipv4', 'ipv6']).optional(),
  direction: z.enum(['ingress', 'egress', 'listening', 'internal', 'unknown']).optional(),
});

export const EventContainer = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  image: z
    .object({
      name: z.string().optional(),
      id: z.string().optional(),
      digest: z.string().optional(),
    })
    .optional(),
});

export const EventOrchestrator = z.object({
  namespace: z.string().optional(),
  resource: z.object({ name: z.string().optional(), type: z.string().optional() }).optional(),
  type: z.string().optional().describe('kubernetes, ecs, swarm, compose'),
});

export const EventOutcome = z.enum([
  'observed',
  'alerted',
  'killed',
  'kill_failed',
  'dry_run',
  'learned',
  'sealed',
  'verified',
  'rejected',
]);
export type EventOutcome = z.infer<typeof EventOutcome>;

export const SealStatus = z.enum(['verified', 'unsealed', 'invalid', 'unknown']);
export type SealStatus = z.infer<typeof SealStatus>;

export const EventKind = z.enum(['alert', 'event', 'metric', 'state']);

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>');

/** The event record's link fields, set by the record stage in front of the outputs. */
export const EventChain = z.object({
  prev: Digest.describe(
    "hash of the previous event of this run; for seq 1, the previous run's last hash or sha256:0…0",
  ),
  hash: Digest.describe("sha256 of this event's canonical form (RFC 8785) without chain.hash"),
  previous_run: z
    .object({ run_id: z.string(), seq: z.number().int().positive(), hash: Digest })
    .optional()
    .describe('on seq 1: the last event of the run before this one, when the record state held it'),
});
export type EventChain = z.infer<typeof EventChain>;

/** A checkpoint: the chain head (the event before this one) signed as an in-toto statement in a DSSE bundle. */
export const EventCheckpoint = z.object({
  seq: z.number().int().nonnegative().describe('seq of the signed head (0: nothing before it in this run)'),
  head: Digest,
  bundle: z.record(z.string(), z.unknown()).describe('Sigstore bundle v0.3 holding the DSSE envelope'),
});
export type EventCheckpoint = z.infer<typeof EventCheckpoint>;

export const Event = z.object({
  '@timestamp': z.string().describe('ISO 8601 time the event happened, with milliseconds, UTC'),
  event: z.object({
    id: z.string().describe('unique id of this event (UUID)'),
    kind: EventKind,
    category: z
      .array(z.string())
      .describe('ECS categories: process, network, file, host, configuration, intrusion_detection'),
    type: z.array(z.string()).describe('ECS types: start, end, connection, info, change, denied, allowed'),
    action: z.string().describe('what happened, e.g. process-started, connection-opened, build-sealed'),
    severity: SeverityScore.describe('0–10, CEF scale'),
    outcome: z.enum(['success', 'failure', 'unknown']).optional(),
    dataset: z.string().optional().describe('sealwatch.runtime, sealwatch.seal, sealwatch.audit'),
  }),
  rule: z
    .object({
      id: z.string(),
      name: z.string(),
      description: z.string().optional(),
      category: z.string().optional(),
      ruleset: z.string().optional().describe('builtin, profile or custom'),
    })
    .optional(),
  message: z.string(),
  process: EventProcess.optional(),
  source: EventEndpoint.optional(),
  destination: EventEndpoint.optional(),
  network: EventNetwork.optional(),
  file: z.object({ path: z.string(), name: z.string().optional() }).optional(),
  container: EventContainer.optional(),
  orchestrator: EventOrchestrator.optional(),
  host: z.object({ name: z.string().optional() }).optional(),
  sealwatch: z.object({
    version: z.string().optional(),
    run_id: z.string().optional().describe('id of the producing run; with seq, a de-duplication key'),
    seq: z.number().int().nonnegative().optional().describe('per-run sequence number, set by the dispatcher'),
    mode: z.enum(['learn', 'monitor', 'enforce', 'seal', 'verify', 'audit', 'test']).optional(),
    outcome: EventOutcome.optional(),
    severity: SeverityLabel.describe('label of event.severity'),
    seal: z
      .object({
        status: SealStatus,
        identity: z.string().optional(),
        key_hint: z.string().optional(),
      })
      .optional(),
    profile_id: z.string().optional(),
    count: z.number().int().positive().optional().describe('number of identical alerts aggregated into this one'),
    first_seen: z.string().optional(),
    last_seen: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    truncated: z
      .object({ fields: z.array(z.string()), original_bytes: z.number().int().positive() })
      .optional()
      .describe("this copy was shortened to fit its output's size cap: the fields cut (each ends in …)"),
    chain: EventChain.optional().describe('position in the tamper-evident event record (docs/outputs/record.md)'),
    checkpoint: EventCheckpoint.optional().describe('on a sealwatch.checkpoint event: the signed chain head'),
  }),
});
export type Event = z.infer<typeof Event>;
