export {
  Profile,
  ProfileProcess,
  ProfileListen,
  ProfileEgress,
  CustomRule,
  profileRules,
  profileSpec,
  isValidCidr,
} from './schema.ts';
export { mergeProfiles } from './merge.ts';
