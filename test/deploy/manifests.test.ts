import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildProgram } from '../../cli/main.ts';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';

/**
 * The deployment examples, checked by shape: zod schemas of the fields sealwatch relies on (a fake of the
 * Kubernetes/ECS/Swarm API servers' validation, which cannot run here; no real cluster is used), and a
 * cross-check that every flag and SEALWATCH_* variable they pass is a real option of `sealwatch watch`.
 */
const read = (path: string): string => readFileSync(`${REPO_ROOT}${path}`, 'utf8');
const yamlDocs = (path: string): unknown[] =>
  parseAllDocuments(read(path)).map((d) => {
    expect(d.errors, `${path}: ${d.errors.join('; ')}`).toEqual([]);
    return d.toJS() as unknown;
  });

const EnvVar = z.union([
  z.object({ name: z.string(), value: z.string() }).strict(),
  z
    .object({
      name: z.string(),
      valueFrom: z.union([
        z.object({ fieldRef: z.object({ fieldPath: z.string() }).strict() }).strict(),
        z.object({ secretKeyRef: z.object({ name: z.string(), key: z.string() }).strict() }).strict(),
      ]),
    })
    .strict(),
]);
const ExecProbe = z
  .object({
    exec: z.object({ command: z.array(z.string()).min(1) }).strict(),
    initialDelaySeconds: z.number().int().optional(),
    periodSeconds: z.number().int().optional(),
    timeoutSeconds: z.number().int().optional(),
  })
  .strict();
const Capabilities = z.object({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() }).strict();
const Container = z.object({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).optional(),
  securityContext: z
    .object({
      runAsUser: z.number().int().optional(),
      runAsNonRoot: z.boolean().optional(),
      allowPrivilegeEscalation: z.boolean().optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
      privileged: z.boolean().optional(),
      capabilities: Capabilities.optional(),
      seccompProfile: z.object({ type: z.string() }).optional(),
    })
    .strict()
    .optional(),
  livenessProbe: ExecProbe.optional(),
  readinessProbe: ExecProbe.optional(),
  volumeMounts: z
    .array(z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() }).strict())
    .optional(),
});
const PodSpec = z.object({
  shareProcessNamespace: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostNetwork: z.boolean().optional(),
  containers: z.array(Container).min(1),
  volumes: z.array(z.object({ name: z.string() }).passthrough()).optional(),
});
const Workload = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.enum(['Deployment', 'DaemonSet']),
  metadata: z.object({ name: z.string() }).passthrough(),
  spec: z.object({
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.object({ metadata: z.object({ labels: z.record(z.string(), z.string()) }), spec: PodSpec }),
  }),
});
const Secret = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: z.object({ name: z.string() }).passthrough(),
  stringData: z.record(z.string(), z.string()),
});
const Namespace = z.object({ apiVersion: z.literal('v1'), kind: z.literal('Namespace') }).passthrough();
const K8sObject = z.union([Workload, Secret, Namespace]);
type Workload = z.infer<typeof Workload>;

/** Every long option of `sealwatch watch`, as the CLI defines it. */
function watchOptions(): Set<string> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: REPO_ROOT };
  const watch = buildProgram(io).commands.find((c) => c.name() === 'watch')!;
  return new Set(watch.options.map((o) => o.long!).filter(Boolean));
}
const toEnvName = (flag: string): string => `SEALWATCH_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`;

/** Flags in args and SEALWATCH_* names in env that `sealwatch watch` does not know. */
function unknownOptions(args: readonly string[], env: readonly string[]): string[] {
  const known = watchOptions();
  const knownEnv = new Set([...known].map(toEnvName));
  // Variables that are not flags: output credentials named by token-env=.
  const credentials = new Set(['SEALWATCH_HEC_TOKEN']);
  return [
    ...args.filter((a) => a.startsWith('--') && !known.has(a.split('=')[0]!)),
    ...env.filter((e) => e.startsWith('SEALWATCH_') && !knownEnv.has(e) && !credentials.has(e)),
  ];
}

