import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { z } from 'zod';
import { EnvironmentError } from '../shared/errors/index.ts';
import { parseDockerConfig, type RegistryAuthMap } from '../shared/registry/index.ts';

/**
 * A pod's `imagePullSecrets`, read through the Kubernetes API with the webhook's service account
 * (`GET /api/v1/namespaces/NS/secrets/NAME`, RBAC `get` on secrets), bounded in size (1 MiB) and time.
 * Only `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` Secrets are used.
 */
export interface KubernetesApi {
  /** `https://kubernetes.default.svc` or `https://HOST:PORT`. */
  url: string;
  token: string;
  /** PEM of the API server's CA. */
  ca: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const SECRET_MAX_BYTES = 1024 * 1024;

/** In-cluster: KUBERNETES_SERVICE_HOST/PORT and the mounted service account token and CA. */
export function inClusterApi(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT): KubernetesApi {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (host === undefined) {
    throw new EnvironmentError(
      'UNSUPPORTED',
      'pullSecretsFromApi: not in a cluster (KUBERNETES_SERVICE_HOST is not set); mount the pull Secrets and list them in registryAuth instead',
    );
  }
  try {
    return {
      url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      token: readFileSync(`${dir}/token`, 'utf8').trim(),
      ca: readFileSync(`${dir}/ca.crt`, 'utf8'),
    };
  } catch (error) {
    throw new EnvironmentError('PERMISSION_DENIED', `pullSecretsFromApi: cannot read the service account in ${dir}`, {
      cause: error,
    });
  }
}

const Secret = z.looseObject({
  type: z.string().optional(),
  data: z.record(z.string(), z.string()).optional(),
});

export class PullSecretReader {
  constructor(private readonly api: KubernetesApi) {}

  /** The registry credentials in the named Secrets; a missing or unreadable one is skipped and named. */
  async read(
    namespace: string,
    names: readonly string[],
    signal: AbortSignal,
  ): Promise<{ auths: RegistryAuthMap[]; problems: string[] }> {
    const auths: RegistryAuthMap[] = [];
    const problems: string[] = [];
    for (const name of names) {
      try {
        const secret = Secret.safeParse(JSON.parse(await this.get(namespace, name, signal)));
        const data = secret.success ? secret.data.data : undefined;
        const text = data?.['.dockerconfigjson'] ?? data?.['.dockercfg'];
        if (text === undefined) {
          problems.push(`imagePullSecret ${name}: not a docker config Secret`);
          continue;
        }
        auths.push(parseDockerConfig(Buffer.from(text, 'base64').toString('utf8'), `imagePullSecret ${name}`));
      } catch (error) {
        problems.push(`imagePullSecret ${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { auths, problems };
  }

  private get(namespace: string, name: string, signal: AbortSignal): Promise<string> {
    const url = new URL(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      this.api.url,
    );
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { ca: this.api.ca, headers: { authorization: `Bearer ${this.api.token}`, accept: 'application/json' }, signal },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`the Kubernetes API answered HTTP ${res.statusCode ?? 0}`));
            return;
          }
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (c: Buffer) => {
            total += c.length;
            if (total > SECRET_MAX_BYTES) {
              req.destroy(new Error(`the Secret exceeds ${SECRET_MAX_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('error', (e) => reject(e.name === 'AbortError' ? new Error('no answer in time') : e));
      req.end();
    });
  }
}
