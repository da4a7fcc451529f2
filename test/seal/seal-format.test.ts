import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../shared/errors/index.ts';
import { computeImageIdentity, identityMaterial } from '../../shared/image/index.ts';
import {
  PREDICATE,
  createSeal,
  makeStatement,
  parseSealJsonl,
  readSealFromRootfs,
  sealSubject,
  verifySeal,
  type ProfilePredicate,
} from '../../shared/seal/index.ts';
import { makeKeyFiles } from './helpers.ts';

interface BundleJson {
  mediaType: string;
  verificationMaterial: { publicKey: { hint: string } };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
}

const material = identityMaterial(['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)], {
  User: 'app',
  Entrypoint: ['/bin/app'],
  Env: ['PATH=/bin'],
});
const identity = computeImageIdentity(material);

function sampleSeal(key = makeKeyFiles().key) {
  const subject = sealSubject(identity, 'app:1.0');
  const profile: ProfilePredicate = {
    sources: ['declared'],
    profile: {
      apiVersion: 'sealwatch.dev/v1',
      kind: 'Profile',
      metadata: { name: 'ünïcode app' },
      processes: [{ exe: '/bin/app' }],
      network: { listen: [{ port: 8080, protocol: 'tcp' }], egress: [] },
      resources: {},
      rules: { disable: [], custom: [] },
    },
  };
  const statements = [
    makeStatement(subject, PREDICATE.profile, profile),
    makeStatement(subject, PREDICATE.sarifSummary, {
      report: { name: 'semgrep.sarif', digest: { sha256: 'c'.repeat(64) } },
      tool: { name: 'semgrep', version: '1.0' },
      runs: 1,
      results: { error: 1, warning: 0, note: 0, none: 0 },
      rules: [{ id: 'x', level: 'error', count: 1 }],
    }),
  ];
  return createSeal({
    subject,
    statements,
    image: material,
    sealedAt: '2026-11-26T00:00:00Z',
    toolVersion: '0.1.0',
    key,
  });
}

function expectVerificationError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    return;
  }
  throw new Error(`expected VerificationError ${code}`);
}

