import type { ObjectRef } from './core/gs-uri';
import type { LabelResult } from './result';

/**
 * The labeling side's ports: what its use cases need from the outside world, with no cloud
 * client types. Adapters in ./adapters implement them over Google's clients and sharp; tests
 * implement them in memory.
 */

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

/**
 * Vertex AI Predict on one endpoint. A call refused or unanswered (retry later) throws
 * PredictRefusedError; instances the model rejects throw InstancesRejectedError
 * (#shared/errors); any other error is unexpected.
 */
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
  /** the object's lines, streamed (line endings removed); pin the generation so every reading sees the same lines */
  readLines(ref: ObjectRef): AsyncIterable<string>;
}

/** How far a manifest's intake got (jobs/{job}.manifestIntake), so a redelivery resumes there. */
export interface ManifestCheckpoint {
  /** the manifest event's key (bucket/name#generation): a checkpoint of another generation is not this one's */
  key: string;
  /** the model the job's total was set with */
  model: string;
  /** lines that count (images and bad lines), set on the job before any chunk went out */
  total: number;
  images: number;
  route: 'online' | 'batch';
  /** chunks 0..chunksDone-1 are sent (online requests, or batch chunks prepared) */
  chunksDone: number;
}

export interface ManifestCheckpoints {
  get(job: string): Promise<ManifestCheckpoint | undefined>;
  put(job: string, checkpoint: ManifestCheckpoint): Promise<void>;
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

/** What a codec reads from an image's header, before anything is decoded. */
export interface ImageHeader {
  /** the codec's name for the format (jpeg, png, webp, gif, tiff, ...); undefined when unknown */
  format?: string;
  width: number;
  height: number;
  /** EXIF orientation, 1 when upright or absent */
  orientation: number;
  /** e.g. srgb, b-w, cmyk */
  colourSpace?: string;
  channels?: number;
}

/** Decodes and encodes images (sharp in production). Each method throws an Error with a message a user can read. */
export interface ImageCodec {
  header(input: Buffer): Promise<ImageHeader>;
  /** decodes the whole first frame (at most maxPixels), proving the bytes are not truncated */
  verify(input: Buffer, maxPixels: number): Promise<void>;
  /** upright, within maxEdge on its longest side (never enlarged), flattened on white, gray or sRGB, as JPEG */
  toJpeg(input: Buffer, opts: { maxPixels: number; maxEdge: number; quality: number; gray: boolean }): Promise<{ bytes: Buffer; width: number; height: number }>;
}

// The batch route (labeling through Vertex AI BatchPredictionJobs).

/** One image of a chunk, keyed in the instance file by its result id (instanceConfig.keyField). */
export interface ChunkImage {
  id: string;
  imageUri: string;
  generation: string | null;
}

export interface BatchChunk {
  job: string;
  /** 1-based */
  chunk: number;
  model: string;
  images: ChunkImage[];
  inputUri: string;
  outputUriPrefix: string;
  /** projects/P/locations/L/batchPredictionJobs/ID once created */
  vertexJob?: string;
  /** the Vertex AI model (name@version) the job runs */
  vertexModel?: string;
  state: 'PREPARED' | 'SUBMITTED' | 'IMPORTED';
  /** how far the importer got: output files before `file` (in name order) are done, and `line` lines of it */
  cursor?: { file: number; line: number };
}

/** jobs/{job}/batches/{chunk} */
export interface BatchChunkStore {
  get(job: string, chunk: number): Promise<BatchChunk | undefined>;
  put(c: BatchChunk): Promise<void>;
  /** chunks of every job that are prepared or submitted, not yet imported */
  open(): Promise<BatchChunk[]>;
  /**
   * Takes (or, for the same owner, extends) a chunk's lease until `nowMs + leaseMs`, in a
   * transaction: the chunk as stored, or undefined when it is imported, gone, or leased to another
   * owner whose lease has not run out by `nowMs`. One follower tick works a chunk at a time,
   * however many run at once.
   */
  claim(job: string, chunk: number, owner: string, nowMs: number, leaseMs: number): Promise<BatchChunk | undefined>;
  /** gives the lease back if `owner` still holds it */
  release(job: string, chunk: number, owner: string): Promise<void>;
}

export interface BatchJobView {
  /** succeeded: its output can be imported; failed: it ended without (failed, cancelled, expired); else still running */
  phase: 'running' | 'succeeded' | 'failed';
  /** Vertex AI's own name for the state, without its JOB_STATE_ prefix (e.g. CANCELLED), for messages */
  state: string;
  error?: string;
  outputDirectory?: string;
}

/** Vertex AI JobService, the batch prediction part dropship uses. */
export interface BatchJobs {
  /** the job created earlier with this label value, if any (a create whose answer was lost) */
  findByLabel(value: string): Promise<string | undefined>;
  create(req: { displayName: string; model: string; inputUri: string; outputUriPrefix: string; keyField: string; batchSize: number; label: string }): Promise<string>;
  get(name: string): Promise<BatchJobView>;
}

/** Cloud Storage for batch files: instance files written by the pipeline, output read back. */
export interface BatchFiles {
  write(uri: string, body: Buffer): Promise<void>;
  /** object URIs under a gs:// prefix, in name order */
  list(prefixUri: string): Promise<string[]>;
  read(uri: string): Promise<Buffer>;
}

/** The Vertex AI model (with @version) that serves a dropship model, for batch jobs. */
export interface BatchModels {
  vertexModelOf(model: string): Promise<string | undefined>;
}
