import type { Rule } from '../../rule.ts';
import { cronWrite, executableWritten, sensitiveFileOpen, setuidFile, writeBelowSystemDir } from './file-rules.ts';
import { cloudMetadata, kubernetesApi, miningPool } from './network-rules.ts';
import {
  cronActivity,
  cryptoMinerProcess,
  execDeleted,
  execFromTmp,
  kubectlRun,
  networkTool,
  packageManager,
  privilegeToRoot,
  ptraceAttach,
  remoteCopy,
  reverseShell,
  shellSpawnedByNonShell,
  sshdRunning,
  terminalShell,
} from './process-rules.ts';
import { sealInvalid, sealUnsealed } from './seal-rules.ts';

/** The built-in catalog; docs/rules.md is generated from this list. */
export const BUILTIN_RULES: readonly Rule[] = [
  shellSpawnedByNonShell,
  terminalShell,
  reverseShell,
  packageManager,
  networkTool,
  remoteCopy,
  execFromTmp,
  execDeleted,
  privilegeToRoot,
  ptraceAttach,
  cryptoMinerProcess,
  miningPool,
  cloudMetadata,
  kubernetesApi,
  kubectlRun,
  sensitiveFileOpen,
  writeBelowSystemDir,
  setuidFile,
  executableWritten,
  sshdRunning,
  cronActivity,
  cronWrite,
  sealUnsealed,
  sealInvalid,
];
