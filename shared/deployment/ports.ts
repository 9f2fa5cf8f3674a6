/**
 * What the deployment core needs from the outside world. Adapters implement these on
 * Firestore, Cloud Storage, Vertex AI and Pub/Sub; the core never imports a Google client.
 */
import type { ServingContainer } from './core/container-image';
import type { DeploySpec } from './core/deploy-spec';
import type { ModelRecord, RolloutDecision, VersionRecord } from './core/records';
import type { VersionState } from './core/state-machine';
import type { TrafficSplit } from './core/traffic';

export type ClaimOutcome =
  | { kind: 'claimed'; record: VersionRecord }
  /** someone else holds a live lease on it, or it is past the point where events matter */
  | { kind: 'skipped'; record: VersionRecord; why: string };

export interface VersionChange {
  to?: VersionState;
  reason?: string;
  patch?: Partial<VersionRecord>;
}

export class LeaseLostError extends Error {
  constructor(key: string) {
    super(`lost the lease on ${key}: another worker took it over`);
    this.name = 'LeaseLostError';
  }
}

export interface VersionStore {
  /** Atomically creates the version (PENDING) or takes over an abandoned in-progress one. */
  claim(init: Omit<VersionRecord, 'state' | 'history' | 'createdAt' | 'updatedAt' | 'lease'>, holder: string, leaseMs: number, now: Date): Promise<ClaimOutcome>;
  /** Takes the lease if it is free or expired; null when someone else holds it. */
  acquireLease(model: string, version: string, holder: string, leaseMs: number, now: Date): Promise<VersionRecord | null>;
  releaseLease(model: string, version: string, holder: string): Promise<void>;
  /** Applies a change while `holder` still holds the lease; transitions are validated. */
  change(model: string, version: string, holder: string, change: VersionChange, now: Date, leaseMs: number): Promise<VersionRecord>;
  get(model: string, version: string): Promise<VersionRecord | null>;
  listVersions(model: string): Promise<VersionRecord[]>;
  /** Versions that need the reconciler: in progress, or with a pending operation. */
  listActive(): Promise<VersionRecord[]>;
  getModel(model: string): Promise<ModelRecord | null>;
  /** Records the Vertex model once; returns the one recorded first. */
  recordVertexModel(model: string, vertexModel: string, now: Date): Promise<string>;
  /** Serializes endpoint creation per model. Null when another holder has it. */
  acquireEndpointLease(model: string, holder: string, leaseMs: number, now: Date): Promise<ModelRecord | null>;
  /** Records the endpoint once (inside a transaction) and releases the endpoint lease; returns the recorded one. */
  recordEndpoint(model: string, endpoint: string, holder: string, now: Date): Promise<string>;
  releaseEndpointLease(model: string, holder: string): Promise<void>;
  /** Writes traffic percents of versions and the model's current/previous split in one batch. */
  recordTraffic(model: string, byVersion: Record<string, number>, previous: Record<string, number> | undefined, now: Date): Promise<void>;
}

export interface ArtifactObject {
  /** path relative to the version folder */
  path: string;
  generation: string;
  size: number;
}

export interface ArtifactStore {
  listFolder(bucket: string, prefix: string): Promise<ArtifactObject[]>;
  /** the object's bytes, or undefined when it does not exist */
  read(bucket: string, name: string): Promise<Buffer | undefined>;
  /** server-side copy within the bucket (overwrites: copying again is harmless) */
  copy(bucket: string, from: string, to: string): Promise<void>;
}

export type OperationStatus<T> = { done: false } | { done: true; error: string } | { done: true; result: T };

export interface UploadRequest {
  modelId: string;
  /** set for a new version of an existing Vertex model */
  parentModel?: string;
  displayName: string;
  description: string;
  artifactUri: string;
  /** UploadModel's containerSpec: the image, and for a custom container its command, ports and routes */
  container: ServingContainer;
  versionAlias: string;
  labels: Record<string, string>;
}

export interface DeployedModelInfo {
  id: string;
  model: string;
  modelVersionId?: string;
  displayName?: string;
}

export interface EndpointInfo {
  name: string;
  deployedModels: DeployedModelInfo[];
  trafficSplit: TrafficSplit;
}

export interface DeployRequest {
  endpoint: string;
  /** projects/.../models/ID@versionId */
  model: string;
  displayName: string;
  spec: DeploySpec;
  trafficSplit: TrafficSplit;
}

export interface VertexDeployer {
  /** throws AlreadyExistsError when modelId is taken and no parentModel is given */
  startUpload(req: UploadRequest): Promise<string>;
  checkUpload(operation: string): Promise<OperationStatus<{ model: string; modelVersionId: string }>>;
  /** the model resource name Vertex gives `modelId` in this project and region */
  modelName(modelId: string): string;
  /** a version of `vertexModel` carrying `alias`, if one exists (resuming after a crash) */
  findVersionByAlias(vertexModel: string, alias: string): Promise<{ model: string; modelVersionId: string } | undefined>;
  /** an endpoint labelled for `model` (or named after it), if one exists */
  findEndpoint(model: string): Promise<string | undefined>;
  /** creates the endpoint (a short LRO, awaited) */
  createEndpoint(model: string): Promise<string>;
  getEndpoint(endpoint: string): Promise<EndpointInfo>;
  startDeploy(req: DeployRequest): Promise<string>;
  checkDeploy(operation: string): Promise<OperationStatus<{ deployedModelId: string }>>;
  setTraffic(endpoint: string, split: TrafficSplit): Promise<void>;
  startUndeploy(endpoint: string, deployedModelId: string, split?: TrafficSplit): Promise<string>;
  checkUndeploy(operation: string): Promise<OperationStatus<null>>;
}

/** Predict through an endpoint: the split picks the deployed model, the answer names it. */
export interface EndpointPredictor {
  predict(endpoint: string, instances: readonly Buffer[]): Promise<{ labels: string[]; deployedModelId: string }>;
}

/** One labeling result as the canary analysis reads it (jobs/{job}/results/{id}). */
export interface ResultSample {
  deployedModelId: string;
  status: 'OK' | 'ERROR';
  label: string | null;
  confidence: number | null;
  latencyMs: number | null;
}

export interface ResultsReader {
  /** results attributed to `deployedModelId`, recorded at or after `since`, at most `limit` */
  resultsOf(deployedModelId: string, since: Date, limit: number): Promise<ResultSample[]>;
}

/** Predict calls one deployed model answered, and how many of them failed on its side (5xx). */
export interface ServingCounts {
  requests: number;
  errors: number;
}

/**
 * What Vertex AI itself counts per deployed model: every Predict call that reached it, retries
 * included, whoever sent it (Cloud Monitoring's prediction/online/response_count). The only
 * place a failed call is attributed to a deployed model: the error a caller gets does not name it.
 */
export interface ServingMetrics {
  /** deployedModelId -> counts of calls to `endpoint` (a full resource name) answered in [since, until] */
  countsOf(endpoint: string, since: Date, until: Date): Promise<Record<string, ServingCounts>>;
}

export interface ModelEvent {
  model: string;
  version: string;
  from: VersionState | null;
  state: VersionState;
  at: string;
  reason?: string;
  vertexModel?: string;
  vertexModelVersionId?: string;
  endpoint?: string;
  deployedModelId?: string;
  trafficPercent?: number;
  /** a rollout decision (promote / rollback / hold) with the numbers it was made on */
  rollout?: RolloutDecision;
}

export interface ModelEventsPublisher {
  publish(event: ModelEvent): Promise<void>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
