export { createLearner, powerOfTwo } from './learner.ts';
export type { Learner, LearnOptions } from './learner.ts';
export { profileToYaml, writeProfileFile } from './profile-yaml.ts';
export { createTraceRecorder } from './trace-recorder.ts';
export type { TraceRecorder } from './trace-recorder.ts';
export { writeRuntimeTraceFile } from './runtime-trace-file.ts';
