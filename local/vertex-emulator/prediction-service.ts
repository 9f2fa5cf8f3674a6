import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EmulatorContext } from './context';
import { unary } from './grpc-handler';
import { checkPayloadSize, predict } from './predict';
import { fromProtoValue, toProtoValue, type ProtoValue } from './value';

interface PredictRequest {
  endpoint: string;
  instances?: ProtoValue[];
}

/**
 * google.cloud.aiplatform.v1.PredictionService.Predict. The request's size on the wire is
 * recorded as it is decoded, so the 1.5 MB limit applies to what the client really sent.
 */
export function predictionService(ctx: EmulatorContext, definition: ServiceDefinition): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const sizes = new WeakMap<object, number>();
  const method = definition.Predict;
  const measured: ServiceDefinition = {
    ...definition,
    Predict: {
      ...method,
      requestDeserialize: (buf: Buffer) => {
        const req = method.requestDeserialize(buf) as object;
        sizes.set(req, buf.length);
        return req;
      },
    },
  };
  return {
    definition: measured,
    implementation: {
      Predict: unary(ctx.log, 'PredictionService.Predict', async (req: PredictRequest) => {
        checkPayloadSize(sizes.get(req) ?? 0);
        const out = await predict(ctx, req.endpoint, (req.instances ?? []).map(fromProtoValue));
        return { ...out, predictions: out.predictions.map((p) => toProtoValue(p)) };
      }),
    },
  };
}
