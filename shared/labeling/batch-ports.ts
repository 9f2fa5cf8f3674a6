/**
 * Ports of the batch route (labeling through Vertex AI BatchPredictionJobs). No cloud client
 * types here: adapters in ./adapters implement them.
 */

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
}

export interface BatchJobView {
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
