export { runHostAgent } from './host-agent.ts';
export type { HostAgent, HostAgentDeps, HostAgentOptions, HostAgentStatus } from './host-agent.ts';
export { runHostLearn } from './host-learn.ts';
export type { HostLearnDeps, HostLearnOptions, HostLearnResult } from './host-learn.ts';
