import { describe, expect, it } from 'vitest';
import { auditSeal, diffStories, renderDiff, renderStory } from '../../audit/image/index.ts';
import { parseSealJsonl } from '../../shared/seal/index.ts';
import { BUILD_A, BUILD_B, sealFor, testKey } from './seal-fixture.ts';

const { key, publicPem } = testKey();
const a = sealFor(BUILD_A, key);
const b = sealFor(BUILD_B, key, [`sha256:${'b'.repeat(64)}`]);

describe('audit image story (seals made by the real signing code)', () => {
  it('a verified seal tells the whole story, verdict first, nothing marked unverified', () => {
    const story = auditSeal({ ref: 'app:1', seal: a.seal, trustedKeys: [publicPem], expectedIdentity: a.identity });
    expect(story.verified).toBe(true);
    const text = renderStory(story);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`seal: VERIFIED (key ${key.keyHint}, identity ${a.identity})`);
    expect(text).not.toContain('[unverified]');
    expect(text).toContain(
      'build: from https://github.com/org/app@3f2c1a0000000000000000000000000000000001 (refs/heads/main), by https://github.com/actions/runner, run https://github.com/org/app/actions/runs/811',
    );
    expect(text).toContain('tests: FAILED: 212 tests in 2 suite(s): 211 passed, 1 failed, 0 errored, 0 skipped');
    expect(text).toContain('security suites: none');
    expect(text).toContain(
      'scan: https://github.com/aquasecurity/trivy 0.50.0: 1 critical, 0 high, 1 medium, 0 low, 0 unknown',
    );
    expect(text).toContain('top findings: CVE-2024-0001 (critical, openssl); CVE-2024-0002 (medium, zlib)');
    expect(text).toContain('sshd: PRESENT; ssh: absent; telnetd: absent; telnet: absent; nc: PRESENT');
    expect(text).toContain('sshd at /usr/sbin/sshd');
    expect(text).toContain('nc at /bin/nc -> /bin/busybox');
    expect(text).toContain('setuid: /usr/bin/passwd; setgid: none');
    expect(text).toContain('listens: 8080/tcp');
  });

  it('a tampered statement makes the first line say so; every claim after it is marked unverified', () => {
    const lines = a.jsonl.trimEnd().split('\n');
    const bundle = JSON.parse(lines[0]!) as { dsseEnvelope: { payload: string } };
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8').replace('runs/811', 'runs/999');
    bundle.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
    lines[0] = JSON.stringify(bundle);
    const tampered = parseSealJsonl(`${lines.join('\n')}\n`, 'tampered seal');
    const story = auditSeal({ ref: 'app:1', seal: tampered, trustedKeys: [publicPem], expectedIdentity: a.identity });
    expect(story.verified).toBe(false);
    const out = renderStory(story).trimEnd().split('\n');
    expect(out[0]).toMatch(/^seal: INVALID: tampered seal line 1: .*; every claim below is UNVERIFIED$/);
    expect(out[1]).toBe('image: app:1');
    for (const line of out.slice(2)) expect(line.startsWith('[unverified] ')).toBe(true);
    // the claims are still shown (what the seal says), never as verified
    expect(out.join('\n')).toContain(
      '[unverified] build: from https://github.com/org/app@3f2c1a0000000000000000000000000000000001',
    );
    expect(out.join('\n')).toContain('runs/999');
  });

  it('an untrusted key, a seal moved to another image, and no seal are each said first in one line', () => {
    const other = testKey();
    const untrusted = renderStory(auditSeal({ ref: 'app:1', seal: a.seal, trustedKeys: [other.publicPem] }));
    expect(untrusted.split('\n')[0]).toMatch(/^seal: INVALID: .*key/);
    const moved = renderStory(
      auditSeal({ ref: 'app:1', seal: a.seal, trustedKeys: [publicPem], expectedIdentity: b.identity }),
    );
    expect(moved.split('\n')[0]).toContain(`the seal is about image ${a.identity}, but this image is ${b.identity}`);
    const none = renderStory(
      auditSeal({
        ref: 'plain:1',
        seal: undefined,
        unsealedReason: 'plain:1: no dev.sealwatch.seal label',
        trustedKeys: [publicPem],
      }),
    );
    expect(none).toBe('seal: UNSEALED: plain:1: no dev.sealwatch.seal label\nimage: plain:1\n');
  });

  it('diff of two builds: sshd removed, security suite added, critical fixed, new port', () => {
    const sa = auditSeal({ ref: 'app:1', seal: a.seal, trustedKeys: [publicPem] });
    const sb = auditSeal({ ref: 'app:2', seal: b.seal, trustedKeys: [publicPem] });
    const diff = diffStories(sa, sb);
    expect(diff.verified).toBe(true);
    const text = renderDiff(diff);
    expect(text.split('\n').slice(0, 2)).toEqual(['A app:1: seal VERIFIED', 'B app:2: seal VERIFIED']);
    expect(text).not.toContain('[unverified]');
    expect(text).toContain(
      'source: https://github.com/org/app@3f2c1a0000000000000000000000000000000001 → https://github.com/org/app@3f2c1a0000000000000000000000000000000002',
    );
    expect(text).toContain('sshd: present → absent (REMOVED)');
    expect(text).toContain('tests: 212 (1 failed) → 222 (0 failed)');
    expect(text).toContain('test suite added: security-sast');
    expect(text).toContain('security suite added: security-sast');
    expect(text).toContain('test suite fixed: integration');
    expect(text).toContain('vulnerability fixed: CVE-2024-0001 (critical, openssl)');
    expect(text).not.toContain('vulnerability introduced');
    expect(text).toContain('executable removed: /usr/sbin/sshd');
    expect(text).toContain('package removed: dpkg:openssh-server');
    expect(text).toContain('setuid removed: /usr/bin/passwd');
    expect(text).toContain('profile listen added: 9090/tcp');
    // reversed: everything flips
    const back = renderDiff(diffStories(sb, sa));
    expect(back).toContain('sshd: absent → present (ADDED)');
    expect(back).toContain('vulnerability introduced: CVE-2024-0001 (critical, openssl)');
    expect(back).toContain('security suite removed: security-sast');
    expect(back).toContain('test suite newly failing: integration');
  });

  it('a diff with one unverified side marks every change line', () => {
    const sa = auditSeal({ ref: 'app:1', seal: a.seal, trustedKeys: [publicPem] });
    const sb = auditSeal({ ref: 'app:2', seal: b.seal, trustedKeys: [testKey().publicPem] });
    const lines = renderDiff(diffStories(sa, sb)).trimEnd().split('\n');
    expect(lines[1]).toMatch(/^B app:2: seal INVALID: /);
    for (const line of lines.slice(2)) expect(line.startsWith('[unverified] ')).toBe(true);
  });

  it('hostile strings in a seal cannot drive the terminal', () => {
    const evil = sealFor(
      {
        ...BUILD_A,
        executables: ['/bin/\u001b[2Jevil'],
        suites: [{ name: 'x\r\nseal: VERIFIED', tests: 1, failed: 0 }],
      },
      key,
    );
    const text = renderStory(auditSeal({ ref: 'app:1', seal: evil.seal, trustedKeys: [publicPem] }));
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\r');
    expect(text.split('\n').filter((l) => l.startsWith('seal:'))).toHaveLength(1);
  });
});
