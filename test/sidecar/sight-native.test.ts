import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IN, loadSightNative, type PollHandle, type SightNative } from '../../sidecar/sources/sight/native.ts';
import { parseInotifyEvents, type InotifyEvent } from '../../sidecar/sources/sight/inotify-events.ts';
import { waitFor } from '../harness/wait.ts';

// The addon against the real kernel: each call does what sight-files and sight-net rely on.
const load = loadSightNative();
if (!load.ok) throw new Error(`sight addon: ${load.reason}`);
const native: SightNative = load.native;

let dir: string;
const cleanups: (() => void)[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sight-native-'));
});
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inotify(): { fd: number; events: InotifyEvent[]; poll: PollHandle } {
  const fd = native.inotifyInit();
  expect(fd).toBeGreaterThan(2);
  const events: InotifyEvent[] = [];
  const poll = native.pollFd(fd, (error, chunk) => {
    if (error) throw error;
    events.push(...parseInotifyEvents(chunk!).events);
  });
  cleanups.push(() => {
    poll.close();
    native.closeFd(fd);
  });
  return { fd, events, poll };
}

describe('sight addon: inotify', () => {
  it('IN_OPEN fires for an open of the watched file (and an exec of it), not for another file', async () => {
    const file = join(dir, 'watched');
    const other = join(dir, 'other');
    writeFileSync(file, '#!/bin/sh\ntrue\n', { mode: 0o755 });
    writeFileSync(other, 'x');
    const { fd, events } = inotify();
    const wd = native.inotifyAddWatch(fd, file, IN.OPEN);
    expect(wd).toBeGreaterThan(0);
    closeSync(openSync(other, 'r'));
    execFileSync(file);
    await waitFor('IN_OPEN of the executed file', () => events.some((e) => e.wd === wd && e.mask & IN.OPEN));
    expect(events.every((e) => e.wd === wd)).toBe(true);
  });

  it('a directory watch names the created entry by its raw bytes (not UTF-8, a newline inside)', async () => {
    const watched = join(dir, 'drop');
    mkdirSync(watched);
    const { fd, events } = inotify();
    const wd = native.inotifyAddWatch(fd, watched, IN.CREATE | IN.CLOSE_WRITE);
    expect(wd).toBeGreaterThan(0);
    const name = Buffer.from([0x61, 0x0a, 0xff, 0x62]);
    writeFileSync(Buffer.concat([Buffer.from(`${watched}/`), name]), 'payload');
    await waitFor('IN_CLOSE_WRITE', () => events.some((e) => e.mask & IN.CLOSE_WRITE));
    expect(events.find((e) => e.mask & IN.CREATE)?.name).toEqual(name);
  });

  it('a Buffer path is raw bytes; an embedded NUL or a missing file is -errno, not a throw', () => {
    const odd = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xfe, 0x0a])]);
    writeFileSync(odd, 'x');
    const { fd } = inotify();
    expect(native.inotifyAddWatch(fd, odd, IN.OPEN)).toBeGreaterThan(0);
    expect(native.inotifyAddWatch(fd, Buffer.from(`${dir}/a\0b`), IN.OPEN)).toBe(-22); // EINVAL
    expect(native.inotifyAddWatch(fd, `${dir}/missing`, IN.OPEN)).toBe(-2); // ENOENT
    expect(() => native.inotifyAddWatch(fd, 42 as unknown as string, IN.OPEN)).toThrow(TypeError);
  });

  it('inotifyRmWatch ends a watch (IN_IGNORED), a second time is -EINVAL', async () => {
    const file = join(dir, 'rm');
    writeFileSync(file, 'x');
    const { fd, events } = inotify();
    const wd = native.inotifyAddWatch(fd, file, IN.OPEN);
    expect(native.inotifyRmWatch(fd, wd)).toBe(0);
    await waitFor('IN_IGNORED', () => events.some((e) => e.wd === wd && e.mask & IN.IGNORED));
    expect(native.inotifyRmWatch(fd, wd)).toBe(-22);
  });

  it('inotifyAddWatchInRoot resolves links and .. inside the root, never to our own files', async () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/hostname'), 'inside');
    // absolute and climbing links: resolved inside `root`, as the root's own processes see them
    symlinkSync('/etc/hostname', join(root, 'etc/abs'));
    symlinkSync('../../../../../etc/hostname', join(root, 'etc/climb'));
    const { fd, events } = inotify();
    const inside = native.inotifyAddWatchInRoot(fd, root, '/etc/hostname', IN.OPEN);
    expect(inside).toBeGreaterThan(0);
    // the same inode, so the same watch descriptor: neither link reached the host's /etc/hostname
    expect(native.inotifyAddWatchInRoot(fd, root, '/etc/abs', IN.OPEN)).toBe(inside);
    expect(native.inotifyAddWatchInRoot(fd, root, 'etc/climb', IN.OPEN)).toBe(inside);
    expect(native.inotifyAddWatchInRoot(fd, root, '/etc/missing', IN.OPEN)).toBe(-2);
    readFileSync('/etc/hostname');
    readFileSync(join(root, 'etc/hostname'));
    await waitFor('IN_OPEN inside the root', () => events.some((e) => e.wd === inside));
    expect(new Set(events.map((e) => e.wd))).toEqual(new Set([inside]));
  });

  it('after close() of the poll no callback runs, even with events queued', async () => {
    const file = join(dir, 'closed');
    writeFileSync(file, 'x');
    const fd = native.inotifyInit();
    let calls = 0;
    const poll = native.pollFd(fd, () => void calls++);
    native.inotifyAddWatch(fd, file, IN.OPEN);
    readFileSync(file);
    await waitFor('a first callback', () => calls > 0);
    poll.close();
    poll.close(); // twice is harmless
    const seen = calls;
    readFileSync(file);
    // a later, independent poll on the same queue proves the event was there to read
    const events: InotifyEvent[] = [];
    const again = native.pollFd(fd, (_e, chunk) => events.push(...parseInotifyEvents(chunk!).events));
    await waitFor('the queued event, read by the second poll', () => events.length > 0);
    again.close();
    expect(native.closeFd(fd)).toBe(0);
    expect(calls).toBe(seen);
  });
});

