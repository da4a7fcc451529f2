import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  containerIdFromCgroup,
  createProcFs,
  decodeHexAddress,
  parseCmdline,
  parseNetTable,
  parsePasswd,
  parseStat,
  parseStatus,
  socketInode,
} from '../../sidecar/sources/proc/index.ts';
import { programName } from '../../sidecar/normalize/index.ts';
import { waitFor } from '../harness/wait.ts';
import { FixtureProc, TCP6_HEADER, TCP_HEADER } from './fixture-proc.ts';

const statLine = (comm: string): string =>
  `4242 (${comm}) S 7 4242 4242 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1 0 98765 1000000 250 18446744073709551615 0 0 0\n`;

describe('parseStat', () => {
  it('splits at the LAST ")" so comm may hold spaces, parentheses and newlines', () => {
    for (const comm of ['a b', 'x) S 1 (y', 'new\nline', ') (', '((((', 'evil) R 99 1 1']) {
      const s = parseStat(statLine(comm));
      expect(s, comm).toBeDefined();
      expect(s!.comm).toBe(comm);
      expect(s!.pid).toBe(4242);
      expect(s!.ppid).toBe(7);
      expect(s!.state).toBe('S');
      expect(s!.startTicks).toBe(98765);
      expect(s!.utime + s!.stime).toBe(7);
      expect(s!.rssPages).toBe(250);
    }
  });

  it('rejects truncated or non-numeric records instead of guessing', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('12 (x) S 1 2')).toBeUndefined();
    expect(parseStat('abc (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22')).toBeUndefined();
    expect(parseStat(statLine('x').replace(' 7 4242', ' seven 4242'))).toBeUndefined();
  });

  it('parses the real /proc/self/stat', () => {
    const proc = createProcFs('/proc');
    const s = proc.stat(process.pid)!;
    expect(s.pid).toBe(process.pid);
    expect(s.ppid).toBe(process.ppid);
  });
});

describe('parseStatus', () => {
  it('reads uids, gids, TracerPid, NSpid and VmRSS', () => {
    const s = parseStatus(
      'Name:\tnode\nPPid:\t1\nTracerPid:\t77\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nNSpid:\t9001\t12\nVmRSS:\t  2048 kB\nThreads:\t7\n',
    )!;
    expect(s.uids).toEqual([1000, 0, 0, 0]);
    expect(s.tracerPid).toBe(77);
    expect(s.nsPids).toEqual([9001, 12]);
    expect(s.vmRssKiB).toBe(2048);
    expect(s.threads).toBe(7);
  });
  it('rejects a record without Uid', () => {
    expect(parseStatus('Name:\tx\nPPid:\t1\n')).toBeUndefined();
  });
});

describe('parseCmdline', () => {
  it('splits on NUL and keeps empty arguments', () => {
    expect(parseCmdline(Buffer.from('nc\0-l\0\0-p\x008080\0'))).toEqual(['nc', '-l', '', '-p', '8080']);
  });
  it('decodes non-UTF-8 bytes lossily instead of failing', () => {
    const args = parseCmdline(Buffer.from([0x73, 0x68, 0, 0xff, 0xfe, 0x41, 0, 0xc3, 0]));
    expect(args).toEqual(['sh', '\uFFFD\uFFFDA', '\uFFFD']);
  });
  it('treats a rewritten argv without NULs as one argument', () => {
    expect(parseCmdline(Buffer.from('nginx: worker process'))).toEqual(['nginx: worker process']);
  });
  it('derives the program name from argv[0] (multi-call binaries), else comm', () => {
    expect(programName(['/bin/nc', '-l'], 'busybox')).toBe('nc');
    expect(programName(['-sh'], 'busybox')).toBe('sh');
    expect(programName([], 'kworker')).toBe('kworker');
    expect(programName([''], 'sleep')).toBe('sleep');
  });
});

