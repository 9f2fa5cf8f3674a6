import * as grpc from '@grpc/grpc-js';
import { ModelServiceClient } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { loadVertexProtos } from '#local/vertex-emulator/protos';

// What the Vertex AI client built from vertexClientOptions retries by itself, which decides where
// our retries (#shared/retry) go without stacking on its own: a ModelService call is sent once
// (the deployment use cases retry it), an operation poll is retried by the client (the use cases
// do not wrap polls). A loopback gRPC server answers the first call of each method UNAVAILABLE
// and the next one normally, and counts what arrives.

const protos = loadVertexProtos();
const calls = { GetOperation: 0, GetModel: 0 };
const unavailable = { code: grpc.status.UNAVAILABLE, details: 'injected: try again' };
let server: grpc.Server;
let endpoint: string;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(protos.services.Operations, {
    GetOperation: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls.GetOperation++;
      if (calls.GetOperation % 2 === 1) return cb(unavailable);
      cb(null, { name: call.request.name, done: false });
    },
  });
  server.addService(protos.services.ModelService, {
    GetModel: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls.GetModel++;
      if (calls.GetModel % 2 === 1) return cb(unavailable);
      cb(null, { name: call.request.name, displayName: 'm' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  endpoint = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

beforeEach(() => {
  calls.GetOperation = 0;
  calls.GetModel = 0;
});

const OPERATION = 'projects/p/locations/us-central1/operations/1';

describe('the Vertex AI client built from vertexClientOptions', () => {
  it('sends a ModelService call once: UNAVAILABLE comes back to the caller, whose retry policy decides', async () => {
    const client = new ModelServiceClient(vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: endpoint }));
    try {
      await expect(client.getModel({ name: 'projects/p/locations/us-central1/models/m' })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(calls.GetModel).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('retries an operation poll itself after UNAVAILABLE, so the use cases leave polls unwrapped', async () => {
    const client = new ModelServiceClient(vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: endpoint }));
    try {
      const op = await client.checkUploadModelProgress(OPERATION);
      expect(op.done).toBe(false);
      expect(calls.GetOperation).toBe(2);
    } finally {
      await client.close();
    }
  });
});
