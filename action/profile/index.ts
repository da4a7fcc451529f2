export { loadProfiles, buildProfilePredicate } from './build-profile.ts';
export type { ProfileFiles } from './build-profile.ts';
