import type { LabelResult } from './result';
import type { ObjectRef } from './core/gs-uri';

/** One prediction of the model's serving signature. */
export interface Prediction {
  label: string;
  confidence: number;
}

export interface PredictResponse {
  predictions: Prediction[];
  deployedModelId: string;
  model: string;
  modelVersionId: string;
}

/** Vertex AI Predict on one endpoint; errors carry the gRPC `code`. */
export interface Predictor {
  predict(endpoint: string, instances: readonly Buffer[]): Promise<PredictResponse>;
}

export interface StoredObject {
  generation: string;
  size: number;
  /** absent when the object is bigger than the caller's byte limit (nothing is downloaded) */
  bytes?: Buffer;
  contentType?: string;
}

/** Reads images and manifests from Cloud Storage. A missing object resolves to undefined. */
export interface ObjectReader {
  read(ref: ObjectRef, maxBytes: number): Promise<StoredObject | undefined>;
}

/** Where a model's predictions go, and how many images one call may carry. */
export interface ModelTarget {
  endpoint: string;
  /** the smallest deploy.json `maxInstancesPerCall` of the model's deployed versions, if any sets one */
  maxInstancesPerCall?: number;
}

/** Which endpoint serves a model (the deployment side writes `models/{model}.endpoint`). */
export interface ModelEndpoints {
  endpointOf(model: string): Promise<ModelTarget | undefined>;
}

export interface JobDoc {
  job: string;
  model: string;
  state: 'RUNNING' | 'COMPLETED';
  /** images a manifest job will label; absent for folder jobs */
  total?: number;
}

export interface Progress {
  ok: number;
  error: number;
}

export type ClaimOutcome = 'claimed' | 'done' | 'busy';

/**
 * The jobs/{job} tree in Firestore. Every write that creates a result also counts it, in the
 * same transaction, so counts never drift from results under redelivery.
 */
export interface LabelStore {
  /** claims an event key (bucket/name#generation) for processing; see ClaimOutcome */
  claimEvent(job: string, key: string, leaseMs: number): Promise<ClaimOutcome>;
  finishEvent(job: string, key: string): Promise<void>;
  /** gives a claimed event back after a failure, so the redelivery need not wait for the lease */
  releaseEvent(job: string, key: string): Promise<void>;
  getJob(job: string): Promise<JobDoc | undefined>;
  /** creates jobs/{job} if absent (RUNNING); returns the stored doc */
  ensureJob(job: string, model: string): Promise<JobDoc>;
  setJobModel(job: string, model: string): Promise<void>;
  setJobTotal(job: string, total: number, model: string, manifestUri: string): Promise<void>;
  /**
   * Creates the results that do not exist yet and counts them. Returns the results this call
   * must publish: the ones it created (also in `created`), plus earlier ones whose publisher's
   * lease ran out; `busy` lists the ids of unpublished results another delivery is publishing
   * right now.
   */
  recordResults(job: string, results: readonly LabelResult[], leaseMs: number): Promise<{ toPublish: LabelResult[]; created: LabelResult[]; busy: string[] }>;
  /** ids among `ids` whose results exist and are published */
  publishedResultIds(job: string, ids: readonly string[]): Promise<Set<string>>;
  markPublished(job: string, ids: readonly string[]): Promise<void>;
  /**
   * The results ledger saw this result's message on the topic: flags it published. 'unknown'
   * when no such result exists (a message from elsewhere); nothing is created.
   */
  confirmPublished(job: string, id: string): Promise<'confirmed' | 'unknown'>;
  /** after a failed publish: lets the next delivery publish these without waiting for the lease */
  releasePublishLeases(job: string, ids: readonly string[]): Promise<void>;
  progress(job: string): Promise<Progress>;
  /** copies the counters' sum into jobs/{job}.counts, never moving it backwards */
  rollupCounts(job: string, progress: Progress): Promise<void>;
  /** atomically claims the job-completed message; same lease rules as results */
  claimCompletion(job: string, progress: Progress, leaseMs: number): Promise<'claimed' | 'done' | 'busy'>;
  finishCompletion(job: string, progress: Progress): Promise<void>;
  /**
   * the results ledger saw the job-completed message: what finishCompletion does, leaving
   * publishedAt to the publisher. 'unknown' when the job has no completion claim; nothing is created.
   */
  confirmCompletion(job: string, progress: Progress): Promise<'confirmed' | 'unknown'>;
}

export interface ResultPublisher {
  publishResult(result: LabelResult): Promise<void>;
  publishJobCompleted(job: JobDoc, progress: Progress): Promise<void>;
}

export interface RequestPublisher {
  publishRequest(body: unknown, attributes: Record<string, string>): Promise<void>;
}