describe('parseNetTable', () => {
  it('decodes IPv4, IPv6, IPv4-mapped addresses, ports, states and inodes', () => {
    const v4 = parseNetTable(
      TCP_HEADER +
        '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n' +
        '   1: 0100007F:A000 FEA9FEA9:0050 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1\n',
      'tcp',
      'ipv4',
    );
    expect(v4.skipped).toBe(0);
    expect(v4.sockets[0]).toMatchObject({ localIp: '127.0.0.1', localPort: 8080, state: 10, inode: 12345 });
    expect(v4.sockets[1]).toMatchObject({ remoteIp: '169.254.169.254', remotePort: 80, uid: 1000, state: 1 });

    const v6 = parseNetTable(
      TCP6_HEADER +
        '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1\n' +
        '   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 223 1\n' +
        '   2: 0000EC FD000000000000000054020000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 224\n' +
        '   3: C20E00FD000000000000000054020000:D000 B80D0120000000000000000001000000:01BB 01 00000000:00000000 00:00000000 00000000     0        0 225 1\n',
      'tcp',
      'ipv6',
    );
    expect(v6.sockets[0]).toMatchObject({ localIp: '::1', localPort: 8080, family: 'ipv6', inode: 222 });
    expect(v6.sockets[1]).toMatchObject({ localIp: '127.0.0.1', remoteIp: '127.0.0.1', remotePort: 50000 });
    expect(v6.sockets[1]!.family).toBe('ipv4');
    // a malformed line is skipped and counted
    expect(v6.skipped).toBe(1);
    expect(v6.sockets[2]).toMatchObject({ localIp: 'fd00:ec2::254', remoteIp: '2001:db8::1', remotePort: 443 });
  });

  it('decodes single addresses', () => {
    expect(decodeHexAddress('0100007F', 'ipv4')).toBe('127.0.0.1');
    expect(decodeHexAddress('00000000000000000000000000000000', 'ipv6')).toBe('::');
    expect(decodeHexAddress('0000000000000000FFFF0000FEA9FEA9', 'ipv6')).toBe('169.254.169.254');
    expect(decodeHexAddress('zz', 'ipv4')).toBeUndefined();
  });

  it('reads the real /proc/self/net/tcp of a listening socket on 127.0.0.1', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const proc = createProcFs('/proc');
      const sockets = proc.net('self', 'tcp', 'ipv4') ?? [];
      const mine = sockets.find((s) => s.localPort === port && s.state === 10);
      expect(mine?.localIp).toBe('127.0.0.1');
      // the socket maps back to this pid through /proc/<pid>/fd
      const fds = [...(proc.fds(process.pid)?.values() ?? [])].map(socketInode);
      expect(fds).toContain(mine!.inode);
    } finally {
      server.close();
    }
  });
});

describe('small records', () => {
  it('socket inode, cgroup container id, passwd', () => {
    expect(socketInode('socket:[991]')).toBe(991);
    expect(socketInode('pipe:[991]')).toBeUndefined();
    const id = 'a'.repeat(64);
    expect(containerIdFromCgroup(`12:pids:/docker/${id}\n0::/\n`)).toBe(id);
    expect(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`)).toBe(id);
    expect(containerIdFromCgroup('0::/\n')).toBeUndefined();
    const users = parsePasswd('root:x:0:0:root:/root:/bin/sh\nbad line\napp:x:1000:1000::/app:/bin/sh\n');
    expect(users.get(0)).toBe('root');
    expect(users.get(1000)).toBe('app');
  });
});

describe('createProcFs on fixtures', () => {
  const fx = new FixtureProc();
  afterAll(() => fx.cleanup());

  it('skips and counts a bad record instead of failing', () => {
    fx.add({ pid: 10, comm: 'good' });
    fx.add({ pid: 11, stat: '11 (broken' });
    const proc = createProcFs(fx.root);
    expect(proc.listPids().sort()).toEqual([10, 11]);
    expect(proc.stat(10)?.comm).toBe('good');
    expect(proc.stat(11)).toBeUndefined();
    expect(proc.skipped).toBe(1);
    expect(proc.stat(12)).toBeUndefined();
    expect(proc.skipped).toBe(1);
  });
});

describe('real hostile process names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads comm with ") (" and a newline from a live process', async () => {
    const name = 'a) (b\nc d';
    const link = join(dir, name);
    symlinkSync('/bin/sleep', link);
    const child = spawn(link, ['5'], { stdio: 'ignore' });
    try {
      const proc = createProcFs('/proc');
      const stat = await waitFor('the exec of the oddly named link', () => {
        const s = proc.stat(child.pid!);
        return s?.comm === name ? s : undefined;
      });
      expect(stat.comm).toBe(name);
      expect(stat.ppid).toBe(process.pid);
      expect(proc.cmdline(child.pid!)).toEqual([link, '5']);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
