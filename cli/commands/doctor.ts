import { accessSync, constants, existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_DOCKER_SOCKET } from '../../shared/docker/socket.ts';
import { repeatable, whole } from '../flag-types.ts';
import { DEFAULT_CONTAINERD_SOCKET } from './watch-flags.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import { ExitWith } from '../exit-codes.ts';
import { println, type CommandIo } from '../io.ts';
import { sendTestEvents } from './send-test.ts';

/**
 * `sealwatch doctor`: can `watch` do its job here? One line per check with the fix, or JSON. Exit 0 when nothing
 * failed (warnings allowed), 1 when a check failed, 2 for a bad flag. Reads the same SEALWATCH_* variables as
 * `watch`, so run in the sidecar's container it checks the sidecar's own configuration.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const DEFAULT_SPOOL_DIR = '/var/lib/sealwatch/spool';

/** The flags of `sealwatch doctor` (the same names and SEALWATCH_* variables as `watch`'s). */
const DoctorFlags = z
  .object({
    mode: z
      .enum(['learn', 'monitor', 'enforce'])
      .default('monitor')
      .describe('the watch mode to check for: learn, monitor or enforce (enforce needs KILL)'),
    docker: z
      .boolean()
      .default(false)
      .describe('check for the host agent (watch --docker: engine and proc connector required)'),
    'docker-socket': z.string().min(1).default(DEFAULT_DOCKER_SOCKET).describe('Docker engine socket'),
    'containerd-socket': z.string().min(1).default(DEFAULT_CONTAINERD_SOCKET).describe('containerd socket'),
    'spool-dir': z.string().min(1).default(DEFAULT_SPOOL_DIR).describe('disk spool folder of the outputs'),
    pub: repeatable(z.string().min(1)).default([]).describe('trusted public key'),
    key: z.string().min(1).optional().describe('private signing key (for seal)'),
    output: repeatable(z.string().min(1)).default([]).describe('output URL to send test events to'),
    timeout: whole('seconds', 1, 600).default(5).describe('how long to wait for each output to confirm delivery'),
    json: z.boolean().default(false).describe('print {"ok": bool, "checks": [{id, status, detail, fix}]}'),
  })
  .strict();

const DOCTOR_FLAGS: FlagSpec<typeof DoctorFlags, Options> = {
  schema: DoctorFlags,
  values: {
    mode: 'mode',
    'docker-socket': 'path',
    'containerd-socket': 'path',
    'spool-dir': 'dir',
    pub: 'file',
    key: 'file',
    output: 'url',
    timeout: 'seconds',
  },
  env: true,
  normalize: (f) => ({
    mode: f.mode,
    docker: f.docker,
    dockerSocket: f['docker-socket'],
    containerdSocket: f['containerd-socket'],
    spoolDir: f['spool-dir'],
    pub: f.pub,
    ...(f.key !== undefined ? { key: f.key } : {}),
    output: f.output,
    timeout: f.timeout,
    json: f.json,
  }),
};

interface Options {
  mode: 'learn' | 'monitor' | 'enforce';
  docker: boolean;
  dockerSocket: string;
  containerdSocket: string;
  spoolDir: string;
  pub: string[];
  key?: string;
  output: string[];
  timeout: number;
  json: boolean;
}

/**
 * Linux capability numbers (linux/capability.h) and what each is for. Not CAP_NET_ADMIN: kernels since 6.6 let
 * any user subscribe to the proc connector, so the proc connector check opens it instead of guessing.
 */
const CAPABILITIES = {
  SYS_PTRACE: { bit: 19, why: "read /proc of the app's processes when they run as another user" },
  KILL: { bit: 5, why: 'SIGKILL a process that breaks the rules in --mode enforce' },
  DAC_READ_SEARCH: { bit: 2, why: 'watch app files that their owner keeps from others, for file sight' },
  SYS_NICE: { bit: 23, why: "run the host agent's proc connector thread at real-time priority" },
} as const;
type Capability = keyof typeof CAPABILITIES;

/** Which capabilities fail the check (others are warnings) for a mode. */
function requiredCapabilities(opts: Options): Set<Capability> {
  const required = new Set<Capability>(['SYS_PTRACE']);
  if (opts.mode === 'enforce') required.add('KILL');
  return required;
}

/** The effective capability set of this process, from /proc/self/status. */
function effectiveCapabilities(): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
}

function capabilityChecks(opts: Options): DoctorCheck[] {
  const effective = effectiveCapabilities();
  const required = requiredCapabilities(opts);
  return (Object.keys(CAPABILITIES) as Capability[]).map((name) => {
    const { bit, why } = CAPABILITIES[name];
    const id = `capability ${name}`;
    if (effective === undefined) return { id, status: 'warn', detail: 'cannot read CapEff from /proc/self/status' };
    if ((effective >> BigInt(bit)) & 1n) return { id, status: 'ok', detail: `held: can ${why}` };
    return {
      id,
      status: required.has(name) ? 'fail' : 'warn',
      detail: `missing: cannot ${why}`,
      fix: `run as uid 0 with --cap-add ${name} (Kubernetes: securityContext.capabilities.add: [${name}])`,
    };
  });
}

