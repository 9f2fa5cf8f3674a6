import { helpers, type protos, v1 } from '@google-cloud/aiplatform';
import { InstancesRejectedError, PredictRefusedError, errorMessage } from '#shared/errors';
import { GrpcCode, grpcCode } from '#shared/retry/error-codes';
import { isRefusedCall } from '#shared/retry/retry-policy';
import type { Predictor, PredictResponse } from '../ports';

type PredictionClient = InstanceType<typeof v1.PredictionServiceClient>;

/**
 * Vertex AI Predict with the serving signature's instance shape: {"string_input": {"b64": ...}}.
 * Its errors come out in the port's terms (predictError): a refused call is a
 * PredictRefusedError, rejected instances an InstancesRejectedError, anything else as thrown.
 */
export function vertexPredictor(client: PredictionClient, opts: { timeoutMs?: number } = {}): Predictor {
  return {
    async predict(endpoint, instances): Promise<PredictResponse> {
      let res: protos.google.cloud.aiplatform.v1.IPredictResponse;
      try {
        [res] = await client.predict(
          {
            endpoint,
            instances: instances.map((b) => helpers.toValue({ string_input: { b64: b.toString('base64') } })!),
          },
          // The client never retries Predict; backoff is the caller's.
          { timeout: opts.timeoutMs ?? 60_000, retry: null } as never,
        );
      } catch (err) {
        throw predictError(err);
      }
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

/** HTTP statuses of the REST transport when no gRPC code came with them (gax maps them when it can). */
const REFUSED_HTTP = new Set([429, 503, 504]);
const REJECTED_HTTP = 400;

/**
 * A Predict failure in the Predictor port's terms. Refused (retry later): RESOURCE_EXHAUSTED
 * (429 "Rate of traffic exceeds capacity"), UNAVAILABLE (503), DEADLINE_EXCEEDED (504), as
 * `isRefusedCall` names them. Rejected instances: INVALID_ARGUMENT (400). Any other error (a
 * container's INTERNAL, a reset socket) is returned as it is: the caller does not retry it.
 */
export function predictError(err: unknown): unknown {
  const code = grpcCode(err);
  const http = (err as { httpStatusCode?: unknown } | null)?.httpStatusCode;
  if (isRefusedCall(err) || (code === undefined && typeof http === 'number' && REFUSED_HTTP.has(http))) {
    return new PredictRefusedError(errorMessage(err), { cause: err });
  }
  if (code === GrpcCode.INVALID_ARGUMENT || (code === undefined && http === REJECTED_HTTP)) {
    return new InstancesRejectedError(errorMessage(err), { cause: err });
  }
  return err;
}
