import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InventoryPredicate } from './predicates.ts';

/**
 * The sealed inventory as a CycloneDX 1.6 JSON BOM, so SBOM-driven tools (scanners, dependency tracks) can read
 * what was sealed: the image as the BOM's subject (`metadata.component`, type `container`), each dpkg/apk
 * package as a `library` with its package URL, each executable as a `file` with its SHA-256 and mode. The same
 * BOM is `audit image --format cyclonedx` and, with `seal --sbom`, an in-toto statement of the seal
 * (predicate type https://cyclonedx.org/bom). Deterministic: the serial number derives from the identity.
 */
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';

/** What the seal reader checks of a BOM statement (the full check is CycloneDX's schema, in the tests). */
export const CycloneDxBomPredicate = z.looseObject({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.string(),
  components: z.array(z.looseObject({ type: z.string(), name: z.string() })).optional(),
});
export type CycloneDxBomPredicate = z.infer<typeof CycloneDxBomPredicate>;

export interface CycloneDxSubject {
  /** the image reference */
  name: string;
  /** `sha256:<hex>`: the seal's image identity */
  identity: string;
  sealedAt?: string;
  toolVersion?: string;
}

type Component = {
  type: 'library' | 'file' | 'container';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: { alg: 'SHA-256'; content: string }[];
  properties?: { name: string; value: string }[];
};

const PURL_TYPE = { dpkg: 'deb', apk: 'apk' } as const;
const PURL_NAMESPACE = { dpkg: 'debian', apk: 'alpine' } as const;

/** Percent-encoding for package URL segments (the purl spec: everything but unreserved characters). */
const purlPart = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

/** An RFC 4122 UUID (version 8, name-based) from the identity: the same seal always has the same serial number. */
function serialNumber(identity: string): string {
  const h = createHash('sha256').update(`sealwatch-cyclonedx:${identity}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function inventoryToCycloneDx(inventory: InventoryPredicate, subject: CycloneDxSubject): CycloneDxBomPredicate {
  const imageRef = `image:${subject.identity}`;
  const packages: Component[] = inventory.packages.map((p) => {
    const purl =
      `pkg:${PURL_TYPE[p.manager]}/${PURL_NAMESPACE[p.manager]}/${purlPart(p.name)}@${purlPart(p.version)}` +
      (p.arch !== undefined ? `?arch=${purlPart(p.arch)}` : '');
    return {
      type: 'library',
      'bom-ref': purl,
      name: p.name,
      version: p.version,
      purl,
      properties: [{ name: 'sealwatch:package-manager', value: p.manager }],
    };
  });
  const files: Component[] = inventory.executables.map((e) => ({
    type: 'file',
    'bom-ref': `file:${e.path}`,
    name: e.path,
    hashes: [{ alg: 'SHA-256', content: e.sha256 }],
    properties: [
      { name: 'sealwatch:mode', value: e.mode.toString(8).padStart(4, '0') },
      { name: 'sealwatch:owner', value: `${e.uid}:${e.gid}` },
      ...(e.setuid ? [{ name: 'sealwatch:setuid', value: 'true' }] : []),
      ...(e.setgid ? [{ name: 'sealwatch:setgid', value: 'true' }] : []),
    ],
  }));
  // a package named twice (dpkg status and status.d) is one component: bom-refs must be unique
  const unique = [...new Map([...packages, ...files].map((c) => [c['bom-ref'], c])).values()];
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialNumber(subject.identity),
    version: 1,
    metadata: {
      ...(subject.sealedAt !== undefined ? { timestamp: subject.sealedAt } : {}),
      tools: {
        components: [
          {
            type: 'application',
            name: 'sealwatch',
            ...(subject.toolVersion !== undefined ? { version: subject.toolVersion } : {}),
          },
        ],
      },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: subject.name,
        properties: [
          { name: 'sealwatch:identity', value: subject.identity },
          { name: 'sealwatch:files', value: String(inventory.files) },
          { name: 'sealwatch:bytes', value: String(inventory.bytes) },
        ],
      },
    },
    components: unique,
    dependencies: [{ ref: imageRef, dependsOn: unique.map((c) => c['bom-ref']) }],
  };
}
