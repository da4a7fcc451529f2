import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import {
  createProcConnector,
  type openProcConnector,
  type ProcConnector,
} from '../../sidecar/sources/proc-connector/index.ts';
import { createProcFs, decorateProcFs, type NetSocket, type ProcFs } from '../../sidecar/sources/proc/index.ts';
import { procConnectorRequired, procConnectorUnavailable } from '../harness/proc-connector.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * One suite that every ProcFs implementation passes, against the real /proc: each member of the interface is
 * there (the optional ones too: a view that drops `runTime`, `threadActivity` or `sockstat` silently switches the
 * tracker's and the socket source's skips off), and answers what /proc answers for a live process, arguments
 * included (`net`'s `known`), and nothing for a process that is gone.
 */
const MEMBERS = {
  root: true,
  skipped: true,
  listPids: true,
  stat: true,
  status: true,
  cmdline: true,
  exe: true,
  exeStat: true,
  exeSha256: true,
  cwd: true,
  cgroup: true,
  fds: true,
  fdFlags: true,
  tasks: true,
  threadActivity: true,
  runTime: true,
  net: true,
  sockstat: true,
  readRootFile: true,
  rootStat: true,
  listRootDir: true,
  bootTimeMs: true,
} satisfies Record<keyof ProcFs, true>;

/** A connector socket that reports nothing (a fake: its view is the snapshot decorator over /proc all the same). */
const silentSocket = (): ReturnType<typeof openProcConnector> => Promise.resolve({ priority: 'normal', close() {} });

// the kernel's own view where it can be opened (required in CI: SEALWATCH_REQUIRE_PROC_CONNECTOR=1)
const kernelUnavailable = await procConnectorUnavailable();
if (kernelUnavailable !== undefined && procConnectorRequired())
  throw new Error(`SEALWATCH_REQUIRE_PROC_CONNECTOR=1 but the proc connector cannot be opened: ${kernelUnavailable}`);
const kernelAvailable = kernelUnavailable === undefined;

const connectors: ProcConnector[] = [];
const implementations: Array<[string, () => Promise<ProcFs>]> = [
  ['createProcFs', () => Promise.resolve(createProcFs('/proc'))],
  ['decorateProcFs with no overrides', () => Promise.resolve(decorateProcFs(createProcFs('/proc'), {}))],
  [
    'the proc connector view (snapshots)',
    async () => {
      const c = await createProcConnector({ proc: createProcFs('/proc'), logger: silentLogger(), open: silentSocket });
      connectors.push(c);
      return c.view();
    },
  ],
  ...(kernelAvailable
    ? [
        [
          'the proc connector view on the kernel socket',
          async () => {
            const c = await createProcConnector({ proc: createProcFs('/proc'), logger: silentLogger() });
            connectors.push(c);
            expect(c.mode).toBe('proc-connector');
            return c.view();
          },
        ] as [string, () => Promise<ProcFs>],
      ]
    : []),
];

describe.each(implementations)('ProcFs conformance: %s', (_name, make) => {
  const base = createProcFs('/proc');
  let proc: ProcFs;
  let child: ChildProcess;
  let server: Server;
  let gonePid: number;
  beforeAll(async () => {
    // gone before the implementation was made (a connector view answers from its snapshot for a process that
    // exec'd while it listened: that is what it is for)
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    gonePid = gone.pid!;
    proc = await make();
    // a sleeping child (nothing of it changes while it sleeps) and a listening socket in our namespace
    child = spawn('sleep', ['300'], { stdio: ['ignore', 'ignore', 'ignore'] });
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await waitFor('the child to exec sleep', () => base.cmdline(child.pid!)?.[0] === 'sleep');
  });
  afterAll(async () => {
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of connectors.splice(0)) c.close();
  });

  it('has every member of the interface, the optional ones included', () => {
    for (const member of Object.keys(MEMBERS) as (keyof ProcFs)[]) {
      const kind = typeof (proc as unknown as Record<string, unknown>)[member];
      expect(kind, member).toBe(member === 'root' ? 'string' : member === 'skipped' ? 'number' : 'function');
    }
    expect(proc.root).toBe('/proc');
    expect(typeof proc.skipped).toBe('number');
  });

  it('answers what /proc answers for a live process', async () => {
    const pid = child.pid!;
    expect(proc.listPids()).toContain(pid);
    // what does not move while it sleeps (its state and times can, between two reads)
    const still = (st: ReturnType<ProcFs['stat']>) =>
      st && { pid: st.pid, ppid: st.ppid, comm: st.comm, start: st.startTicks };
    expect(still(proc.stat(pid))).toEqual(still(base.stat(pid)));
    expect(proc.status(pid)?.uids).toEqual(base.status(pid)?.uids);
    expect(proc.status(pid)?.nsPids).toEqual(base.status(pid)?.nsPids);
    expect(proc.cmdline(pid)).toEqual(['sleep', '300']);
    expect(proc.exe(pid)).toBe(base.exe(pid));
    expect(proc.exeStat(pid)?.ino).toBe(base.exeStat(pid)?.ino);
    expect(proc.exeSha256(pid)).toMatch(/^[0-9a-f]{64}$/);
    expect(proc.exeSha256(pid)).toBe(base.exeSha256(pid));
    expect(proc.cwd(pid)).toBe(process.cwd());
    expect(proc.cgroup(pid)).toBe(base.cgroup(pid));
    expect(proc.fds(pid)).toEqual(base.fds(pid));
    expect(proc.fdFlags(pid, 0)).toBe(base.fdFlags(pid, 0));
    expect(proc.tasks(pid)).toEqual([pid]);
    // the child may still be running its start-up (loader, libc) on a loaded machine: compare once it sleeps
    await waitFor('the same run time as /proc', () => proc.runTime?.(pid) === base.runTime?.(pid) || undefined);
    await waitFor(
      'the same thread activity as /proc',
      () => proc.threadActivity?.(pid) === base.threadActivity?.(pid) || undefined,
    );
    expect(proc.readRootFile(pid, 'etc/hostname')).toBe(base.readRootFile(pid, 'etc/hostname'));
    expect(proc.rootStat(pid, 'etc')?.isDirectory()).toBe(true);
    expect(proc.listRootDir(pid, 'etc')).toEqual(base.listRootDir(pid, 'etc'));
    expect(proc.bootTimeMs()).toBe(base.bootTimeMs());
    // the idle skips need these to be real answers, not undefined
    expect(proc.runTime?.(pid)).toMatch(/^\d+ \d+ \d+/);
    expect(proc.sockstat?.('self')).toMatch(/^sockets: used \d+/);
  });

  it("reads the socket tables, and reuses the sockets it is given as known (net's fourth argument)", () => {
    const port = (server.address() as { port: number }).port;
    const first = proc.net('self', 'tcp', 'ipv4') ?? [];
    const listening = first.find((s) => s.localPort === port);
    expect(listening?.localIp).toBe('127.0.0.1');
    const known = new Map<string, NetSocket>(
      first.map((s) => [`${s.inode}:${s.state.toString(16).toUpperCase().padStart(2, '0')}`, s]),
    );
    const again = proc.net('self', 'tcp', 'ipv4', known) ?? [];
    expect(again.find((s) => s.localPort === port)).toBe(listening);
  });

  it('answers nothing for a process that was gone before', () => {
    expect(proc.listPids()).not.toContain(gonePid);
    expect(proc.stat(gonePid)).toBeUndefined();
    expect(proc.status(gonePid)).toBeUndefined();
    expect(proc.exe(gonePid)).toBeUndefined();
    expect(proc.fds(gonePid)).toBeUndefined();
    expect(proc.runTime?.(gonePid)).toBeUndefined();
  });
});
