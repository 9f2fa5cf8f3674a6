import type { Server as HttpServer } from 'node:http';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createLogger, type Logger } from '#shared/logging/logger';
import { operationViewer, type EmulatorContext } from './context';
import { objectWriter } from './batch-io';
import { BatchJobStore } from './batch-job-store';
import { endpointService } from './endpoint-service';
import { FaultInjector, type VertexFaults } from './faults';
import { collectRoutes, vertexOperationsRules } from './http-rules';
import { jobService } from './job-service';
import { modelService } from './model-service';
import { loadMonitoringService, monitoringService } from './monitoring-service';
import { OperationRunner } from './operations';
import { operationsService } from './operations-service';
import { predictionService } from './prediction-service';
import { loadVertexProtos } from './protos';
import { startRestServer, type RpcMethod, type RpcRegistry } from './rest-server';
import { onnxLoader, RuntimePool, type ModelLoader } from './runtime';
import { ServingMetrics } from './serving-metrics';
import { StateStore } from './store';

export type { VertexFaults } from './faults';

export interface VertexEmulatorOptions {
  /** gRPC port on 127.0.0.1; 0 or absent picks a free one */
  port?: number;
  /** HTTP port for the v1 REST API and /emulator/faults; absent: no HTTP server */
  restPort?: number;
  /** where state (models, endpoints, operations) is kept across restarts */
  dataDir: string;
  /** how long long-running operations take; default 1000 ms */
  lroDelayMs?: number;
  faults?: VertexFaults;
  /** the draws of injected faults (which call fails, with which code); tests pass a seeded one */
  faultRandom?: () => number;
  /** local folder where gs://bucket/path artifact URIs are found, as gcsRoot/bucket/path */
  gcsRoot?: string;
  /** ONNX Runtime intra-op threads per deployed model; default: ONNX Runtime's own */
  intraOpNumThreads?: number;
  /** how deployed models are loaded; defaults to OnnxImageClassifier */
  loadModel?: ModelLoader;
  /** the Storage emulator's URL, where batch prediction output is uploaded (else: written into gcsRoot) */
  storageUrl?: string;
  /** how long a batch prediction job stays QUEUED, then PENDING; default lroDelayMs */
  batchStageDelayMs?: number;
  logger?: Logger;
}

export interface VertexEmulator {
  grpcPort: number;
  restPort?: number;
  /** host:port for VERTEX_API_ENDPOINT */
  endpoint: string;
  setFaults(f: VertexFaults): void;
  /** where batch prediction output goes from now on (the Storage emulator may start after this one) */
  setStorageUrl(url: string): void;
  stop(): Promise<void>;
}

const GRPC_OPTIONS = {
  // Oversized predict payloads must reach the handler to be refused the way Vertex AI does.
  'grpc.max_receive_message_length': 32 * 1024 * 1024,
  'grpc.max_send_message_length': 32 * 1024 * 1024,
};

export async function startVertexEmulator(opts: VertexEmulatorOptions): Promise<VertexEmulator> {
  const log = opts.logger ?? createLogger({ component: 'vertex-emulator' });
  const protos = loadVertexProtos();
  const store = new StateStore(opts.dataDir);
  const faults = new FaultInjector(opts.faults, opts.faultRandom);
  const runtime = new RuntimePool(opts.gcsRoot, opts.loadModel ?? onnxLoader(opts.intraOpNumThreads));
  const ops = new OperationRunner(store, faults, opts.lroDelayMs ?? 1000, log);
  const ctx: EmulatorContext = { store, ops, faults, runtime, metrics: new ServingMetrics(), log, opView: operationViewer(protos) };

  const server = new Server(GRPC_OPTIONS);
  // The REST side calls the very handlers registered here, found by their gRPC path.
  const rpcs: RpcRegistry = new Map();
  const serve = (definition: ServiceDefinition, implementation: UntypedServiceImplementation) => {
    server.addService(definition, implementation);
    for (const [name, method] of Object.entries(definition)) {
      const handler = implementation[name] as UntypedServiceImplementation[string] | undefined;
      if (handler) rpcs.set(method.path, { definition: method as RpcMethod['definition'], handler });
    }
  };
  serve(protos.services.ModelService, modelService(ctx));
  serve(protos.services.EndpointService, endpointService(ctx));
  const prediction = predictionService(ctx, protos.services.PredictionService);
  serve(prediction.definition, prediction.implementation);
  serve(protos.services.Operations, operationsService(ctx));
  // Cloud Monitoring's ListTimeSeries for Vertex AI's prediction metrics, on the same port
  serve(loadMonitoringService(), monitoringService(ctx));
  let storageUrl = opts.storageUrl;
  const batch = jobService(ctx, new BatchJobStore(opts.dataDir), {
    gcsRoot: opts.gcsRoot,
    write: objectWriter(opts.gcsRoot, () => storageUrl),
    stageDelayMs: opts.batchStageDelayMs ?? opts.lroDelayMs ?? 1000,
  });
  serve(protos.services.JobService, batch.implementation);

  await reloadDeployedModels(ctx);
  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
  let rest: { server: HttpServer; port: number } | undefined;
  try {
    if (opts.restPort !== undefined) {
      const routes = collectRoutes(protos.serviceTypes, vertexOperationsRules());
      rest = await startRestServer(ctx, opts.restPort, (f) => faults.set(f), rpcs, routes);
    }
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
  ops.resume();
  batch.resume();
  log.info('vertex emulator listening', { grpcPort, restPort: rest?.port, dataDir: opts.dataDir });

  let stopping: Promise<void> | undefined;
  return {
    grpcPort,
    ...(rest ? { restPort: rest.port } : {}),
    endpoint: `127.0.0.1:${grpcPort}`,
    setFaults: (f) => faults.set(f),
    setStorageUrl: (url) => (storageUrl = url),
    stop: () =>
      (stopping ??= (async () => {
        await ops.stop();
        await batch.stop();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.forceShutdown(), 2000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        if (rest) {
          rest.server.closeAllConnections();
          await new Promise<void>((resolve) => rest.server.close(() => resolve()));
        }
        await runtime.closeAll();
      })()),
  };
}

/** Models deployed before a restart serve again after it; one that no longer loads is logged, and its predictions answer UNAVAILABLE. */
async function reloadDeployedModels(ctx: EmulatorContext): Promise<void> {
  for (const e of Object.values(ctx.store.state.endpoints)) {
    for (const d of e.deployedModels) {
      const artifactUri = ctx.store.state.models[d.model]?.versions.find((v) => v.versionId === d.modelVersionId)?.artifactUri ?? '';
      try {
        await ctx.runtime.load(d.id, artifactUri);
      } catch (err) {
        ctx.log.error('deployed model did not reload', { endpoint: e.name, deployedModelId: d.id, err });
      }
    }
  }
}
