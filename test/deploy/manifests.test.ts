import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildProgram } from '../../cli/main.ts';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { AdmissionConfig, sidecarContainer, InjectConfig } from '../../admission/index.ts';
import { k8sSchemaProblems } from '../harness/k8s-schema.ts';

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

const Capabilities = z.object({ drop: z.array(z.string()).optional(), add: z.array(z.string()).optional() }).strict();

/** Every long option of a `sealwatch` command, as the CLI defines it. */
function commandOptions(name = 'watch'): Set<string> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: REPO_ROOT };
  const command = buildProgram(io).commands.find((c) => c.name() === name)!;
  return new Set(command.options.map((o) => o.long!).filter(Boolean));
}
const toEnvName = (flag: string): string => `SEALWATCH_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`;

/** Flags in args and SEALWATCH_* names in env that `sealwatch watch` does not know. */
function unknownOptions(args: readonly string[], env: readonly string[], command = 'watch'): string[] {
  const known = commandOptions(command);
  const knownEnv = new Set([...known].map(toEnvName));
  // Variables that are not flags: output credentials named by token-env=.
  const credentials = new Set(['SEALWATCH_HEC_TOKEN']);
  return [
    ...args.filter((a) => a.startsWith('--') && !known.has(a.split('=')[0]!)),
    ...env.filter((e) => e.startsWith('SEALWATCH_') && !knownEnv.has(e) && !credentials.has(e)),
  ];
}

/** `kubectl kustomize` of an overlay (the real kustomize of the kubectl on PATH): every object it renders. */
function render(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', `${REPO_ROOT}deploy/kubernetes/overlays/${overlay}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string } };
  }[];
  envFrom?: { configMapRef?: { name: string } }[];
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe?: { exec?: { command: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
}
interface PodSpec {
  shareProcessNamespace?: boolean;
  hostPID?: boolean;
  hostNetwork?: boolean;
  serviceAccountName?: string;
  containers: Container[];
  volumes?: {
    name: string;
    secret?: { secretName: string };
    configMap?: { name: string };
    hostPath?: { path: string };
  }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    selector?: { matchLabels: Record<string, string> };
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
  [key: string]: unknown;
}

const OVERLAYS = ['sidecar', 'host-agent-docker', 'host-agent-containerd', 'admission', 'admission-cert-manager'];
const rendered = new Map<string, K8sObject[]>();
const objects = (overlay: string): K8sObject[] => {
  if (!rendered.has(overlay)) rendered.set(overlay, render(overlay));
  return rendered.get(overlay)!;
};
const workload = (overlay: string, kind: string): K8sObject & { spec: { template: { spec: PodSpec } } } =>
  objects(overlay).find((o) => o.kind === kind) as K8sObject & { spec: { template: { spec: PodSpec } } };

/** Every volume mount names a volume, every Secret/ConfigMap a pod uses is in the overlay, selector = labels. */
function checkPodWiring(overlay: string, object: K8sObject & { spec: { template: { spec: PodSpec } } }): void {
  const pod = object.spec.template.spec;
  expect(object.spec.selector?.matchLabels).toEqual(object.spec.template.metadata.labels);
  const names = (kind: string) => new Set(objects(overlay).flatMap((o) => (o.kind === kind ? [o.metadata.name] : [])));
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const c of pod.containers) {
    for (const m of c.volumeMounts ?? []) expect(volumes, `${overlay} ${c.name} mount ${m.name}`).toContain(m.name);
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef) expect(names('Secret')).toContain(e.valueFrom.secretKeyRef.name);
  }
  for (const v of pod.volumes ?? []) {
    if (v.secret && v.secret.secretName !== 'sealwatch-admission-tls')
      expect(names('Secret')).toContain(v.secret.secretName);
    if (v.configMap) expect(names('ConfigMap')).toContain(v.configMap.name);
  }
}

