import { helpers, v1 } from '@google-cloud/aiplatform';
import type { Predictor, PredictResponse } from '../ports';

type PredictionClient = InstanceType<typeof v1.PredictionServiceClient>;

/** Vertex AI Predict with the serving signature's instance shape: {"string_input": {"b64": ...}}. */
export function vertexPredictor(client: PredictionClient, opts: { timeoutMs?: number } = {}): Predictor {
  return {
    async predict(endpoint, instances): Promise<PredictResponse> {
      const [res] = await client.predict(
        {
          endpoint,
          instances: instances.map((b) => helpers.toValue({ string_input: { b64: b.toString('base64') } })!),
        },
        // The client never retries Predict; backoff is the caller's.
        { timeout: opts.timeoutMs ?? 60_000, retry: null } as never,
      );
      const predictions = (res.predictions ?? []).map((v) => {
        const p = helpers.fromValue(v as never) as { label?: unknown; confidence?: unknown } | null;
        return { label: String(p?.label ?? ''), confidence: Number(p?.confidence ?? 0) };
      });
      return {
        predictions,
        deployedModelId: res.deployedModelId ?? '',
        model: res.model ?? '',
        modelVersionId: res.modelVersionId ?? '',
      };
    },
  };
}
