import { credentials } from '@grpc/grpc-js';
import type { ModelServiceClient } from '@google-cloud/aiplatform';
import type { GoogleConfig } from '../config/google-config';

/** What every @google-cloud/aiplatform client constructor takes. */
export type VertexClientOptions = NonNullable<ConstructorParameters<typeof ModelServiceClient>[0]>;

/**
 * Options for the @google-cloud/aiplatform clients: the regional endpoint on Google Cloud, or
 * a plaintext gRPC channel to a local Vertex AI emulator (loopback addresses need no auth).
 *
 * The client's retry settings are left as they are, and our retries (#shared/retry) do not stack
 * on them: the aiplatform services' methods are all non-idempotent in the client's config, so it
 * retries none of them and the use cases do; the operations client it builds from these options
 * retries GetOperation (checkXProgress, op.promise()) on DEADLINE_EXCEEDED and UNAVAILABLE, so
 * operation polls are not wrapped in our retries (test/unit/retry/vertex-client-retries.test.ts).
 */
export function vertexClientOptions(cfg: Pick<GoogleConfig, 'VERTEX_LOCATION' | 'VERTEX_API_ENDPOINT'>): VertexClientOptions {
  if (!cfg.VERTEX_API_ENDPOINT) {
    return { apiEndpoint: `${cfg.VERTEX_LOCATION}-aiplatform.googleapis.com` };
  }
  const [host, port] = cfg.VERTEX_API_ENDPOINT.split(':');
  return {
    apiEndpoint: host,
    servicePath: host,
    port: port ? Number(port) : 443,
    // google-gax uses sslCreds as the channel credentials and then asks for no token.
    sslCreds: credentials.createInsecure(),
    // Named up front, or the client asks the metadata server for its universe on the first
    // call (a warning and up to 1.5 s off Google Cloud).
    universeDomain: 'googleapis.com',
  };
}
