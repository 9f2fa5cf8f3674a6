import { helpers, type PredictionServiceClient } from '@google-cloud/aiplatform';
import type { EndpointPredictor } from '../ports';

/** Predict for the golden gate: {"string_input": {"b64": ...}} instances, labels back with the deployed model that answered. */
export function vertexEndpointPredictor(client: PredictionServiceClient): EndpointPredictor {
  return {
    async predict(endpoint, instances) {
      const [res] = await client.predict(
        { endpoint, instances: instances.map((b) => helpers.toValue({ string_input: { b64: b.toString('base64') } })!) },
        // Predict is not retried by the client; the gate counts a refused call as an attempt.
        { timeout: 60_000, retry: null } as never,
      );
      const labels = (res.predictions ?? []).map((v) => String((helpers.fromValue(v as never) as { label?: unknown } | null)?.label ?? ''));
      return { labels, deployedModelId: String(res.deployedModelId ?? '') };
    },
  };
}
