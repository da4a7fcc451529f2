/**
 * Kubernetes objects checked against the real Kubernetes OpenAPI schemas (npm kubernetes-models, generated
 * from the API server's OpenAPI; cert-manager's CRDs from @kubernetes-models/cert-manager), with their
 * validator (@kubernetes-models/validate, ajv). No API server runs here: this is the schema part of what it
 * checks (types, required fields, enums, formats). These schemas let unknown fields pass.
 */
interface ModelClass {
  new (data: unknown): { validate(): void };
}

const PACKAGES = ['kubernetes-models', '@kubernetes-models/cert-manager'];

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^[a-z0-9.-]+(\/v[0-9a-z]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) return undefined;
  for (const pkg of PACKAGES) {
    try {
      const mod = (await import(`${pkg}/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
      if (mod[kind]) return mod[kind];
    } catch {
      // not in this package
    }
  }
  return undefined;
}

/** Problems of one object ("" apiVersion/kind unknown counts as one); empty when it validates. */
export async function k8sSchemaProblems(object: unknown): Promise<string[]> {
  const o = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
  const name = o?.metadata?.name;
  const what = `${String(o?.kind)} ${typeof name === 'string' ? name : ''}`.trim();
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string') return [`${what}: no apiVersion/kind`];
  const Model = await modelFor(o.apiVersion, o.kind);
  if (!Model) return [`${what}: no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${o.apiVersion} ${what}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
