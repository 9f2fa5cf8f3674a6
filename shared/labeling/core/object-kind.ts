/**
 * What a file dropped into the images bucket asks for. The first path segment is the job;
 * `_manifest.jsonl` / `_manifest.txt` and `_job.json` directly under it are instructions,
 * anything else under the job is an image to label.
 */
export type ObjectKind = { kind: 'image'; job: string } | { kind: 'manifest'; job: string; format: 'jsonl' | 'txt' } | { kind: 'job-spec'; job: string } | { kind: 'no-job'; reason: string };

// Job ids become Firestore document ids and Pub/Sub attribute values: keep them plain.
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function classifyObject(name: string): ObjectKind {
  const slash = name.indexOf('/');
  if (slash <= 0) return { kind: 'no-job', reason: 'objects must live under a job folder: <job>/<file>' };
  const job = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (!JOB_ID.test(job)) return { kind: 'no-job', reason: `"${job}" is not a valid job id (letters, digits, . _ -; up to 128)` };
  if (rest === '' || rest.endsWith('/')) return { kind: 'no-job', reason: 'folder placeholder objects carry no image' };
  if (rest === '_manifest.jsonl') return { kind: 'manifest', job, format: 'jsonl' };
  if (rest === '_manifest.txt') return { kind: 'manifest', job, format: 'txt' };
  if (rest === '_job.json') return { kind: 'job-spec', job };
  return { kind: 'image', job };
}

/** Metadata key the pipeline puts on every object it writes, so they never re-trigger it. */
export const GENERATED_BY_KEY = 'dropship-generated-by';

export function isPipelineOutput(metadata: Record<string, string> | undefined): boolean {
  return !!metadata && GENERATED_BY_KEY in metadata;
}
