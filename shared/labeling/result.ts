import { createHash } from 'node:crypto';

export type ResultStatus = 'OK' | 'ERROR';

/** One image's outcome in one job: the fields of `jobs/{job}/results/{id}` (PRODUCT.md "State"). */
export interface LabelResult {
  id: string;
  job: string;
  imageUri: string;
  /** the generation that was labeled; null when the object could not be read */
  generation: string | null;
  status: ResultStatus;
  label: string | null;
  confidence: number | null;
  /** a sentence a user can act on, for ERROR results */
  error: string | null;
  /** a stable machine-readable cause for ERROR results, e.g. TOO_MANY_PIXELS */
  reason: string | null;
  /** the dropship model (models/{model}) the job asked for */
  modelName: string | null;
  /** the Vertex AI model resource that answered */
  model: string | null;
  modelVersionId: string | null;
  deployedModelId: string | null;
  /** milliseconds the predict call that labeled this image took (with its retries) */
  latencyMs: number | null;
}

/**
 * The result id: one per (bucket, object, generation) per job, so any number of deliveries
 * of the same image into the same job land on the same document.
 */
export function resultId(job: string, bucket: string, name: string, generation: string | null): string {
  return digest(`${job}\n${bucket}\n${name}\n${generation ?? 'unreadable'}`);
}

/** The id of the ERROR result for a manifest line that is not an image URI. */
export function manifestLineResultId(job: string, manifestUri: string, line: number): string {
  return digest(`${job}\n${manifestUri}\nline ${line}`);
}

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 40);
}

export function okResult(base: Pick<LabelResult, 'id' | 'job' | 'imageUri' | 'generation'>, fields: Pick<LabelResult, 'label' | 'confidence' | 'modelName' | 'model' | 'modelVersionId' | 'deployedModelId' | 'latencyMs'>): LabelResult {
  return { ...base, status: 'OK', error: null, reason: null, ...fields };
}

export function errorResult(base: Pick<LabelResult, 'id' | 'job' | 'imageUri' | 'generation'>, error: string, reason: string, modelName: string | null = null): LabelResult {
  return { ...base, status: 'ERROR', label: null, confidence: null, error, reason, modelName, model: null, modelVersionId: null, deployedModelId: null, latencyMs: null };
}

/** Attributes of a result message on `prediction-results`, for subscription filters. */
export function resultAttributes(r: LabelResult): Record<string, string> {
  // resultId lets a subscriber drop the rare second copy: a worker that dies between publishing
  // a result and flagging it published leaves it to be published again after its lease.
  const attrs: Record<string, string> = { type: 'result', job: r.job, status: r.status, resultId: r.id };
  if (r.label !== null) attrs.label = r.label;
  if (r.modelName !== null) attrs.model = r.modelName;
  return attrs;
}
