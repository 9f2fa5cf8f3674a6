import { z } from 'zod';

// Same rule as the models bucket: lowercase, digits, hyphens; starts with a letter.
export const modelNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a model name: lowercase letters, digits, hyphens; starts with a letter');

/** How a job's images reach the model: online predict calls, a Vertex AI batch prediction job, or whichever the cost model picks. */
export const jobModeSchema = z.enum(['online', 'batch', 'auto']);
export type JobMode = z.infer<typeof jobModeSchema>;

/** "90m", "2h", "1.5d": how long an `auto` job may take. */
export const deadlineSchema = z.string().regex(/^\d+(\.\d+)?(m|h|d)$/, 'a duration such as "90m", "2h" or "1d"');

/** `<job>/_job.json`: per-job options. */
export const jobSpecSchema = z.object({ model: modelNameSchema.optional(), mode: jobModeSchema.optional(), deadline: deadlineSchema.optional() }).loose();

export type JobSpec = z.infer<typeof jobSpecSchema>;

export function parseJobSpec(text: string): JobSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`_job.json is not JSON: ${(err as Error).message}`);
  }
  const r = jobSpecSchema.safeParse(json);
  if (!r.success) throw new Error(`_job.json: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
