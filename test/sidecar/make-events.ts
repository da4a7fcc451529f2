import { normalize } from '../../sidecar/normalize/index.ts';
import type { ParentInfo, ProcessInfo } from '../../sidecar/sources/index.ts';
import type { NetSocket } from '../../sidecar/sources/proc/index.ts';

/** Builds normalized events from observations, the way the watcher does, for rule tests. */
export function proc(p: Partial<ProcessInfo> & { pid: number }): ProcessInfo {
  const args = p.args ?? [p.name ?? 'app'];
  return {
    nsPid: p.pid,
    ppid: 1,
    session: 1,
    comm: p.name ?? 'app',
    name: p.name ?? 'app',
    args,
    exe: '/usr/bin/app',
    exeDeleted: false,
    exeMemfd: false,
    exeSetuid: false,
    uid: 1000,
    euid: 1000,
    gid: 1000,
    user: 'app',
    tracerPid: 0,
    startTicks: 100,
    stdin: 'null',
    stdout: 'pipe',
    rssKiB: 1000,
    cpuTicks: 0,
    ...p,
  };
}

const ctx = { mode: 'monitor' as const };

export const started = (p: Partial<ProcessInfo> & { pid: number }, parent?: ParentInfo) =>
  normalize({ type: 'process-start', process: proc(p), parent }, ctx);

export const connection = (
  direction: 'listening' | 'ingress' | 'egress',
  s: Partial<NetSocket>,
  p?: Partial<ProcessInfo> & { pid: number },
) =>
  normalize(
    {
      type: 'connection',
      direction,
      socket: {
        protocol: 'tcp',
        family: 'ipv4',
        localIp: '10.0.0.5',
        localPort: 40000,
        remoteIp: '0.0.0.0',
        remotePort: 0,
        state: 1,
        uid: 0,
        inode: 1,
        ...s,
      },
      process: p ? proc(p) : undefined,
    },
    ctx,
  );

export const fileOpen = (path: string, write = false) =>
  normalize({ type: 'file-open', process: proc({ pid: 9 }), path, fd: 3, write }, ctx);
