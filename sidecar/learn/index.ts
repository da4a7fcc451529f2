export { createLearner, powerOfTwo } from './learner.ts';
export type { Learner, LearnOptions } from './learner.ts';
export { profileToYaml, writeProfileFile } from './profile-yaml.ts';
