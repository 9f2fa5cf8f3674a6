import type { Logger } from '#shared/logging/logger';
import type { FaultInjector } from './faults';
import type { OperationRunner } from './operations';
import type { VertexProtos } from './protos';
import type { RuntimePool } from './runtime';
import type { ServingMetrics } from './serving-metrics';
import type { OperationRecord, StateStore } from './store';

/** What every service of the emulator shares. */
export interface EmulatorContext {
  store: StateStore;
  ops: OperationRunner;
  faults: FaultInjector;
  runtime: RuntimePool;
  /** every answered Predict call per deployed model, as Vertex AI reports them to Cloud Monitoring */
  metrics: ServingMetrics;
  log: Logger;
  /** an operation as google.longrunning.Operation, its metadata and response packed in Any */
  opView(op: OperationRecord): Record<string, unknown>;
}

export const V1 = 'google.cloud.aiplatform.v1';

export function operationViewer(protos: VertexProtos) {
  return (op: OperationRecord): Record<string, unknown> => {
    const outcome = !op.done ? {} : op.error ? { error: { code: op.error.code, message: op.error.message, details: [] } } : op.response ? { response: protos.pack(op.response) } : {};
    return { name: op.name, metadata: protos.pack(op.metadata), done: op.done, ...outcome };
  };
}
