import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createHostResolver, egressHosts, type LookupAll } from '../../sidecar/evaluate/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';
import { runCliCaptured } from '../harness/cli.ts';

describe('new setuid/setgid files (real /proc, real chmod)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a setuid file made in /tmp by the watched command is an alert naming it; a plain one is not', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-setuid-'));
    dirs.push(work);
    const events = join(work, 'events.jsonl');
    // The files go to a /tmp of its own (a mount namespace with a fresh tmpfs, unshare -rm: no root needed where
    // user namespaces are allowed; the watcher reads it through /proc/<pid>/root), so other tests' files in the
    // host's /tmp do not count. The scan pauses 400 times its own duration, and the outer shell's root is the
    // host's crowded /tmp: the command lives until the alert naming the file is written, 25 s at most (this
    // script's own command line, quoted by other alerts, holds the pattern JSON-escaped: no match).
    const inner =
      "unshare -rm sh -c 'mount -t tmpfs tmpfs /tmp && cp /bin/true /tmp/suid && cp /bin/true /tmp/plain && " +
      "chmod 4755 /tmp/suid && sleep 25'";
    const script =
      `${inner} & i=0; while [ $i -lt 100 ] && ! grep -qsF '"path":"/tmp/suid"' ${events}; do sleep 0.25; ` +
      'i=$((i+1)); done; sleep 0.5; kill $!';
    const res = await runCliCaptured(['watch', '--output', `file://${events}`, '--', 'sh', '-c', script], {
      cwd: work,
    });
    expect(res.code, res.stderr).toBe(0);
    const alerts = (existsSync(events) ? readFileSync(events, 'utf8').trim().split('\n') : [])
      .map((l) => JSON.parse(l) as Event)
      .filter((e) => e.rule?.id === 'setuid-file-created');
    expect(alerts.map((e) => e.file?.path)).toEqual(['/tmp/suid']);
    expect(alerts[0]!.sealwatch.details?.mode).toBe('4755');
  }, 30_000);
});

describe('host-name egress entries, resolved through the system resolver', () => {
  it('resolves the profile host names (localhost from /etc/hosts) into a live map', async () => {
    const profile = profileSpec.schema.parse({
      apiVersion: 'sealwatch.dev/v1',
      kind: 'Profile',
      network: { egress: [{ host: 'localhost', ports: [5432] }, { cidr: '10.0.0.0/8' }, { host: 'localhost' }] },
    });
    expect(egressHosts(profile)).toEqual(['localhost']);
    const resolver = createHostResolver({ hosts: egressHosts(profile), logger: silentLogger() });
    const live = resolver.resolved;
    expect(live.get('localhost')).toBeUndefined();
    await resolver.refresh();
    expect(live.get('localhost')).toContain('127.0.0.1');
  });

  it('a failed refresh keeps the last known addresses; a later answer replaces them', async () => {
    // fake-flaky-lookup: the only way to make a resolver fail on cue without leaving the machine
    const answers: (string[] | Error)[] = [['127.0.0.7'], new Error('EAI_AGAIN'), ['127.0.0.8', '::1']];
    const fakeFlakyLookup: LookupAll = (host) => {
      expect(host).toBe('db.internal');
      const next = answers.shift()!;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    };
    const resolver = createHostResolver({ hosts: ['db.internal'], logger: silentLogger(), lookup: fakeFlakyLookup });
    await resolver.refresh();
    expect(resolver.resolved.get('db.internal')).toEqual(['127.0.0.7']);
    await resolver.refresh();
    expect(resolver.resolved.get('db.internal')).toEqual(['127.0.0.7']);
    await resolver.refresh();
    expect(resolver.resolved.get('db.internal')).toEqual(['127.0.0.8', '::1']);
  });
});
