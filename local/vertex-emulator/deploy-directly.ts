import { EndpointServiceClient, ModelServiceClient } from '@google-cloud/aiplatform';
import type { VertexClientOptions } from '#shared/adapters/vertex-client-options';

const SERVING_IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest';

/**
 * Uploads a model folder, creates an endpoint and deploys the model on it with all the traffic,
 * through the official clients, waiting for each operation: what the benches and tests need of
 * a serving endpoint without going through the model-drop pipeline.
 */
export async function deployDirectly(
  clientOpts: VertexClientOptions,
  opts: { parent: string; artifactUri: string; displayName: string; modelId?: string; endpointDisplayName?: string; machineType?: string },
): Promise<{ endpoint: string; model: string }> {
  const models = new ModelServiceClient(clientOpts);
  const endpoints = new EndpointServiceClient(clientOpts);
  try {
    const [upload] = await models.uploadModel({
      parent: opts.parent,
      ...(opts.modelId ? { modelId: opts.modelId } : {}),
      model: { displayName: opts.displayName, artifactUri: opts.artifactUri, containerSpec: { imageUri: SERVING_IMAGE } },
    });
    const [uploaded] = await upload.promise();
    const [create] = await endpoints.createEndpoint({ parent: opts.parent, endpoint: { displayName: opts.endpointDisplayName ?? opts.displayName } });
    const [created] = await create.promise();
    const [deploy] = await endpoints.deployModel({
      endpoint: created.name!,
      deployedModel: {
        model: uploaded.model!,
        displayName: opts.displayName,
        dedicatedResources: { machineSpec: { machineType: opts.machineType ?? 'n1-standard-2' }, minReplicaCount: 1, maxReplicaCount: 1 },
      },
      trafficSplit: { '0': 100 },
    });
    await deploy.promise();
    return { endpoint: created.name!, model: uploaded.model! };
  } finally {
    await Promise.all([models.close(), endpoints.close()]);
  }
}
