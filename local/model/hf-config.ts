import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelConfigError } from './image-errors';

/**
 * The two JSON files Hugging Face exporters (transformers, optimum) write beside a model:
 * config.json carries id2label; preprocessor_config.json carries the image processor
 * settings. Only the fields the serving contract needs are read; the rest is ignored.
 */

const triple = z.union([z.number(), z.array(z.number()).length(3), z.array(z.number()).length(1)]).transform((v) => {
  const arr = typeof v === 'number' ? [v] : v;
  return arr.length === 1 ? [arr[0], arr[0], arr[0]] : arr;
});

// `size` is an int in older feature extractors and {height, width} in image processors.
const sizeSchema = z.union([
  z
    .number()
    .int()
    .positive()
    .transform((n) => ({ height: n, width: n })),
  z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
]);

const preprocessorSchema = z.object({
  do_resize: z.boolean().default(true),
  size: sizeSchema,
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  // ViT's defaults (IMAGENET_STANDARD_MEAN/STD) when a file leaves them out
  image_mean: triple.default([0.5, 0.5, 0.5]),
  image_std: triple.default([0.5, 0.5, 0.5]).refine((s) => s.every((v) => v !== 0), 'image_std must not contain 0'),
});

const configSchema = z.object({
  id2label: z.record(z.string().regex(/^\d+$/, 'id2label keys must be class indices'), z.string()).refine((r) => Object.keys(r).length > 0, 'id2label is empty'),
});

export interface Preprocessing {
  /** the size images are resized to; when do_resize is false, images must already have it */
  size: { height: number; width: number };
  doResize: boolean;
  /** per channel: value = pixel * scale[c] + offset[c] (rescale, then normalize, folded) */
  scale: [number, number, number];
  offset: [number, number, number];
}

export function parsePreprocessorConfig(json: unknown): Preprocessing {
  const r = preprocessorSchema.safeParse(json);
  if (!r.success) throw new ModelConfigError(`preprocessor_config.json: ${describe(r.error)}`);
  const p = r.data;
  const rescale = p.do_rescale ? p.rescale_factor : 1;
  const mean = p.do_normalize ? p.image_mean : [0, 0, 0];
  const std = p.do_normalize ? p.image_std : [1, 1, 1];
  const scale = [0, 1, 2].map((c) => rescale / std[c]) as [number, number, number];
  const offset = [0, 1, 2].map((c) => -mean[c] / std[c]) as [number, number, number];
  return { size: p.size, doResize: p.do_resize, scale, offset };
}

/** Labels indexed by class id; the ids must be exactly 0..n-1. */
export function parseModelConfig(json: unknown): string[] {
  const r = configSchema.safeParse(json);
  if (!r.success) throw new ModelConfigError(`config.json: ${describe(r.error)}`);
  const entries = Object.entries(r.data.id2label);
  const labels: string[] = new Array(entries.length);
  for (const [id, label] of entries) {
    const i = Number(id);
    if (i >= entries.length) throw new ModelConfigError(`config.json: id2label ids must be 0..${entries.length - 1}, found ${id}`);
    labels[i] = label;
  }
  return labels;
}

export async function readModelConfigs(modelDir: string): Promise<{ labels: string[]; preprocessing: Preprocessing }> {
  const load = async (file: string): Promise<unknown> => {
    let text: string;
    try {
      text = await readFile(join(modelDir, file), 'utf8');
    } catch {
      throw new ModelConfigError(`${file} is missing from ${modelDir}; the local runtime needs it beside model.onnx`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ModelConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
  };
  return {
    labels: parseModelConfig(await load('config.json')),
    preprocessing: parsePreprocessorConfig(await load('preprocessor_config.json')),
  };
}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
