import { z } from 'zod';

/**
 * The pod a request is about: a Pod itself, or the pod template of a Deployment, ReplicaSet, StatefulSet,
 * DaemonSet, Job or CronJob. Only the fields the webhook reads are validated; the rest passes through.
 */
const Container = z.looseObject({ name: z.string(), image: z.string().optional() });
export const PodSpec = z.looseObject({
  containers: z.array(Container).default([]),
  initContainers: z.array(Container).optional(),
  ephemeralContainers: z.array(Container).optional(),
  imagePullSecrets: z.array(z.looseObject({ name: z.string().optional() })).optional(),
  shareProcessNamespace: z.boolean().optional(),
  volumes: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type PodSpec = z.infer<typeof PodSpec>;
const Metadata = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const Template = z.looseObject({ metadata: Metadata.optional(), spec: PodSpec });

const POD_TEMPLATE_PATH: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};
export const CHECKED_KINDS = Object.keys(POD_TEMPLATE_PATH);

export interface PodOf {
  kind: string;
  /** `Deployment/web`, `Pod/web-5d9c…` (generateName when the name is not chosen yet). */
  resource: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  /** Every container image, init and ephemeral ones included, each once, in order. */
  images: string[];
}

/** The pod of an object of a checked kind; undefined for other kinds; an error text for a malformed one. */
export function podOf(kind: string, object: unknown): PodOf | { error: string } | undefined {
  const path = POD_TEMPLATE_PATH[kind];
  if (path === undefined) return undefined;
  let node: unknown = object;
  for (const key of path)
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  const parsed = Template.safeParse(node);
  const top = Metadata.safeParse((object as { metadata?: unknown } | undefined)?.metadata ?? {});
  if (!parsed.success || !top.success) return { error: `${kind}: no pod spec where Kubernetes puts it` };
  const spec = parsed.data.spec;
  const images = [...spec.containers, ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]
    .map((c) => c.image)
    .filter((i): i is string => i !== undefined && i !== '');
  const name = top.data.name ?? (top.data.generateName !== undefined ? `${top.data.generateName}…` : '(unnamed)');
  return {
    kind,
    resource: `${kind}/${name}`,
    labels: parsed.data.metadata?.labels ?? {},
    annotations: parsed.data.metadata?.annotations ?? {},
    spec,
    images: [...new Set(images)],
  };
}
