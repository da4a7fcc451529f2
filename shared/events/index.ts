export {
  Event,
  EventKind,
  EventOutcome,
  EventProcess,
  EventProcessParent,
  EventEndpoint,
  EventNetwork,
  EventContainer,
  EventOrchestrator,
  EventUser,
  SealStatus,
  EventChain,
  EventCheckpoint,
} from './schema.ts';
export { createEvent } from './build.ts';
export type { EventInput } from './build.ts';
