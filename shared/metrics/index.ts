export { bindOutputMetrics, createMetricsRegistry, scrapedCounter } from './registry.ts';
