export { auditSeal } from './audit-seal.ts';
export type { AuditSealInput } from './audit-seal.ts';
export { claimsFromVerified, claimsUnverified } from './claims.ts';
export type { SealClaims } from './claims.ts';
export { imageStory, findingSeverity, HIGHLIGHTS, PACKAGE_MANAGERS } from './story.ts';
export type {
  ImageStory,
  SealVerdict,
  BuildStory,
  TestsStory,
  ScanStory,
  Finding,
  InventoryStory,
  ProfileStory,
  Highlight,
} from './story.ts';
export { renderStory, storyJson, verdictLine } from './render-story.ts';
export { diffStories, renderDiff } from './diff.ts';
export type { StoryDiff, Change } from './diff.ts';
export { auditImage, auditRegistryImage, storyAfterVerification } from './audit-image.ts';
export type { ImageReader } from './audit-image.ts';
export { storyCycloneDx } from './cyclonedx.ts';
