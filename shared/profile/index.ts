export {
  Profile,
  ProfileProcess,
  ProfileListen,
  ProfileEgress,
  CustomRule,
  Conditions,
  profileRules,
  profileSpec,
  isValidCidr,
} from './schema.ts';
export { mergeProfiles } from './merge.ts';
export { compileArgsPattern, testArgs, ARGS_INPUT_MAX_CHARS, ARGS_PATTERN_MAX_CHARS } from './args-pattern.ts';
export { escapeGlob, GLOB_OPTIONS } from './glob.ts';
