import { createHash } from 'node:crypto';
import { z } from 'zod';

const nullableText = z.string().nullable();

/**
 * One image's outcome in one job: the document `jobs/{job}/results/{id}` (PRODUCT.md "State"),
 * defined once. The store writes and takes over exactly these fields, the result message on
 * `prediction-results` is this plus `type` (#shared/messages/contract), and `dropship results`
 * prints them. A field is only ever appended, nullable (the messages' versioning rule).
 */
export const labelResultSchema = z
  .strictObject({
    id: z.string().describe('the result id: stable per (job, bucket, object, generation)'),
    job: z.string().describe("the job: the first folder of the image's path, or the manifest's folder"),
    imageUri: z.string().describe('gs://bucket/object of the image (for a bad manifest line: the manifest URI with #line=N)'),
    generation: nullableText.describe('the object generation that was labeled; null when the object could not be read'),
    status: z.enum(['OK', 'ERROR']).describe('OK or ERROR'),
    label: nullableText.describe('the predicted label (OK results)'),
    confidence: z.number().nullable().describe("the predicted label's probability, 0..1 (OK results)"),
    error: nullableText.describe('a sentence a user can act on (ERROR results)'),
    reason: nullableText.describe('a stable machine-readable cause such as TOO_MANY_PIXELS (ERROR results)'),
    modelName: nullableText.describe('the dropship model (models/<model>) the job asked for'),
    model: nullableText.describe('the Vertex AI model resource that answered'),
    modelVersionId: nullableText.describe('the Vertex AI model version that answered'),
    deployedModelId: nullableText.describe('the deployed model on the endpoint that answered'),
    latencyMs: z.number().int().nullable().describe('milliseconds the predict call took, with its retries'),
  })
  .describe("One image's outcome in one job: the fields of jobs/{job}/results/{id}");

export type LabelResult = z.infer<typeof labelResultSchema>;
export type ResultStatus = LabelResult['status'];
export type ResultField = keyof LabelResult;

/** The document's fields, in the schema's order. */
export const RESULT_FIELDS: readonly ResultField[] = labelResultSchema.keyof().options;

/**
 * The result a stored document holds: its schema fields (a field the document lacks, written
 * before the field existed, is null), checked against the schema; the store's own bookkeeping
 * beside them (published, leases, timestamps) is left out.
 */
export function resultFromDocument(doc: Readonly<Record<string, unknown>>): LabelResult {
  return labelResultSchema.parse(Object.fromEntries(RESULT_FIELDS.map((k) => [k, doc[k] ?? null])));
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

export function okResult(
  base: Pick<LabelResult, 'id' | 'job' | 'imageUri' | 'generation'>,
  fields: Pick<LabelResult, 'label' | 'confidence' | 'modelName' | 'model' | 'modelVersionId' | 'deployedModelId' | 'latencyMs'>,
): LabelResult {
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