describe('Kubernetes: the Kustomize overlays, rendered by kubectl kustomize, against the real schemas', () => {
  it('every overlay renders, and every object it renders validates against the Kubernetes OpenAPI schemas', async () => {
    for (const overlay of OVERLAYS) {
      const rendered = objects(overlay);
      expect(rendered.length, overlay).toBeGreaterThan(2);
      for (const object of rendered) expect(await k8sSchemaProblems(object), overlay).toEqual([]);
    }
    // the schemas do refuse a wrong object: a container without a name
    expect(
      await k8sSchemaProblems({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'x' },
        spec: { containers: [{ image: 'a' }] },
      }),
    ).toEqual([expect.stringMatching(/containers\/0 must have required property name$/)]);
  });

  it('sidecar: shared PID namespace, only SYS_PTRACE and KILL, downward API, Secrets, exec probes', () => {
    const deployment = workload('sidecar', 'Deployment');
    checkPodWiring('sidecar', deployment);
    const pod = deployment.spec.template.spec;
    expect(pod.shareProcessNamespace).toBe(true);
    const sidecar = pod.containers.find((c) => c.name === 'sealwatch')!;
    expect(pod.containers.map((c) => c.name)).toContain('app');
    expect(sidecar.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['SYS_PTRACE', 'KILL'] });
    expect(sidecar.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(sidecar.securityContext?.privileged).toBeUndefined();
    const fieldRefs = Object.fromEntries(
      (sidecar.env ?? []).flatMap((e) => (e.valueFrom?.fieldRef ? [[e.name, e.valueFrom.fieldRef.fieldPath]] : [])),
    );
    // The names run-watch.ts reads for orchestrator.namespace / orchestrator.resource.name.
    expect(fieldRefs).toMatchObject({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    expect(sidecar.livenessProbe?.exec?.command.join(' ')).toContain('healthcheck.mjs /healthz');
    expect(sidecar.readinessProbe?.exec?.command.join(' ')).toContain('healthcheck.mjs /readyz');
    const env = (sidecar.env ?? []).map((e) => e.name);
    expect(env).toContain('SEALWATCH_LISTEN');
    expect(unknownOptions(sidecar.args ?? [], env)).toEqual([]);
  });

  it('the injected sidecar is the shipped sidecar: same capabilities, env, mounts and probes', () => {
    const shipped = workload('sidecar', 'Deployment').spec.template.spec.containers.find(
      (c) => c.name === 'sealwatch',
    )!;
    const injected = sidecarContainer(InjectConfig.parse({})) as unknown as Container;
    expect(injected.securityContext).toEqual(shipped.securityContext);
    expect(injected.livenessProbe).toEqual(shipped.livenessProbe);
    expect(injected.readinessProbe).toEqual(shipped.readinessProbe);
    expect(injected.volumeMounts?.map((m) => m.mountPath)).toEqual(
      shipped.volumeMounts?.filter((m) => m.mountPath !== '/etc/sealwatch/outputs').map((m) => m.mountPath),
    );
    const env = (c: Container) => (c.env ?? []).filter((e) => e.valueFrom?.fieldRef || e.name === 'SEALWATCH_PUB');
    expect(env(injected)).toEqual(env(shipped));
    const configMap = objects('admission').find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'sealwatch-sidecar',
    )!;
    expect(unknownOptions([], Object.keys(configMap.data as Record<string, string>))).toEqual([]);
  });

  it('host agent (Docker): DaemonSet in the host PID and network namespaces, NET_ADMIN and SYS_NICE for the proc connector', () => {
    const daemonset = workload('host-agent-docker', 'DaemonSet');
    checkPodWiring('host-agent-docker', daemonset);
    const pod = daemonset.spec.template.spec;
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

  it('host agent (containerd): the containerd socket and state instead of the Docker socket', () => {
    const daemonset = workload('host-agent-containerd', 'DaemonSet');
    checkPodWiring('host-agent-containerd', daemonset);
    const pod = daemonset.spec.template.spec;
    const agent = pod.containers[0]!;
    expect(pod.hostPID).toBe(true);
    expect(agent.args).not.toContain('--docker');
    expect(agent.volumeMounts?.map((m) => m.mountPath)).not.toContain('/var/run/docker.sock');
    expect(pod.volumes?.map((v) => v.hostPath?.path)).toContain('/run/containerd/containerd.sock');
    expect(agent.securityContext?.capabilities?.drop).toEqual(['ALL']);
    expect(agent.securityContext?.privileged).toBeUndefined();
  });

  it('admission: Deployment, Service and both webhooks agree on names, ports and paths; a budget below the timeout', () => {
    const deployment = workload('admission', 'Deployment');
    checkPodWiring('admission', deployment);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(container.command?.at(-1)).toBe('admission');
    expect(
      unknownOptions(
        container.args ?? [],
        (container.env ?? []).map((e) => e.name),
        'admission',
      ),
    ).toEqual([]);
    expect(container.securityContext?.capabilities).toEqual({ drop: ['ALL'] });
    const account = objects('admission').find((o) => o.kind === 'ServiceAccount')!;
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    const service = objects('admission').find((o) => o.kind === 'Service')!;
    const hooks = objects('admission').filter((o) => o.kind.endsWith('WebhookConfiguration'));
    expect(hooks.map((h) => h.kind).sort()).toEqual(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    const policy = objects('admission').find((o) => o.metadata.name === 'sealwatch-admission-policy')!;
    const config = AdmissionConfig.parse(
      parseAllDocuments((policy.data as Record<string, string>)['policy.yaml']!)[0]!.toJS(),
    );
    for (const hook of hooks) {
      const w = (
        hook.webhooks as {
          clientConfig: { service: { name: string; namespace: string; path: string } };
          timeoutSeconds: number;
          admissionReviewVersions: string[];
        }[]
      )[0]!;
      expect(w.clientConfig.service).toMatchObject({
        name: service.metadata.name,
        namespace: service.metadata.namespace,
      });
      expect(w.clientConfig.service.path).toBe(hook.kind.startsWith('Validating') ? '/validate' : '/mutate');
      expect(w.admissionReviewVersions).toEqual(['v1']);
      if (hook.kind.startsWith('Validating')) expect(config.budgetSeconds).toBeLessThan(w.timeoutSeconds);
    }
    const annotated = objects('admission-cert-manager').filter((o) => o.kind.endsWith('WebhookConfiguration'));
    for (const hook of annotated)
      expect(hook.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe('sealwatch/sealwatch-admission');
    const certificate = objects('admission-cert-manager').find(
      (o) => o.kind === 'Certificate' && o.metadata.name === 'sealwatch-admission',
    )!;
    expect((certificate.spec as unknown as { secretName: string }).secretName).toBe(
      pod.volumes?.find((v) => v.name === 'tls')?.secret?.secretName,
    );
  });
});

describe('deployment examples (shape, not a real cluster)', () => {
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
