export {
  SealwatchError,
  UsageError,
  ConfigError,
  VerificationError,
  PolicyError,
  EnvironmentError,
  OutputError,
  InternalError,
  isSealwatchError,
  errnoCode,
} from './errors.ts';
export type { ErrorArea } from './errors.ts';
