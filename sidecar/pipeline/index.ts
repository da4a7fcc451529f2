export { buildPipeline } from './pipeline.ts';
export type { Pipeline, PipelineDeps, WatchMode } from './pipeline.ts';
export { EXEC_TICK_MS, runLoop } from './loop.ts';
export type { LoopOptions } from './loop.ts';
export { MODES } from './modes.ts';
export type { EngineEvents, ModeName, ModeSources, SourceParts } from './modes.ts';
export { sumCounts, watchStatus } from './status.ts';
export type { StatusCounts, StatusInput, WatchStatus } from './status.ts';
export type { Target } from './target.ts';
