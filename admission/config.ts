import { z } from 'zod';
import { PolicySpec } from '../shared/policy/index.ts';

/**
 * The admission webhook's configuration file (YAML or JSON, `sealwatch admission --config FILE`): which
 * namespaces and pods are checked how, the gates, the registries' credentials, the cache, and the sidecar
 * that the mutating webhook injects.
 */
export const AdmissionMode = z.enum(['enforce', 'audit', 'off']);
export type AdmissionMode = z.infer<typeof AdmissionMode>;

const LabelSelectorRequirement = z
  .object({
    key: z.string().min(1),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).default([]),
  })
  .strict();

/** A Kubernetes label selector (matchLabels AND matchExpressions), matched against the pod's labels. */
export const LabelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).default({}),
    matchExpressions: z.array(LabelSelectorRequirement).default([]),
  })
  .strict();
export type LabelSelector = z.infer<typeof LabelSelector>;

export const PolicyRule = z
  .object({
    name: z.string().min(1).optional().describe('named in refusals and events'),
    namespaces: z
      .array(z.string().min(1))
      .optional()
      .describe('namespace names or globs (team-*); absent: every namespace'),
    selector: LabelSelector.optional().describe("pod labels (a workload's pod template labels); absent: every pod"),
    mode: AdmissionMode.describe('enforce: refuse; audit: allow with a warning and an event; off: no check'),
    gates: PolicySpec.optional().describe('policy gates the verified seal must pass (as verify --policy)'),
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRule>;

export const InjectConfig = z
  .object({
    image: z.string().min(1).default('sealwatch/sealwatch:0.1.0').describe('the sidecar image'),
    label: z
      .string()
      .min(1)
      .default('sealwatch.dev/inject')
      .describe('pods opt in with this label or annotation set to "true"'),
    configMap: z
      .string()
      .min(1)
      .default('sealwatch-sidecar')
      .describe("ConfigMap in the pod's namespace whose keys become the sidecar's environment (SEALWATCH_*)"),
    trustSecret: z
      .string()
      .min(1)
      .default('sealwatch-trust')
      .describe("Secret in the pod's namespace holding sealwatch.pub, mounted at /etc/sealwatch/trust"),
    capabilities: z
      .array(z.string().regex(/^[A-Z_]+$/))
      .default(['SYS_PTRACE', 'KILL'])
      .describe('added to the sidecar (everything else dropped); KILL only matters for enforce'),
    spoolSizeLimit: z.string().default('256Mi').describe('emptyDir size for the outputs spool'),
    resources: z
      .object({
        requests: z.record(z.string(), z.string()).default({ cpu: '20m', memory: '96Mi' }),
        limits: z.record(z.string(), z.string()).default({ cpu: '250m', memory: '256Mi' }),
      })
      .default({ requests: { cpu: '20m', memory: '96Mi' }, limits: { cpu: '250m', memory: '256Mi' } }),
  })
  .strict();
export type InjectConfig = z.infer<typeof InjectConfig>;

export const AdmissionConfig = z
  .object({
    defaultMode: AdmissionMode.default('enforce').describe('for pods no rule matches'),
    rules: z.array(PolicyRule).default([]).describe('first match wins'),
    exemptNamespaces: z
      .array(z.string().min(1))
      .default(['kube-system'])
      .describe('never checked (the webhook itself should run in one)'),
    exemptImages: z
      .array(z.string().min(1))
      .default([])
      .describe('image name globs admitted without a seal (e.g. the sidecar image if it is not sealed)'),
    onRegistryError: z
      .enum(['deny', 'allow'])
      .default('deny')
      .describe('enforce mode, when a seal cannot be read (registry down, too slow): refuse or admit'),
    budgetSeconds: z
      .number()
      .positive()
      .max(29)
      .default(8)
      .describe('answer within this (keep it under the webhook timeoutSeconds, default 10)'),
    registryTimeoutSeconds: z.number().positive().max(60).default(5).describe('time bound of one registry request'),
    registryAuth: z
      .array(z.string().min(1))
      .default([])
      .describe('docker config.json files with registry credentials (mounted pull Secrets)'),
    pullSecretsFromApi: z
      .boolean()
      .default(false)
      .describe("read the pod's imagePullSecrets through the Kubernetes API (needs RBAC get on secrets)"),
    platform: z
      .object({ os: z.string().default('linux'), architecture: z.string().default('amd64') })
      .default({ os: 'linux', architecture: 'amd64' })
      .describe('which image of a multi-platform index is verified'),
    cache: z
      .object({
        ttlSeconds: z.number().int().positive().default(600).describe('a verdict per digest is kept this long'),
        tagTtlSeconds: z.number().int().nonnegative().default(30).describe('a tag → digest answer is kept this long'),
        maxEntries: z.number().int().positive().default(10_000),
      })
      .strict()
      .default({ ttlSeconds: 600, tagTtlSeconds: 30, maxEntries: 10_000 }),
    inject: InjectConfig.default(InjectConfig.parse({})),
  })
  .strict();
export type AdmissionConfig = z.infer<typeof AdmissionConfig>;
