import type { Logger } from '#shared/logging/logger';
import { DEFAULT_BACKOFF, withRetry, type BackoffPolicy } from './core/retry-policy';
import type { ArtifactStore, Clock, EndpointPredictor, ModelEventsPublisher, ResultsReader, VersionStore, VertexDeployer } from './ports';

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
  backoff?: BackoffPolicy;
  /** the golden gate's predict calls; without it a canary with a golden set cannot be gated */
  predictor?: EndpointPredictor;
  /** the live analysis' results; without it a canary's analysis waits */
  results?: ResultsReader;
}

/** Runs a call to Vertex AI or Firestore with bounded, jittered retries of transient errors. */
export function retrying<T>(ctx: DeploymentContext, what: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, {
    policy: ctx.backoff ?? DEFAULT_BACKOFF,
    sleep: (ms) => ctx.clock.sleep(ms),
    onRetry: (err, attempt, delayMs) => ctx.log.warn('transient error, retrying', { what, attempt, delayMs, err }),
  });
}
