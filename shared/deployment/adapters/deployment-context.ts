import { EndpointServiceClient, ModelServiceClient, PredictionServiceClient } from '@google-cloud/aiplatform';
import { Firestore } from '@google-cloud/firestore';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import type { GoogleConfig } from '#shared/config/google-config';
import type { Logger } from '#shared/logging/logger';
import type { DeploymentContext } from '../context';
import { systemClock } from '../ports';
import { firestoreResultsReader } from './firestore-results-reader';
import { firestoreVersionStore } from './firestore-version-store';
import { gcsArtifactStore } from './gcs-artifact-store';
import { cloudMonitoringServingMetrics } from './monitoring-serving-metrics';
import { pubsubModelEvents } from './pubsub-model-events';
import { vertexDeployer } from './vertex-deployer';
import { vertexEndpointPredictor } from './vertex-endpoint-predictor';

export interface DeploymentClientsConfig extends GoogleConfig {
  MODEL_EVENTS_TOPIC: string;
  LEASE_SECONDS: number;
}

/**
 * The real clients behind the deployment ports. Called once per process, on the first event
 * (not at import), so a function module can be loaded without credentials or network.
 */
export function createDeploymentContext(cfg: DeploymentClientsConfig, log: Logger): DeploymentContext & { close(): Promise<void> } {
  const projectId = cfg.GOOGLE_CLOUD_PROJECT;
  const firestore = new Firestore({ projectId });
  const storage = new Storage({ projectId });
  const pubsub = new PubSub({ projectId });
  const clientOptions = vertexClientOptions(cfg);
  const models = new ModelServiceClient(clientOptions);
  const endpoints = new EndpointServiceClient(clientOptions);
  // the rollout's golden gate predicts through the endpoint; created lazily by grpc on first use
  const prediction = new PredictionServiceClient(clientOptions);
  // the analysis' error counts per deployed model; the local Vertex AI emulator serves the same query on its port
  const monitoring = new MetricServiceClient(cfg.VERTEX_API_ENDPOINT ? (clientOptions as ConstructorParameters<typeof MetricServiceClient>[0]) : {});
  return {
    store: firestoreVersionStore(firestore),
    artifacts: gcsArtifactStore(storage),
    vertex: vertexDeployer({ project: projectId, location: cfg.VERTEX_LOCATION, models, endpoints }),
    predictor: vertexEndpointPredictor(prediction),
    results: firestoreResultsReader(firestore),
    metrics: cloudMonitoringServingMetrics(monitoring),
    events: pubsubModelEvents(pubsubPublisher(pubsub), cfg.MODEL_EVENTS_TOPIC),
    clock: systemClock,
    log,
    location: cfg.VERTEX_LOCATION,
    leaseMs: cfg.LEASE_SECONDS * 1000,
    async close() {
      await Promise.allSettled([firestore.terminate(), pubsub.close(), models.close(), endpoints.close(), prediction.close(), monitoring.close()]);
    },
  };
}
