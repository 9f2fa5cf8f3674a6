import { status } from '@grpc/grpc-js';
import { ImageDecodeError } from '#local/model/image-errors';
import { ApiError, failedPrecondition, invalidArgument, notFound } from './api-error';
import type { EmulatorContext } from './context';
import { endpointPath, parseEndpointName } from './names';
import { httpStatusOf } from './serving-metrics';
import { pickDeployedModel } from './traffic';
import type { Json } from './value';

/** Vertex AI's online prediction request limit. */
export const MAX_PAYLOAD_BYTES = 1.5 * 1024 * 1024;

export interface PredictOutcome {
  predictions: Array<{ confidence: number; label: string }>;
  deployedModelId: string;
  model: string;
  modelVersionId: string;
  modelDisplayName: string;
}

export function checkPayloadSize(bytes: number): void {
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw invalidArgument(
      `Request payload size exceeds the limit: ${MAX_PAYLOAD_BYTES} bytes (this request: ${bytes}). ` + 'Send fewer or smaller images per request (base64 makes each image about 4/3 of its size).',
    );
  }
}

/**
 * One online prediction, shared by the gRPC and REST surfaces: pick a deployed model by the
 * endpoint's traffic split (seeded by the faults' `trafficSeed`), count its response as Vertex
 * AI's metrics do, unwrap {"string_input": {"b64": ...}} instances as TF Serving's
 * container does, and run the whole batch in one call to the model server.
 */
export async function predict(ctx: EmulatorContext, endpoint: string, instances: Json[], random: () => number = () => ctx.faults.trafficRandom()): Promise<PredictOutcome> {
  const startedAt = Date.now();
  await ctx.faults.apply('predict');
  const n = parseEndpointName(endpoint);
  const e = ctx.store.state.endpoints[endpointPath(n, n.endpointId)];
  if (!e) throw notFound(`Endpoint ${endpoint} was not found.`);
  if (!instances.length) throw invalidArgument('instances is empty: send at least one {"string_input": {"b64": "<base64 image>"}}.');
  const images = instances.map(imageBytes);
  const id = pickDeployedModel(e.trafficSplit, random);
  if (!id) {
    throw failedPrecondition(
      e.deployedModels.length
        ? `Endpoint ${e.name} has deployed models but none receives traffic; set its trafficSplit (UpdateEndpoint).`
        : `Endpoint ${e.name} has no deployed model; deploy one with trafficSplit {"0": 100}.`,
    );
  }
  const deployed = e.deployedModels.find((d) => d.id === id);
  const server = ctx.runtime.get(id);
  if (!deployed || !server) throw new ApiError(status.UNAVAILABLE, `The model server of deployed model ${id} is not running; see the emulator's log for why it did not load.`);
  // Counted per deployed model as Vertex AI counts it in Cloud Monitoring (response_count), whatever the outcome.
  const served = (code: number) => ctx.metrics.record({ endpointId: n.endpointId, location: n.location, project: n.project, deployedModelId: id, responseCode: String(code), atMs: Date.now() });
  let results;
  try {
    results = await ctx.faults.deployed(id, startedAt, () => server.classify(images));
  } catch (err) {
    const refused = err instanceof ImageDecodeError ? invalidArgument(`instances[${err.index}]: ${err.message}`) : err;
    served(httpStatusOf((refused as { code?: number }).code));
    throw refused;
  }
  served(200);
  const version = ctx.store.state.models[deployed.model]?.versions.find((v) => v.versionId === deployed.modelVersionId);
  return {
    predictions: results.map((r) => ({ confidence: r.confidence, label: r.label })),
    deployedModelId: id,
    model: deployed.model,
    modelVersionId: deployed.modelVersionId,
    modelDisplayName: version?.displayName ?? deployed.displayName,
  };
}

function imageBytes(instance: Json, i: number): Uint8Array {
  const wrapped = isObject(instance) && 'string_input' in instance ? instance.string_input : instance;
  const b64 = isObject(wrapped) ? wrapped.b64 : undefined;
  if (typeof b64 !== 'string') {
    throw invalidArgument(`instances[${i}]: expected {"string_input": {"b64": "<base64 image>"}}, the input of the serving_default signature.`);
  }
  return Buffer.from(b64, 'base64');
}

function isObject(j: Json | undefined): j is { [k: string]: Json } {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}
