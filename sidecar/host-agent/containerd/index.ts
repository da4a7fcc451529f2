export { readBundle, readSmallFile, IDENTIFIER, LIMITS, OciSpec, TASK_DIR } from './bundle.ts';
export type { BundleContainer, BundleRead } from './bundle.ts';
export { createContainerdFollower } from './follower.ts';
export type {
  ContainerdFollower,
  ContainerdFollowerEvents,
  ContainerdFollowerOptions,
  ContainerdFollowerStats,
} from './follower.ts';
export { containerdIdentity, containerdStateDir, pingContainerd } from './runtime.ts';
