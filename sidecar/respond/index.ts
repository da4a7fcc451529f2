export { createAggregator, alertKey } from './aggregator.ts';
export type { Aggregator } from './aggregator.ts';
export { createKiller } from './killer.ts';
export type { Killer, KillResult } from './killer.ts';
export { createResponder } from './responder.ts';
export type { Responder, ResponderOptions } from './responder.ts';
export { stopTarget, stopTargetEvent } from './stop-target.ts';
export type { StopTargetInput } from './stop-target.ts';
