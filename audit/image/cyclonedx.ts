import { inventoryToCycloneDx, type CycloneDxBomPredicate } from '../../shared/seal/index.ts';
import type { ImageStory } from './story.ts';

/**
 * `audit image --format cyclonedx`: the BOM the seal signed (`seal --sbom`), else the same BOM built from the
 * sealed inventory. Undefined when the seal holds no inventory. Use only from a verified story.
 */
export function storyCycloneDx(story: ImageStory): CycloneDxBomPredicate | undefined {
  const claims = story.claims;
  if (claims?.sbom) return claims.sbom;
  if (!claims?.inventory || story.identity === undefined) return undefined;
  return inventoryToCycloneDx(claims.inventory, {
    name: claims.subjectName ?? story.ref,
    identity: story.identity,
    ...(claims.manifest ? { sealedAt: claims.manifest.sealedAt, toolVersion: claims.manifest.tool.version } : {}),
  });
}
