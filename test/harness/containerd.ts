import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { testRunOwner } from './containers.ts';
import { run, runOk } from './exec.ts';
import { waitFor } from './wait.ts';

/**
 * A containerd of the test run's own, beside the Docker engine's (Debian's containerd, installed with docker.io):
 * its config (`version = 2`), root, state and sockets live in one temp dir named after the owning run
 * (`sealwatch-containerd-<owner pid>-…`), so nothing is shared with the engine's containerd or another run.
 * Images come from the Docker engine (`docker save` → `ctr images import`); containers are started with `ctr run`
 * carrying the labels and annotations the kubelet's CRI writes, in the `k8s.io` namespace, with 64-hex ids as CRI
 * gives them. `stop()` kills the tasks, deletes the containers, stops containerd and removes its dir; a dir
 * left by a crashed run (its owner no longer alive) is cleaned the same way by the next `startContainerd()`.
 */
export const CONTAINERD_DIR_PREFIX = 'sealwatch-containerd-';
export const K8S_NAMESPACE = 'k8s.io';

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

export interface CtrContainer {
  id: string;
  /** the container's init process, as seen from the host */
  pid: number;
  /** `io.kubernetes.container.name` */
  name: string;
  image: string;
  pod: PodIdentity;
  /** Runs a command in the container (`ctr tasks exec`) and waits for it. */
  exec(cmd: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Starts a command in the container and returns at once. */
  execDetached(cmd: string[]): Promise<void>;
  /** Kills the task and deletes the container; safe to call twice. */
  remove(): Promise<void>;
}

export interface RunSpec {
  image: string;
  cmd: string[];
  pod: PodIdentity;
  /** `io.kubernetes.container.name` */
  name: string;
  /** `sandbox` for the pod's pause container (CRI's container-type annotation) */
  type?: 'container' | 'sandbox';
  /** the pod's sandbox, whose PID namespace this container joins (`shareProcessNamespace: true`) */
  sharePidWith?: CtrContainer;
  /** extra annotations (e.g. hostile values for the reader's tests) */
  annotations?: Record<string, string>;
  /** write the kubelet's labels as containerd labels and the CRI annotations (default true) */
  kubelet?: boolean;
}

export interface Containerd {
  dir: string;
  socket: string;
  /** the state dir: `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/` are the OCI bundles */
  state: string;
  pid: number;
  ctr(args: string[]): Promise<string>;
  /** Imports a Docker engine image (`docker save` | `ctr images import`); returns the name containerd gives it. */
  importImage(dockerRef: string): Promise<string>;
  run(spec: RunSpec): Promise<CtrContainer>;
  stop(): Promise<void>;
}

/** The containerd binary answers (Debian's containerd and ctr, installed with docker.io). */
export function containerdAvailable(): boolean {
  try {
    execFileSync('containerd', ['--version'], { stdio: 'pipe', timeout: 10_000 });
    execFileSync('ctr', ['--version'], { stdio: 'pipe', timeout: 10_000 });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/** Like describeDocker: fails (not skips) with SEALWATCH_REQUIRE_CONTAINERD=1. */
export function describeContainerd(name: string, fn: () => void): void {
  if (containerdAvailable()) {
    describe(name, fn);
    return;
  }
  const why = 'containerd and ctr (Debian package containerd, installed with docker.io) are needed, as root';
  if (process.env.SEALWATCH_REQUIRE_CONTAINERD === '1') {
    describe(name, () => {
      it('needs containerd', () => {
        throw new Error(`SEALWATCH_REQUIRE_CONTAINERD=1 but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, fn);
}

/** A 64-hex container id, as the CRI gives them (the cgroup path ends with it). */
export function criId(): string {
  return randomBytes(32).toString('hex');
}

/** The name `ctr images import` gives a `docker save` of `ref` (Docker's short names normalized). */
export function containerdImageName(ref: string): string {
  const first = ref.split('/')[0]!;
  const hasHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const named = hasHost ? ref : ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
  return /:[^/]+$/.test(named) || named.includes('@') ? named : `${named}:latest`;
}

export async function startContainerd(): Promise<Containerd> {
  await removeStaleContainerds();
  const owner = testRunOwner();
  const dir = mkdtempSync(join(tmpdir(), `${CONTAINERD_DIR_PREFIX}${owner}-`));
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const socket = join(dir, 'containerd.sock');
  mkdirSync(root);
  mkdirSync(state);
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      // no CRI plugin: there is no kubelet here; containers are created with ctr, with the CRI's labels
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
      '',
    ].join('\n'),
  );
  const log = join(dir, 'containerd.log');
  const out = openSync(log, 'a');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', out, out], detached: true });
  child.unref();
  const pid = child.pid!;
  writeFileSync(join(dir, 'containerd.pid'), String(pid));
  const ctr = (args: string[]): Promise<string> => runOk('ctr', ['-a', socket, '-n', K8S_NAMESPACE, ...args]);
  try {
    await waitFor('containerd to answer', async () => (await run('ctr', ['-a', socket, 'version'])).code === 0);
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-5).join('\n') : '';
    await cleanDir(dir);
    throw new Error(`${(error as Error).message}\n${tail}`, { cause: error });
  }
  const containers = new Map<string, CtrContainer>();
  const imported = new Map<string, string>();

  const handle: Containerd = {
    dir,
    socket,
    state,
    pid,
    ctr,
    importImage: async (dockerRef) => {
      const known = imported.get(dockerRef);
      if (known) return known;
      const tar = join(dir, `image-${randomBytes(4).toString('hex')}.tar`);
      await runOk('docker', ['save', '-o', tar, dockerRef]);
      try {
        await ctr(['images', 'import', tar]);
      } finally {
        rmSync(tar, { force: true });
      }
      const name = containerdImageName(dockerRef);
      imported.set(dockerRef, name);
      return name;
    },
    run: async (spec) => {
      const id = criId();
      const kubelet = spec.kubelet ?? true;
      const type = spec.type ?? 'container';
      const args = ['run', '-d', '--null-io'];
      if (kubelet) {
        const labels = {
          'io.kubernetes.pod.name': spec.pod.name,
          'io.kubernetes.pod.namespace': spec.pod.namespace,
          'io.kubernetes.pod.uid': spec.pod.uid,
          'io.kubernetes.container.name': spec.name,
        };
        const annotations = {
          'io.kubernetes.cri.container-type': type,
          'io.kubernetes.cri.container-name': type === 'sandbox' ? '' : spec.name,
          'io.kubernetes.cri.sandbox-id': spec.sharePidWith?.id ?? id,
          'io.kubernetes.cri.sandbox-name': spec.pod.name,
          'io.kubernetes.cri.sandbox-namespace': spec.pod.namespace,
          'io.kubernetes.cri.sandbox-uid': spec.pod.uid,
          'io.kubernetes.cri.image-name': spec.image,
        };
        for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
        for (const [k, v] of Object.entries(annotations)) if (v !== '') args.push('--annotation', `${k}=${v}`);
      }
      for (const [k, v] of Object.entries(spec.annotations ?? {})) args.push('--annotation', `${k}=${v}`);
      if (spec.sharePidWith) args.push('--with-ns', `pid:/proc/${spec.sharePidWith.pid}/ns/pid`);
      args.push(spec.image, id, ...spec.cmd);
      await ctr(args);
      const pid = Number(
        readFileSync(join(state, 'io.containerd.runtime.v2.task', K8S_NAMESPACE, id, 'init.pid'), 'utf8'),
      );
      let execs = 0;
      const container: CtrContainer = {
        id,
        pid,
        name: spec.name,
        image: spec.image,
        pod: spec.pod,
        exec: (cmd) =>
          run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'tasks', 'exec', '--exec-id', `e${++execs}`, id, ...cmd]),
        execDetached: async (cmd) => {
          await runOk('ctr', [
            '-a',
            socket,
            '-n',
            K8S_NAMESPACE,
            'tasks',
            'exec',
            '-d',
            '--exec-id',
            `e${++execs}`,
            id,
            ...cmd,
          ]);
        },
        remove: async () => {
          if (!containers.delete(id)) return;
          await removeTask(socket, id);
        },
      };
      containers.set(id, container);
      return container;
    },
    stop: async () => {
      for (const c of [...containers.values()].reverse()) await c.remove();
      await cleanDir(dir);
    },
  };
  return handle;
}

/** Kills a task (every process of it), then deletes it and its container. Errors for what is already gone are fine. */
async function removeTask(socket: string, id: string): Promise<void> {
  const ctr = (args: string[]) => run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, ...args]);
  await ctr(['tasks', 'kill', '--all', '-s', 'SIGKILL', id]);
  await waitFor(
    `task ${id.slice(0, 12)} to stop`,
    async () => {
      const r = await ctr(['tasks', 'delete', id]);
      return r.code === 0 || /not found/.test(r.stderr);
    },
    15_000,
  ).catch(() => undefined);
  await ctr(['containers', 'delete', id]);
}

/**
 * Stops what lives in a containerd dir of ours and removes it: its tasks through ctr while containerd answers,
 * then any process still running from it (container init processes named by init.pid, shims started with its
 * socket), containerd itself, the mounts under the dir, and the dir.
 */
async function cleanDir(dir: string): Promise<void> {
  const socket = join(dir, 'containerd.sock');
  const tasks = join(dir, 'state', 'io.containerd.runtime.v2.task');
  if ((await run('ctr', ['-a', socket, 'version'])).code === 0) {
    const list = await run('ctr', ['-a', socket, '-n', K8S_NAMESPACE, 'tasks', 'ls', '-q']);
    for (const id of list.stdout.split('\n').filter(Boolean)) await removeTask(socket, id);
  }
  // a crashed run: containerd gone, containers and shims left
  for (const ns of safeList(tasks)) {
    for (const id of safeList(join(tasks, ns))) {
      const pid = Number(safeRead(join(tasks, ns, id, 'init.pid')));
      if (pid > 0) killPid(pid);
    }
  }
  for (const entry of safeList('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = safeRead(`/proc/${entry}/cmdline`).split('\0');
    if (cmdline[0]?.endsWith('containerd-shim-runc-v2') && cmdline.includes(socket)) killPid(Number(entry));
  }
  const pid = Number(safeRead(join(dir, 'containerd.pid')));
  if (pid > 0 && isContainerdOf(pid, dir)) {
    process.kill(pid, 'SIGTERM');
    await waitFor('containerd to exit', () => !alive(pid), 10_000).catch(() => killPid(pid));
  }
  // rootfs overlays and shm mounts under the dir, deepest first
  const mounts = safeRead('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
}

/** Cleans containerd dirs of runs that are no longer alive (a crashed or killed test run). */
export async function removeStaleContainerds(): Promise<number> {
  let removed = 0;
  for (const name of safeList(tmpdir())) {
    const m = name.startsWith(CONTAINERD_DIR_PREFIX) ? /^(\d+)-/.exec(name.slice(CONTAINERD_DIR_PREFIX.length)) : null;
    if (!m || alive(Number(m[1]))) continue;
    await cleanDir(join(tmpdir(), name));
    removed++;
  }
  return removed;
}

function isContainerdOf(pid: number, dir: string): boolean {
  return safeRead(`/proc/${pid}/cmdline`).split('\0').includes(join(dir, 'config.toml'));
}

/** A process that is running (a zombie, killed but not yet reaped, is not). */
export function alive(pid: number): boolean {
  const stat = safeRead(`/proc/${pid}/stat`);
  return stat !== '' && !/^\d+ \(.*\) Z/s.test(stat);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
