import { z } from 'zod';

/** A message on `prediction-requests`: images of one job, labeled by one model. */
export const predictionRequestSchema = z.object({
  job: z.string().min(1),
  model: z.string().min(1),
  images: z
    .array(
      z.object({
        bucket: z.string().min(1),
        name: z.string().min(1),
        /** pinned for folder drops (the finalized generation); absent for manifest URIs */
        generation: z.string().regex(/^\d+$/).optional(),
      }),
    )
    .min(1),
});

export type PredictionRequest = z.infer<typeof predictionRequestSchema>;

export function requestAttributes(r: PredictionRequest): Record<string, string> {
  return { job: r.job, model: r.model, images: String(r.images.length) };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
