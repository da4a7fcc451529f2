import { Counter, Histogram, type Registry } from 'prom-client';
import { bindOutputMetrics, createMetricsRegistry, scrapedCounter } from '../shared/metrics/index.ts';
import type { SinkStats } from '../shared/outputs/index.ts';

export type Webhook = 'validate' | 'mutate';
/** allowed, denied; error: the check itself failed (refused with the reason); invalid: not an AdmissionReview. */
export type Decision = 'allowed' | 'denied' | 'error' | 'invalid';

const WEBHOOKS: readonly Webhook[] = ['validate', 'mutate'];
const DECISIONS: readonly Decision[] = ['allowed', 'denied', 'error', 'invalid'];

/**
 * The webhook's /metrics: reviews answered by webhook and decision, how long each answer took, image checks
 * served by the registry or the verdict cache, registry errors, its outputs' delivery, and the process metrics.
 * deploy/prometheus/ alerts on them.
 */
export interface AdmissionMetrics {
  readonly registry: Registry;
  review(webhook: Webhook, decision: Decision, seconds: number): void;
}

export function createAdmissionMetrics(options: {
  version: string;
  verifier: { readonly stats: { readonly cold: number; readonly cached: number; readonly errors: number } };
  outputs: () => readonly SinkStats[];
}): AdmissionMetrics {
  const registry = createMetricsRegistry('webhook', options.version);
  const registers = [registry];
  const reviews = new Counter({
    name: 'sealwatch_admission_reviews_total',
    help: 'AdmissionReviews answered, by webhook (validate, mutate) and decision (allowed, denied, error: the check failed and refused, invalid: not an AdmissionReview)',
    labelNames: ['webhook', 'decision'],
    registers,
  });
  // every series from the start, at 0: an alert on errors needs the series before the first error
  for (const webhook of WEBHOOKS) for (const decision of DECISIONS) reviews.inc({ webhook, decision }, 0);
  const duration = new Histogram({
    name: 'sealwatch_admission_review_duration_seconds',
    help: 'time from a review read to its answer written (the API server waits for it: timeoutSeconds)',
    labelNames: ['webhook'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  for (const webhook of WEBHOOKS) duration.zero({ webhook });
  const stats = options.verifier.stats;
  scrapedCounter(
    registry,
    'sealwatch_admission_image_checks_total',
    'image seal checks, by where the verdict came from (registry: read and verified, cache: a verdict kept by digest)',
    () => ({ registry: stats.cold, cache: stats.cached }),
    'source',
  );
  scrapedCounter(
    registry,
    'sealwatch_admission_registry_errors_total',
    'registry reads that failed (unreachable, timed out, refused): enforce mode refused the image (unless onRegistryError is allow), audit mode warned',
    () => stats.errors,
  );
  bindOutputMetrics(registry, options.outputs);
  return {
    registry,
    review(webhook, decision, seconds) {
      reviews.inc({ webhook, decision });
      duration.observe({ webhook }, seconds);
    },
  };
}
