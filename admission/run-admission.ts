import { resolve } from 'node:path';
import { loadConfigFile, readTextFile } from '../shared/config/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl, type Dispatcher } from '../shared/outputs/index.ts';
import { parseDockerConfig } from '../shared/registry/index.ts';
import { loadTrustedKeys } from '../shared/signing/index.ts';
import { AdmissionConfig } from './config.ts';
import { ImageVerifier } from './image-verifier.ts';
import { mutateRequest } from './inject.ts';
import { createAdmissionMetrics } from './metrics.ts';
import { inClusterApi, PullSecretReader, type KubernetesApi } from './pull-secrets.ts';
import { createAdmissionApp, listenHttps } from './server.ts';
import { validateRequest } from './validate.ts';

export interface AdmissionOptions {
  /** The policy file (absent: every default, i.e. enforce everywhere but kube-system). */
  configFile?: string;
  pub: readonly string[];
  tlsCert: string;
  tlsKey: string;
  host: string;
  port: number;
  outputs: readonly string[];
  version: string;
}

export interface AdmissionDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream;
  /** The Kubernetes API for imagePullSecrets; default: in-cluster (service account). */
  kubernetesApi?: KubernetesApi;
}

export interface RunningAdmission {
  port: number;
  verifier: ImageVerifier;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** The webhook's composition root: config, keys, registry verifier, outputs, HTTPS server. */
export async function runAdmission(options: AdmissionOptions, deps: AdmissionDeps): Promise<RunningAdmission> {
  const config = options.configFile
    ? loadConfigFile({ schema: AdmissionConfig }, resolve(deps.cwd, options.configFile), options.configFile).value
    : AdmissionConfig.parse({});
  const keys = loadTrustedKeys(
    options.pub.map((p) => resolve(deps.cwd, p)),
    options.pub,
  );
  const staticAuth = config.registryAuth.map((f) => parseDockerConfig(readTextFile(resolve(deps.cwd, f), f), f));
  const verifier = new ImageVerifier({
    keys,
    staticAuth,
    registryTimeoutMs: config.registryTimeoutSeconds * 1000,
    platform: config.platform,
    ttlMs: config.cache.ttlSeconds * 1000,
    tagTtlMs: config.cache.tagTtlSeconds * 1000,
    maxEntries: config.cache.maxEntries,
  });
  const pullSecrets = config.pullSecretsFromApi
    ? new PullSecretReader(deps.kubernetesApi ?? inClusterApi(deps.env))
    : undefined;
  const dispatcher = createDispatcher(options.outputs.map(parseOutputUrl), {
    logger: deps.logger,
    version: options.version,
    stdout: deps.stdout,
    env: deps.env,
  });
  const app = createAdmissionApp({
    logger: deps.logger,
    metrics: createAdmissionMetrics({ version: options.version, verifier, outputs: () => dispatcher.stats() }),
    validate: (request) =>
      validateRequest(request, {
        config,
        verifier,
        ...(pullSecrets ? { pullSecrets } : {}),
        emit: (event) => void dispatcher.dispatch(event),
      }),
    mutate: (request) => mutateRequest(request, config.inject, options.version),
  });
  const server = await listenHttps(
    app,
    { cert: resolve(deps.cwd, options.tlsCert), key: resolve(deps.cwd, options.tlsKey) },
    options.host,
    options.port,
    deps.logger,
  );
  deps.logger.info(`admission: listening on https://${options.host}:${server.port} (/validate, /mutate, /metrics)`);
  return {
    port: server.port,
    verifier,
    dispatcher,
    close: async () => {
      await server.close();
      await dispatcher.close();
    },
  };
}
