import type { Command } from 'commander';
import type { CommandIo } from '../io.ts';
import { registerAdmission } from './admission.ts';
import { registerAudit } from './audit.ts';
import { registerCompletion } from './completion.ts';
import { registerDoctor } from './doctor.ts';
import { registerKeygen } from './keygen.ts';
import { registerLearn } from './learn.ts';
import { registerPolicy } from './policy.ts';
import { registerProfile } from './profile.ts';
import { registerSeal } from './seal.ts';
import { registerSendTest } from './send-test.ts';
import { registerVerify } from './verify.ts';
import { registerWatch } from './watch.ts';

/** Every command, one register function each; a new command adds one line here. */
export const COMMANDS: ReadonlyArray<(program: Command, io: CommandIo) => void> = [
  registerKeygen,
  registerProfile,
  registerAudit,
  registerPolicy,
  registerSeal,
  registerVerify,
  registerWatch,
  registerLearn,
  registerSendTest,
  registerDoctor,
  registerAdmission,
  registerCompletion,
];
