import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { run, runOk, type ExecResult } from './exec.ts';

/**
 * Containers for tests, always cleaned up: every container carries the label `sealwatch-test=<owner pid>`
 * (the pid of the vitest run that started it); `useContainerCleanup()` removes a file's containers after its
 * tests, the global teardown removes whatever this run left, and the global setup removes containers of runs
 * that are no longer alive (a crashed run). Two runs at once never remove each other's containers.
 */
export const TEST_LABEL = 'sealwatch-test';

/** The owner of this run's containers: set by the global setup for its workers, else this process. */
export function testRunOwner(): string {
  return process.env.SEALWATCH_TEST_OWNER ?? String(process.pid);
}

/** `--label` value for containers a test starts with the docker CLI itself. */
export function testContainerLabel(): string {
  return `${TEST_LABEL}=${testRunOwner()}`;
}

export interface ContainerSpec {
  image: string;
  cmd?: string[];
  entrypoint?: string;
  name?: string;
  /** `none` (default), `host`, or `container:<id>` (a pod's shared network namespace). Never a bridge. */
  network?: 'none' | 'host' | `container:${string}`;
  /** `container:<id>` to share a PID namespace, `host` for the host's. */
  pid?: 'host' | `container:${string}`;
  capAdd?: string[];
  /** e.g. ['ALL'] with `capAdd` for the few a sidecar holds */
  capDrop?: string[];
  user?: string;
  env?: Record<string, string>;
  mounts?: { host: string; container: string; readonly?: boolean }[];
  labels?: Record<string, string>;
  privileged?: boolean;
  workdir?: string;
}

export interface TestContainer {
  id: string;
  name: string;
  /** Runs a command in the container and waits for it. */
  exec(cmd: string[], options?: { user?: string; input?: string }): Promise<ExecResult>;
  /** Starts a command in the container and returns at once (docker exec -d). */
  execDetached(cmd: string[], options?: { user?: string }): Promise<void>;
  /** The container's init process as seen from the host. */
  hostPid(): Promise<number>;
  logs(): Promise<string>;
  /** Stops and removes the container; safe to call twice. */
  remove(): Promise<void>;
}

const started = new Set<string>();

export async function startContainer(spec: ContainerSpec): Promise<TestContainer> {
  const name = spec.name ?? `sealwatch-test-${randomBytes(5).toString('hex')}`;
  const args = ['run', '-d', '--name', name, '--label', testContainerLabel(), '--network', spec.network ?? 'none'];
  if (spec.pid) args.push('--pid', spec.pid);
  for (const cap of spec.capDrop ?? []) args.push('--cap-drop', cap);
  for (const cap of spec.capAdd ?? []) args.push('--cap-add', cap);
  if (spec.user) args.push('--user', spec.user);
  if (spec.entrypoint !== undefined) args.push('--entrypoint', spec.entrypoint);
  if (spec.privileged) args.push('--privileged');
  if (spec.workdir) args.push('--workdir', spec.workdir);
  for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
  for (const [k, v] of Object.entries(spec.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const m of spec.mounts ?? []) args.push('--volume', `${m.host}:${m.container}${m.readonly ? ':ro' : ''}`);
  args.push(spec.image, ...(spec.cmd ?? []));
  const id = (await runOk('docker', args)).trim();
  started.add(id);
  return containerHandle(id, name);
}

/** A second container in the first one's PID and network namespaces: a Kubernetes pod with shareProcessNamespace. */
export function startInPod(app: TestContainer, spec: Omit<ContainerSpec, 'network' | 'pid'>): Promise<TestContainer> {
  return startContainer({ ...spec, network: `container:${app.id}`, pid: `container:${app.id}` });
}

function containerHandle(id: string, name: string): TestContainer {
  return {
    id,
    name,
    exec: (cmd, options = {}) =>
      run(
        'docker',
        [
          'exec',
          ...(options.input !== undefined ? ['-i'] : []),
          ...(options.user ? ['--user', options.user] : []),
          id,
          ...cmd,
        ],
        {
          input: options.input,
        },
      ),
    execDetached: async (cmd, options = {}) => {
      await runOk('docker', ['exec', '-d', ...(options.user ? ['--user', options.user] : []), id, ...cmd]);
    },
    hostPid: async () => Number((await runOk('docker', ['inspect', '--format', '{{.State.Pid}}', id])).trim()),
    logs: async () => {
      const r = await run('docker', ['logs', id]);
      return r.stdout + r.stderr;
    },
    remove: async () => {
      await removeContainers([id]);
      started.delete(id);
    },
  };
}

async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await run('docker', ['rm', '-f', '-v', ...ids]);
}

/** Call once at the top of a test file that starts containers: removes them after the file's tests. */
export function useContainerCleanup(): void {
  afterAll(async () => {
    await removeContainers([...started]);
    started.clear();
  });
}

/**
 * Removes test containers owned by `owner`, or (without an owner) those whose owning run is no longer
 * alive: left behind by a crashed or killed run. Returns how many were removed.
 */
export async function removeTestContainers(owner?: string): Promise<number> {
  const list = await run('docker', [
    'ps',
    '-a',
    '--filter',
    `label=${TEST_LABEL}`,
    '--format',
    `{{.ID}} {{.Label "${TEST_LABEL}"}}`,
  ]);
  if (list.code !== 0) return 0;
  const ids = list.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string])
    .filter(([, label]) => (owner === undefined ? !processAlive(label) : label === owner))
    .map(([id]) => id);
  await removeContainers(ids);
  return ids.length;
}

function processAlive(pid: string): boolean {
  if (!/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