describe('seal format: create, parse, verify', () => {
  it('verifies a fresh seal and returns typed statements', () => {
    const keys = makeKeyFiles();
    const seal = sampleSeal(keys.key);
    const verified = verifySeal(parseSealJsonl(seal.jsonl, 'seal.jsonl'), {
      trustedKeys: [keys.pubPem],
      expectedIdentity: identity,
    });
    expect(verified.identity).toBe(identity);
    expect(verified.keyHint).toBe(keys.key.keyHint);
    expect(verified.profile?.predicate.profile.metadata.name).toBe('ünïcode app');
    expect(verified.sarif[0]?.predicate.results.error).toBe(1);
    expect(verified.manifest.predicate.statements).toHaveLength(2);
    expect(verified.manifest.predicate.image).toEqual(material);
  });

  it('accepts Ed25519 keys', () => {
    const keys = makeKeyFiles('ed25519');
    const seal = sampleSeal(keys.key);
    expect(verifySeal(parseSealJsonl(seal.jsonl, 's'), { trustedKeys: [keys.pubPem] }).keyHint).toBe(keys.key.keyHint);
  });

  it('rejects one changed byte of a statement', () => {
    const keys = makeKeyFiles();
    const lines = sampleSeal(keys.key).jsonl.trimEnd().split('\n');
    const bundle = JSON.parse(lines[0]!) as BundleJson;
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const at = payload.indexOf('8080');
    payload[at] = '9'.charCodeAt(0);
    bundle.dsseEnvelope.payload = payload.toString('base64');
    lines[0] = JSON.stringify(bundle);
    expectVerificationError(
      () => verifySeal(parseSealJsonl(lines.join('\n'), 'seal.jsonl'), { trustedKeys: [keys.pubPem] }),
      'BAD_SIGNATURE',
      /^seal\.jsonl line 1: DSSE signature does not verify/,
    );
  });

  it('rejects a removed statement', () => {
    const keys = makeKeyFiles();
    const lines = sampleSeal(keys.key).jsonl.trimEnd().split('\n');
    lines.splice(1, 1);
    expectVerificationError(
      () => verifySeal(parseSealJsonl(lines.join('\n'), 'seal.jsonl'), { trustedKeys: [keys.pubPem] }),
      'STATEMENT_MISSING',
      /sarif-summary\/v1 statement .* not in the seal/,
    );
    expectVerificationError(
      () => verifySeal(parseSealJsonl(lines.slice(0, 1).join('\n'), 'seal.jsonl'), { trustedKeys: [keys.pubPem] }),
      'STATEMENT_MISSING',
      /no seal manifest/,
    );
  });

  it('rejects a statement signed by a key not in the trusted set', () => {
    const signer = makeKeyFiles();
    const other = makeKeyFiles();
    expectVerificationError(
      () => verifySeal(parseSealJsonl(sampleSeal(signer.key).jsonl, 'seal.jsonl'), { trustedKeys: [other.pubPem] }),
      'UNTRUSTED_KEY',
      new RegExp(`signed by key ${signer.key.keyHint.replace(/[+/]/g, '.')}, which is not a trusted key`),
    );
  });

  it('rejects a truncated file, naming the line', () => {
    const keys = makeKeyFiles();
    const text = sampleSeal(keys.key).jsonl;
    const truncated = text.slice(0, text.length - 40);
    expectVerificationError(
      () => verifySeal(parseSealJsonl(truncated, 'seal.jsonl'), { trustedKeys: [keys.pubPem] }),
      'BUNDLE_INVALID',
      /^seal\.jsonl line 3: truncated JSON/,
    );
  });

  it('rejects a seal about another image', () => {
    const keys = makeKeyFiles();
    expectVerificationError(
      () =>
        verifySeal(parseSealJsonl(sampleSeal(keys.key).jsonl, 'seal.jsonl'), {
          trustedKeys: [keys.pubPem],
          expectedIdentity: 'sha256:' + '0'.repeat(64),
        }),
      'SUBJECT_MISMATCH',
      /the seal is about image sha256:[0-9a-f]{64}, but this image is sha256:0{64}/,
    );
  });

  it('reads a seal from a rootfs and says UNSEALED when there is none', () => {
    const keys = makeKeyFiles();
    mkdirSync(join(keys.dir, 'root/.sealwatch'), { recursive: true });
    writeFileSync(join(keys.dir, 'root/.sealwatch/seal.jsonl'), sampleSeal(keys.key).jsonl);
    expect(verifySeal(readSealFromRootfs(join(keys.dir, 'root')), { trustedKeys: [keys.pubPem] }).identity).toBe(
      identity,
    );
    expectVerificationError(() => readSealFromRootfs(join(keys.dir, 'nothing')), 'UNSEALED', /no seal/);
  });

  it('parses tolerantly: good lines kept, bad lines counted with their numbers', () => {
    const keys = makeKeyFiles();
    const lines = sampleSeal(keys.key).jsonl.trimEnd().split('\n');
    const parsed = parseSealJsonl([lines[0], '', '{"x":1}', 'garbage', lines[1]].join('\n') + '\n', 's');
    expect(parsed.bundles.map((b) => b.line)).toEqual([1, 5]);
    expect(parsed.invalid.map((i) => i.line)).toEqual([3, 4]);
    expect(parsed.invalid[1]?.reason).toBe('not JSON');
  });
});

describe('signatures verify independently with openssl', () => {
  for (const algorithm of ['ecdsa-p256', 'ed25519'] as const) {
    it(`${algorithm}: rebuilt DSSE PAE verifies with openssl`, () => {
      const keys = makeKeyFiles(algorithm);
      const bundle = JSON.parse(sampleSeal(keys.key).jsonl.split('\n')[0]!) as BundleJson;
      expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(bundle.verificationMaterial.publicKey.hint).toBe(keys.key.keyHint);
      const type: string = bundle.dsseEnvelope.payloadType;
      const body = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
      // DSSE v1 PAE, written out by hand from the spec (not with the library we test).
      const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
      const paePath = join(keys.dir, 'pae.bin');
      const sigPath = join(keys.dir, 'sig.bin');
      writeFileSync(paePath, pae);
      writeFileSync(sigPath, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'));
      const args =
        algorithm === 'ed25519'
          ? ['pkeyutl', '-verify', '-pubin', '-inkey', keys.pubPath, '-rawin', '-in', paePath, '-sigfile', sigPath]
          : ['dgst', '-sha256', '-verify', keys.pubPath, '-signature', sigPath, paePath];
      expect(execFileSync('openssl', args, { encoding: 'utf8' })).toMatch(
        /Verified OK|Signature Verified Successfully/,
      );
      pae[pae.length - 2] = pae[pae.length - 2]! ^ 1;
      writeFileSync(paePath, pae);
      expect(() => execFileSync('openssl', args, { stdio: 'pipe' })).toThrow();
    });
  }
});