function workloads(path: string): { objects: z.infer<typeof K8sObject>[]; workload: Workload } {
  const objects = yamlDocs(path).map((doc, i) => {
    const parsed = K8sObject.safeParse(doc);
    expect(parsed.success, `${path} document ${i}: ${parsed.success ? '' : z.prettifyError(parsed.error)}`).toBe(true);
    return parsed.data!;
  });
  const workload = objects.find((o): o is Workload => o.kind === 'Deployment' || o.kind === 'DaemonSet')!;
  return { objects, workload };
}

describe('deployment examples (shape, not a real cluster)', () => {
  it('Kubernetes sidecar: shared PID namespace, only SYS_PTRACE and KILL, downward API, Secrets, exec probes', () => {
    const { objects, workload } = workloads('deploy/kubernetes/sidecar-deployment.yaml');
    expect(workload.kind).toBe('Deployment');
    const pod = workload.spec.template.spec;
    expect(pod.shareProcessNamespace).toBe(true);
    expect(workload.spec.selector.matchLabels).toEqual(workload.spec.template.metadata.labels);
    const sidecar = pod.containers.find((c) => c.name === 'sealwatch')!;
    expect(pod.containers.map((c) => c.name)).toContain('app');
    expect(sidecar.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['SYS_PTRACE', 'KILL'] });
    expect(sidecar.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(sidecar.securityContext?.privileged).toBeUndefined();
    const fieldRefs = Object.fromEntries(
      (sidecar.env ?? []).flatMap((e) =>
        'valueFrom' in e && 'fieldRef' in e.valueFrom ? [[e.name, e.valueFrom.fieldRef.fieldPath]] : [],
      ),
    );
    // The names run-watch.ts reads for orchestrator.namespace / orchestrator.resource.name.
    expect(fieldRefs).toMatchObject({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    const secretNames = new Set(objects.flatMap((o) => (o.kind === 'Secret' ? [o.metadata.name] : [])));
    const secretVolumes = (pod.volumes ?? []).flatMap((v) => {
      const s = (v as { secret?: { secretName: string } }).secret;
      return s ? [s.secretName] : [];
    });
    for (const s of secretVolumes) expect(secretNames).toContain(s);
    for (const e of sidecar.env ?? [])
      if ('valueFrom' in e && 'secretKeyRef' in e.valueFrom)
        expect(secretNames).toContain(e.valueFrom.secretKeyRef.name);
    for (const m of sidecar.volumeMounts ?? []) expect(pod.volumes?.map((v) => v.name)).toContain(m.name);
    expect(sidecar.livenessProbe?.exec.command.join(' ')).toContain('healthcheck.mjs /healthz');
    expect(sidecar.readinessProbe?.exec.command.join(' ')).toContain('healthcheck.mjs /readyz');
    const env = (sidecar.env ?? []).map((e) => e.name);
    expect(env).toContain('SEALWATCH_LISTEN');
    expect(unknownOptions(sidecar.args ?? [], env)).toEqual([]);
  });

  it('Kubernetes host agent: DaemonSet in the host PID and network namespaces, NET_ADMIN and SYS_NICE for the proc connector', () => {
    const { workload } = workloads('deploy/kubernetes/host-agent-daemonset.yaml');
    expect(workload.kind).toBe('DaemonSet');
    const pod = workload.spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    const agent = pod.containers[0]!;
    expect(agent.args).toContain('--docker');
    expect(agent.securityContext?.capabilities).toEqual({
      drop: ['ALL'],
      add: ['SYS_PTRACE', 'KILL', 'NET_ADMIN', 'SYS_NICE'],
    });
    expect(agent.securityContext?.privileged).toBeUndefined();
    expect(agent.volumeMounts?.map((m) => m.mountPath)).toContain('/var/run/docker.sock');
    expect(
      unknownOptions(
        agent.args ?? [],
        (agent.env ?? []).map((e) => e.name),
      ),
    ).toEqual([]);
  });

  it('compose: the sidecar in the app service PID and network namespaces', () => {
    const Compose = z.object({
      services: z.object({
        app: z.object({ image: z.string() }).passthrough(),
        sealwatch: z
          .object({
            image: z.string(),
            pid: z.literal('service:app'),
            network_mode: z.literal('service:app'),
            cap_add: z.array(z.string()),
            environment: z.record(z.string(), z.string()),
          })
          .passthrough(),
      }),
    });
    const compose = Compose.parse(yamlDocs('deploy/compose/docker-compose.yml')[0]);
    expect(compose.services.sealwatch.cap_add.sort()).toEqual(['KILL', 'SYS_PTRACE']);
    expect(unknownOptions([], Object.keys(compose.services.sealwatch.environment))).toEqual([]);
  });

  it('ECS: task PID mode, SYS_PTRACE added, health check, secrets from Secrets Manager', () => {
    const Task = z.object({
      family: z.string(),
      pidMode: z.literal('task'),
      requiresCompatibilities: z.array(z.enum(['FARGATE', 'EC2'])),
      containerDefinitions: z.array(
        z
          .object({
            name: z.string(),
            image: z.string(),
            essential: z.boolean(),
            command: z.array(z.string()).optional(),
            environment: z.array(z.object({ name: z.string(), value: z.string() }).strict()).optional(),
            secrets: z
              .array(z.object({ name: z.string(), valueFrom: z.string().startsWith('arn:aws:') }).strict())
              .optional(),
            linuxParameters: z.object({ capabilities: Capabilities }).passthrough().optional(),
            healthCheck: z
              .object({ command: z.array(z.string()), interval: z.number(), timeout: z.number(), retries: z.number() })
              .passthrough()
              .optional(),
            dependsOn: z
              .array(
                z.object({ containerName: z.string(), condition: z.enum(['START', 'HEALTHY', 'COMPLETE', 'SUCCESS']) }),
              )
              .optional(),
          })
          .passthrough(),
      ),
    });
    const task = Task.parse(JSON.parse(read('deploy/ecs/task-definition.json')));
    const sidecar = task.containerDefinitions.find((c) => c.name === 'sealwatch')!;
    expect(sidecar.linuxParameters?.capabilities.add).toEqual(['SYS_PTRACE']);
    expect(sidecar.healthCheck?.command.slice(0, 1)).toEqual(['CMD']);
    expect(sidecar.dependsOn?.[0]?.containerName).toBe('app');
    const env = [...(sidecar.environment ?? []), ...(sidecar.secrets ?? [])].map((e) => e.name);
    expect(unknownOptions(sidecar.command ?? [], env)).toEqual([]);
  });

  it('Swarm: a global service on the host network reading the host /proc, Docker socket mounted', () => {
    const Stack = z.object({
      services: z.object({
        agent: z
          .object({
            image: z.string(),
            command: z.array(z.string()),
            environment: z.record(z.string(), z.string()),
            volumes: z.array(
              z
                .object({
                  type: z.enum(['bind', 'volume']),
                  source: z.string(),
                  target: z.string(),
                  read_only: z.boolean().optional(),
                })
                .strict(),
            ),
            deploy: z.object({ mode: z.literal('global') }).passthrough(),
            networks: z.array(z.string()),
          })
          .passthrough(),
      }),
      networks: z.record(z.string(), z.object({ external: z.literal(true), name: z.string() })),
    });
    const stack = Stack.parse(yamlDocs('deploy/swarm/docker-stack.yml')[0]);
    const agent = stack.services.agent;
    expect(agent.command).toContain('--docker');
    expect(agent.command.slice(agent.command.indexOf('--proc-root'), agent.command.indexOf('--proc-root') + 2)).toEqual(
      ['--proc-root', '/host/proc'],
    );
    expect(agent.volumes.map((v) => `${v.source}:${v.target}:${v.read_only ? 'ro' : 'rw'}`)).toEqual([
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      '/proc:/host/proc:ro',
      'spool:/var/lib/sealwatch/spool:rw',
    ]);
    expect(stack.networks[agent.networks[0]!]?.name).toBe('host');
    expect(unknownOptions(agent.command, Object.keys(agent.environment))).toEqual([]);
  });
});
