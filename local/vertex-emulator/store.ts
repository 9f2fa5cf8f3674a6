import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationKind } from './faults';
import type { TrafficSplit } from './traffic';

/**
 * Everything the emulator knows, kept as one JSON file in the data folder and rewritten
 * atomically (temp file + rename) after every change, so a restart picks up exactly where it
 * stopped: models, endpoints with their deployed models, and operations still running.
 * Nested proto messages the emulator only keeps and returns (containerSpec, dedicatedResources)
 * are stored in @grpc/proto-loader's object form.
 */
export interface ModelVersionRecord {
  versionId: string;
  displayName: string;
  description: string;
  versionDescription: string;
  artifactUri: string;
  containerSpec?: Record<string, unknown>;
  labels: Record<string, string>;
  aliases: string[];
  createTime: string;
  updateTime: string;
}

export interface ModelRecord {
  /** projects/P/locations/L/models/ID */
  name: string;
  versions: ModelVersionRecord[];
  nextVersionId: number;
}

export interface DeployedModelRecord {
  id: string;
  /** projects/P/locations/L/models/ID, without a version */
  model: string;
  modelVersionId: string;
  displayName: string;
  dedicatedResources?: Record<string, unknown>;
  automaticResources?: Record<string, unknown>;
  disableContainerLogging?: boolean;
  serviceAccount?: string;
  createTime: string;
}

export interface EndpointRecord {
  /** projects/P/locations/L/endpoints/ID */
  name: string;
  displayName: string;
  description: string;
  labels: Record<string, string>;
  trafficSplit: TrafficSplit;
  deployedModels: DeployedModelRecord[];
  createTime: string;
  updateTime: string;
}

export interface PackedMessage {
  /** fully qualified proto type, e.g. google.cloud.aiplatform.v1.UploadModelResponse */
  type: string;
  value: Record<string, unknown>;
}

export interface OperationRecord {
  name: string;
  kind: OperationKind;
  /** the request, as the operation's executor needs it when the operation comes due */
  task: Record<string, unknown>;
  metadata: PackedMessage;
  createTime: string;
  updateTime: string;
  /** epoch ms when the operation's work runs */
  dueAt: number;
  done: boolean;
  response?: PackedMessage;
  error?: { code: number; message: string };
}

export interface EmulatorState {
  models: Record<string, ModelRecord>;
  endpoints: Record<string, EndpointRecord>;
  operations: Record<string, OperationRecord>;
}

const FILE = 'vertex-emulator-state.json';

export class StateStore {
  readonly state: EmulatorState;
  private readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, FILE);
    this.state = readState(this.file);
  }

  /** Applies a change and writes the whole state before anyone can observe it. */
  mutate<T>(change: (s: EmulatorState) => T): T {
    const result = change(this.state);
    this.save();
    return result;
  }

  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    renameSync(tmp, this.file);
  }
}

function readState(file: string): EmulatorState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { models: {}, endpoints: {}, operations: {} };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<EmulatorState>;
  return { models: parsed.models ?? {}, endpoints: parsed.endpoints ?? {}, operations: parsed.operations ?? {} };
}

export const nowIso = () => new Date().toISOString();

/** ISO time -> google.protobuf.Timestamp in proto-loader's object form. */
export function timestamp(iso: string): { seconds: number; nanos: number } {
  const ms = Date.parse(iso);
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}
