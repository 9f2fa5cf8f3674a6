import { Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { invalidArgument } from './api-error';
import type { EmulatorContext } from './context';
import { unary } from './grpc-handler';
import { checkPayloadSize, predict } from './predict';
import { fromProtoValue, toProtoValue, type Json, type ProtoValue } from './value';

interface PredictRequest {
  endpoint: string;
  instances?: ProtoValue[];
}

interface RawPredictRequest {
  endpoint: string;
  httpBody?: { contentType?: string; data?: Uint8Array };
}

/**
 * google.cloud.aiplatform.v1.PredictionService.Predict and RawPredict. The request's size on the wire is
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
      // The body goes to the container as it is; TF Serving's container takes {"instances": [...]}
      // and answers {"predictions": [...]}. The deployed model that answered is named in a header.
      RawPredict: unary(ctx.log, 'PredictionService.RawPredict', async (req: RawPredictRequest, call) => {
        const data = Buffer.from(req.httpBody?.data ?? []);
        checkPayloadSize(data.length);
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.toString('utf8'));
        } catch {
          throw invalidArgument('The request body is not valid JSON: send {"instances": [{"string_input": {"b64": "<base64 image>"}}]}.');
        }
        const instances = (parsed as { instances?: unknown }).instances;
        const out = await predict(ctx, req.endpoint, Array.isArray(instances) ? (instances as Json[]) : []);
        const md = new Metadata();
        md.set('x-vertex-ai-deployed-model-id', out.deployedModelId);
        call.sendMetadata(md);
        return { contentType: 'application/json', data: Buffer.from(JSON.stringify({ predictions: out.predictions })) };
      }),
    },
  };
}