/** One TCP connection to a listener on 127.0.0.1, closed at once (run in whatever netns `run` puts it). */
const CONNECT_ONCE = `
const net = require('net');
const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const c = net.connect(port, '127.0.0.1', () => c.end());
  c.on('close', () => { server.close(); console.log(port); });
});`;

/** sock_diag destroy messages: nlmsghdr (type SOCK_DIAG_BY_FAMILY = 20) + inet_diag_msg; the ports of each. */
function destroyedPorts(chunk: Buffer): number[] {
  const ports: number[] = [];
  for (let off = 0; off + 16 <= chunk.length;) {
    const len = chunk.readUInt32LE(off);
    if (len < 16 || off + len > chunk.length) break;
    if (chunk.readUInt16LE(off + 4) === 20 && len >= 16 + 8) {
      ports.push(chunk.readUInt16BE(off + 16 + 4), chunk.readUInt16BE(off + 16 + 6));
    }
    off += (len + 3) & ~3;
  }
  return ports;
}

describe('sight addon: sockDiagDestroy', () => {
  function listen(fd: number): number[] {
    expect(fd).toBeGreaterThan(2);
    const ports: number[] = [];
    const poll = native.pollFd(fd, (error, chunk) => {
      if (error) throw error;
      ports.push(...destroyedPorts(chunk!));
    });
    cleanups.push(() => {
      poll.close();
      native.closeFd(fd);
    });
    return ports;
  }

  it('in our own namespace (null): a closed loopback connection is reported with its ports', async () => {
    const ports = listen(native.sockDiagDestroy(null));
    const server = createServer((s) => s.end()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      const c = connect(port, '127.0.0.1', () => c.end());
      c.on('close', () => resolve());
    });
    server.close();
    await waitFor(`a destroy message for port ${port}`, () => ports.includes(port));
  });

  it("in another network namespace (setns): sees that namespace's connections, not ours", async () => {
    const holder = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec sleep 60'], { stdio: 'ignore' });
    cleanups.push(() => holder.kill('SIGKILL'));
    const netns = `/proc/${holder.pid}/ns/net`;
    await waitFor('the new namespace', () => {
      const link = execFileSync('readlink', [netns]).toString();
      return link !== execFileSync('readlink', ['/proc/self/ns/net']).toString() && link;
    });
    await waitFor('loopback up in the namespace', () => {
      const out = execFileSync('nsenter', [
        '-t',
        String(holder.pid),
        '-n',
        'ip',
        '-o',
        'link',
        'show',
        'lo',
      ]).toString();
      return out.includes('UP') || out.includes('UNKNOWN');
    });
    const ports = listen(native.sockDiagDestroy(netns));
    const port = Number(
      execFileSync('nsenter', ['-t', String(holder.pid), '-n', process.execPath, '-e', CONNECT_ONCE])
        .toString()
        .trim(),
    );
    await waitFor(`the namespace's connection (port ${port})`, () => ports.includes(port));
    // a connection in our own namespace is not in that namespace's stream
    const ourPort = Number(execFileSync(process.execPath, ['-e', CONNECT_ONCE]).toString().trim());
    const mine = listen(native.sockDiagDestroy(null));
    const again = Number(execFileSync(process.execPath, ['-e', CONNECT_ONCE]).toString().trim());
    await waitFor('our own connection in our own stream', () => mine.includes(again));
    expect(ports).not.toContain(ourPort);
    expect(ports).not.toContain(again);
  });

  it('a path that is not a network namespace, or missing, is -errno', () => {
    expect(native.sockDiagDestroy(join(dir, 'nope'))).toBe(-2); // ENOENT
    writeFileSync(join(dir, 'plain'), 'x');
    expect(native.sockDiagDestroy(join(dir, 'plain'))).toBe(-22); // EINVAL from setns
  });
});
