import { credentials } from '@grpc/grpc-js';
import type { ModelServiceClient } from '@google-cloud/aiplatform';
import type { GoogleConfig } from '../config/google-config';

/** What every @google-cloud/aiplatform client constructor takes. */
export type VertexClientOptions = NonNullable<ConstructorParameters<typeof ModelServiceClient>[0]>;

/**
 * The client's own retries, turned off where they would stack on ours (#shared/retry): the
 * aiplatform services' methods are all non-idempotent in the client's config (it retries none of
 * them), but the long-running operations client it builds from the same options retries
 * GetOperation on DEADLINE_EXCEEDED and UNAVAILABLE for up to 10 minutes, under every
 * checkUploadModelProgress / checkDeployModelProgress the deployment use cases already retry.
 */
const NO_CLIENT_RETRY: VertexClientOptions['clientConfig'] = {
  interfaces: {
    'google.longrunning.Operations': {
      retry_codes: { none: [] },
      methods: { GetOperation: { retry_codes_name: 'none' } },
    },
  },
};

/**
 * Options for the @google-cloud/aiplatform clients: the regional endpoint on Google Cloud, or
 * a plaintext gRPC channel to a local Vertex AI emulator (loopback addresses need no auth).
 */
export function vertexClientOptions(cfg: Pick<GoogleConfig, 'VERTEX_LOCATION' | 'VERTEX_API_ENDPOINT'>): VertexClientOptions {
  if (!cfg.VERTEX_API_ENDPOINT) {
    return { apiEndpoint: `${cfg.VERTEX_LOCATION}-aiplatform.googleapis.com`, clientConfig: NO_CLIENT_RETRY };
  }
  const [host, port] = cfg.VERTEX_API_ENDPOINT.split(':');
  return {
    clientConfig: NO_CLIENT_RETRY,
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