function unixSocketAnswers(path: string, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = createConnection(path);
    const end = (error?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      done(error);
    };
    const timer = setTimeout(() => end('no answer within 2 s'), timeoutMs);
    socket.once('connect', () => end());
    socket.once('error', (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
  });
}

async function engineCheck(opts: Options): Promise<DoctorCheck> {
  const id = 'engine';
  const { createDockerClient } = await import('../../shared/docker/index.ts');
  const docker = createDockerClient({ socketPath: opts.dockerSocket });
  let dockerError: string | undefined;
  try {
    await docker.ping();
    const version = (await docker.raw.version()) as { Version?: string; ApiVersion?: string };
    return {
      id,
      status: 'ok',
      detail: `Docker ${version.Version ?? '?'} (API ${version.ApiVersion ?? '?'}) at ${opts.dockerSocket}`,
    };
  } catch (error) {
    dockerError = error instanceof Error ? error.message : String(error);
  }
  const containerd = await unixSocketAnswers(opts.containerdSocket);
  if (containerd === undefined)
    return { id, status: 'ok', detail: `containerd socket answers at ${opts.containerdSocket}` };
  return {
    id,
    // only the host agent and --container need an engine; a pod's sidecar reads /proc
    status: opts.docker ? 'fail' : 'warn',
    detail: `no Docker engine (${dockerError}) and no containerd at ${opts.containerdSocket} (${containerd})`,
    fix: 'mount the socket (-v /var/run/docker.sock:/var/run/docker.sock:ro), or pass --docker-socket / --containerd-socket',
  };
}

async function procConnectorCheck(opts: Options): Promise<DoctorCheck> {
  const id = 'kernel proc connector';
  const { openProcConnector } = await import('../../sidecar/sources/index.ts');
  try {
    const stream = await openProcConnector({ onEvents: () => undefined, onError: () => undefined });
    const priority = stream.priority;
    stream.close();
    return { id, status: 'ok', detail: `subscribed (every exec is seen; socket thread priority: ${priority})` };
  } catch (error) {
    return {
      id,
      status: opts.docker ? 'fail' : 'warn',
      detail: `unavailable: ${error instanceof Error ? error.message : String(error)}; the host agent falls back to polling /proc and misses short-lived processes`,
      fix: 'run the host agent in the host PID and network namespaces (--pid host --network host), with CAP_NET_ADMIN on kernels before 6.6',
    };
  }
}

/** NETLINK_SOCK_DIAG and its TCP-over-IPv4 destroy group: socket close events in the app's network namespace. */
async function sockDiagCheck(): Promise<DoctorCheck> {
  const id = 'kernel sock_diag';
  try {
    const { RawNetlinkSocket } = await import('netlink');
    const socket = new RawNetlinkSocket(4 /* NETLINK_SOCK_DIAG */);
    try {
      socket.addMembership(1 /* SKNLGRP_INET_TCP_DESTROY */);
    } finally {
      socket.close();
    }
    return { id, status: 'ok', detail: 'socket destroy events available (short-lived connections are seen)' };
  } catch (error) {
    return {
      id,
      status: 'warn',
      detail: `unavailable: ${error instanceof Error ? error.message : String(error)}; connections are read from /proc/net only (one that opens and closes between two reads is missed)`,
      fix: 'a kernel with CONFIG_INET_DIAG (inet_diag module)',
    };
  }
}

function inotifyCheck(): DoctorCheck {
  const id = 'kernel inotify limits';
  const read = (name: string): number | undefined => {
    try {
      return Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim());
    } catch {
      return undefined;
    }
  };
  const watches = read('max_user_watches');
  const instances = read('max_user_instances');
  if (watches === undefined || instances === undefined) {
    return {
      id,
      status: 'warn',
      detail: 'no /proc/sys/fs/inotify: file sight cannot watch files',
      fix: 'a kernel with CONFIG_INOTIFY_USER',
    };
  }
  const low = watches < 8192 || instances < 128;
  return {
    id,
    status: low ? 'warn' : 'ok',
    detail: `max_user_watches ${watches}, max_user_instances ${instances}`,
    ...(low ? { fix: 'sysctl -w fs.inotify.max_user_watches=65536 fs.inotify.max_user_instances=512' } : {}),
  };
}

