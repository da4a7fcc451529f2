export { canonicalFormOf, createRecorder, RECORD_DEFAULTS } from './recorder.ts';
export type { Recorder, RecordOptions } from './recorder.ts';
export { canonicalLineHash, hex64At, recordHash, ZERO_HASH } from './digest.ts';
export {
  CHECKPOINT_ACTION,
  CHECKPOINT_PREDICATE,
  CheckpointPredicate,
  CheckpointStatement,
  IN_TOTO_STATEMENT,
  runSubject,
} from './checkpoint.ts';
