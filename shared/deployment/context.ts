import type { Logger } from '#shared/logging/logger';
import { DEPLOYMENT_RETRY_POLICY, withRetry, type RetryPolicy } from '#shared/retry/retry-policy';
import type { ArtifactStore, Clock, EndpointPredictor, ModelEventsPublisher, ResultsReader, ServingMetrics, VersionStore, VertexDeployer } from './ports';

/** Everything a deployment use case needs, injected: real adapters in functions, fakes in unit tests. */
export interface DeploymentContext {
  store: VersionStore;
  artifacts: ArtifactStore;
  vertex: VertexDeployer;
  events: ModelEventsPublisher;
  clock: Clock;
  log: Logger;
  /** Vertex region, for the container image registry */
  location: string;
  /** how long a worker owns a version it works on before others may take over */
  leaseMs: number;
  backoff?: RetryPolicy;
  /** the golden gate's predict calls; without it a canary with a golden set cannot be gated */
  predictor?: EndpointPredictor;
  /** the live analysis' results; without it a canary's analysis waits */
  results?: ResultsReader;
  /** Vertex AI's per-deployed-model request and error counts, for the error-rate check; without it that check counts ERROR results */
  metrics?: ServingMetrics;
}

/**
 * Runs a call with bounded, jittered retries of known transient errors (#shared/retry): every
 * Vertex AI call but an operation poll (its client retries none of them). Calls whose client
 * retries them already (operation polls, Firestore reads and queries, Storage lists and reads,
 * Pub/Sub publishes) are not wrapped. Wrapped although the client retries too, and why:
 * - firestore.claim / change / endpointLease / recordEndpoint / recordVertexModel: transactions,
 *   which the client gives 5 attempts; a version's transactions contend when every file of an
 *   upload fires its event at once, and these attempts wait longer (to 8 s) before the event has
 *   to be redelivered.
 * - firestore.recordTraffic: a batch commit the client retries only on RESOURCE_EXHAUSTED and
 *   UNAVAILABLE; the write is a set, so DEADLINE_EXCEEDED, ABORTED and INTERNAL are safe to retry.
 * - storage.copy: the Storage client does not retry a copy without a generation precondition;
 *   copying again is harmless (it overwrites).
 */
export function retrying<T>(ctx: DeploymentContext, what: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, {
    policy: ctx.backoff ?? DEPLOYMENT_RETRY_POLICY,
    clock: { now: () => ctx.clock.now().getTime(), sleep: (ms) => ctx.clock.sleep(ms) },
    onRetry: (err, attempt, delayMs) => ctx.log.warn('transient error, retrying', { what, attempt, delayMs, err }),
  });
}
