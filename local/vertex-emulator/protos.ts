import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import type { PackedMessage } from './store';

/**
 * The Vertex AI v1 API exactly as the official client speaks it: the .proto files shipped in
 * @google-cloud/aiplatform (build/protos), with google/api, google/longrunning and google/rpc
 * from the google-gax they depend on. keepCase false: fields are camelCase on both sides.
 */
const FILES = [
  'google/cloud/aiplatform/v1/model_service.proto',
  'google/cloud/aiplatform/v1/endpoint_service.proto',
  'google/cloud/aiplatform/v1/prediction_service.proto',
  'google/cloud/aiplatform/v1/job_service.proto',
  'google/longrunning/operations.proto',
];

export const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true };

function includeDirs(): string[] {
  const aiplatform = dirname(require.resolve('@google-cloud/aiplatform'));
  // google-gax has no ./package.json export; its protos sit beside its build output.
  const gax = join(dirname(require.resolve('google-gax', { paths: [aiplatform] })), '..', 'protos');
  return [join(aiplatform, '..', 'protos'), join(aiplatform, '..', '..', 'protos'), gax].filter((d) => existsSync(d));
}

export interface VertexProtos {
  services: {
    ModelService: grpc.ServiceDefinition;
    EndpointService: grpc.ServiceDefinition;
    PredictionService: grpc.ServiceDefinition;
    JobService: grpc.ServiceDefinition;
    Operations: grpc.ServiceDefinition;
  };
  /**
   * google.protobuf.Any in proto-loader's object form. Its field is `type_url` even with
   * keepCase false: protobufjs defines the well-known types itself, in snake case.
   */
  pack(msg: PackedMessage): { type_url: string; value: Buffer };
  /** the same files in protobufjs, resolved: the REST side's request/response types and http rules */
  root: protobuf.Root;
  /** the services above as protobufjs sees them (their methods carry the google.api.http options) */
  serviceTypes: protobuf.Service[];
}

/** Full names of the services the emulator serves, gRPC and REST alike. */
export const SERVED_SERVICES = [
  'google.cloud.aiplatform.v1.ModelService',
  'google.cloud.aiplatform.v1.EndpointService',
  'google.cloud.aiplatform.v1.PredictionService',
  'google.cloud.aiplatform.v1.JobService',
  'google.longrunning.Operations',
];

let cached: VertexProtos | undefined;

export function loadVertexProtos(): VertexProtos {
  if (cached) return cached;
  const dirs = includeDirs();
  const definition = protoLoader.loadSync(FILES, { ...LOADER_OPTIONS, includeDirs: dirs });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    google: {
      cloud: { aiplatform: { v1: Record<string, grpc.ServiceClientConstructor> } };
      longrunning: { Operations: grpc.ServiceClientConstructor };
    };
  };
  const v1 = pkg.google.cloud.aiplatform.v1;

  // Any payloads (operation metadata and responses) are encoded with protobufjs from the same files.
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (isAbsolute(target)) return target;
    for (const d of dirs) {
      const full = join(d, target);
      if (existsSync(full)) return full;
    }
    return target;
  };
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  const types = new Map<string, protobuf.Type>();
  cached = {
    services: {
      ModelService: v1.ModelService.service,
      EndpointService: v1.EndpointService.service,
      PredictionService: v1.PredictionService.service,
      JobService: v1.JobService.service,
      Operations: pkg.google.longrunning.Operations.service,
    },
    root,
    serviceTypes: SERVED_SERVICES.map((n) => root.lookupService(n)),
    pack({ type, value }) {
      let t = types.get(type);
      if (!t) {
        t = root.lookupType(type);
        types.set(type, t);
      }
      return { type_url: `type.googleapis.com/${type}`, value: Buffer.from(t.encode(t.fromObject(value)).finish()) };
    },
  };
  return cached;
}
