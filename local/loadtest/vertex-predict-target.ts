import { PredictionServiceClient, helpers } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import type { SendRequest } from './run-load-test';

export interface VertexTarget {
  send: SendRequest;
  close(): Promise<void>;
}

/**
 * Sends Predict calls to a Vertex AI endpoint (real, or the local emulator through
 * `apiEndpoint`), cycling through the given images, `instancesPerRequest` at a time.
 * The Node client does not retry Predict, so every 429/503 is counted as the failure it is.
 */
export function vertexPredictTarget(opts: { endpoint: string; location: string; apiEndpoint?: string; images: Buffer[]; instancesPerRequest: number; timeoutMs?: number }): VertexTarget {
  if (opts.images.length === 0) throw new Error('no images to send');
  const client = new PredictionServiceClient(vertexClientOptions({ VERTEX_LOCATION: opts.location, VERTEX_API_ENDPOINT: opts.apiEndpoint }));
  // Encode once: the load test measures the endpoint, not our base64.
  const instances = opts.images.map((img) => helpers.toValue({ string_input: { b64: img.toString('base64') } })!);
  let next = 0;
  return {
    async send() {
      const batch = [];
      for (let i = 0; i < opts.instancesPerRequest; i++) batch.push(instances[next++ % instances.length]);
      await client.predict({ endpoint: opts.endpoint, instances: batch }, { timeout: opts.timeoutMs ?? 60_000, retry: null } as never);
    },
    close: () => client.close(),
  };
}