/** The spool folder: present and writable (or creatable), not writable by others. Nothing is created. */
function spoolCheck(opts: Options): DoctorCheck {
  const id = 'spool directory';
  const dir = opts.spoolDir;
  const fix = `mount a writable volume at ${dir} (owned by the watcher's user, mode 0700), or pass --spool-dir`;
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    if (lstatSync(existing).isSymbolicLink()) {
      return { id, status: 'fail', detail: `${existing} is a symbolic link`, fix };
    }
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return {
      id,
      status: 'fail',
      detail: `${existing === dir ? dir : `${dir} (missing; its parent ${existing})`} is not writable (${code}): events would wait in memory only`,
      fix,
    };
  }
  if (existing !== dir) return { id, status: 'ok', detail: `${dir} will be created (in ${existing})` };
  const st = statSync(dir);
  if (!st.isDirectory()) return { id, status: 'fail', detail: `${dir} is not a directory`, fix };
  if ((st.mode & 0o022) !== 0) {
    return {
      id,
      status: 'warn',
      detail: `${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
      fix: `chmod 700 ${dir}`,
    };
  }
  return { id, status: 'ok', detail: `${dir} is writable` };
}

async function keyChecks(opts: Options, io: CommandIo): Promise<DoctorCheck[]> {
  const { loadSigningKey, loadTrustedKeys } = await import('../../shared/signing/index.ts');
  const checks: DoctorCheck[] = [];
  if (opts.pub.length === 0) {
    checks.push({
      id: 'trusted keys',
      status: 'warn',
      detail: "no --pub: the neighbour's seal would not be checked",
      fix: 'mount the public key and pass --pub (SEALWATCH_PUB)',
    });
  }
  for (const file of opts.pub) {
    try {
      const keys = loadTrustedKeys([resolve(io.cwd, file)], [file]);
      checks.push({
        id: `trusted key ${file}`,
        status: 'ok',
        detail: `key hint ${[...keys.byHint.keys()].join(', ')}`,
      });
    } catch (error) {
      checks.push({
        id: `trusted key ${file}`,
        status: 'fail',
        detail: errorLine(error),
        fix: 'pass the sealwatch.pub written by `sealwatch keygen`',
      });
    }
  }
  if (opts.key !== undefined) {
    const id = `signing key ${opts.key}`;
    try {
      const path = resolve(io.cwd, opts.key);
      const key = loadSigningKey(path, opts.key);
      const mode = statSync(path).mode & 0o777;
      checks.push(
        (mode & 0o077) !== 0
          ? {
              id,
              status: 'warn',
              detail: `${key.algorithm}, readable by others (mode ${mode.toString(8)})`,
              fix: `chmod 600 ${opts.key}`,
            }
          : { id, status: 'ok', detail: `${key.algorithm}, key hint ${key.keyHint}` },
      );
    } catch (error) {
      checks.push({
        id,
        status: 'fail',
        detail: errorLine(error),
        fix: 'pass the private key written by `sealwatch keygen`',
      });
    }
  }
  return checks;
}

async function outputChecks(opts: Options, io: CommandIo): Promise<DoctorCheck[]> {
  if (opts.output.length === 0) {
    return [
      {
        id: 'outputs',
        status: 'warn',
        detail: 'no --output: events go to stdout only',
        fix: 'pass --output (SEALWATCH_OUTPUT)',
      },
    ];
  }
  const { parseOutputUrl } = await import('../../shared/outputs/index.ts');
  const specs = [];
  const checks: DoctorCheck[] = [];
  for (const url of opts.output) {
    try {
      specs.push(parseOutputUrl(url));
    } catch (error) {
      checks.push({ id: 'output', status: 'fail', detail: errorLine(error), fix: 'see docs/outputs/index.md' });
    }
  }
  if (specs.length === 0) return checks;
  // the send-test path itself: test events of each severity, delivery confirmed (its own output goes nowhere)
  const quiet = { ...io, stdout: new (await import('node:stream')).PassThrough() };
  const results = await sendTestEvents(specs, { io: quiet, timeoutSeconds: opts.timeout });
  for (const r of results) {
    checks.push({
      id: `output ${r.name}`,
      status: r.ok ? 'ok' : 'fail',
      detail: `test events: ${r.detail}`,
      ...(r.ok
        ? {}
        : { fix: "check host, port, TLS ca= and the receiver's log (sealwatch send-test shows each event)" }),
    });
  }
  return checks;
}

function errorLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

export async function runDoctor(opts: Options, io: CommandIo): Promise<DoctorCheck[]> {
  return [
    await engineCheck(opts),
    ...capabilityChecks(opts),
    await procConnectorCheck(opts),
    inotifyCheck(),
    await sockDiagCheck(),
    spoolCheck(opts),
    ...(await keyChecks(opts, io)),
    ...(await outputChecks(opts, io)),
  ];
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function registerDoctor(program: Command, io: CommandIo): void {
  const command = program
    .command('doctor')
    .description(
      'check that watch can work here: engine or containerd socket, capabilities for the mode, kernel interfaces\n' +
        '(proc connector, inotify limits, sock_diag), spool folder, keys, and every output (a test event of each severity);\n' +
        'one line per check with the fix; exit 0 when nothing failed, 1 when a check failed, 2 for a bad flag',
    );
  addFlags(command, DOCTOR_FLAGS).action(async (_opts: unknown, self: Command) => {
    const opts = readFlags(self, DOCTOR_FLAGS, io);
    const checks = await runDoctor(opts, io);
    const failed = checks.some((c) => c.status === 'fail');
    if (opts.json) {
      println(io.stdout, JSON.stringify({ ok: !failed, checks }, null, 2));
    } else {
      for (const c of checks)
        println(io.stdout, `${LABEL[c.status]} ${c.id}: ${c.detail}${c.fix ? `; fix: ${c.fix}` : ''}`);
    }
    if (failed) throw new ExitWith(1);
  });
}
