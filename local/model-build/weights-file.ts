import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The demo model's weights, stored where a SavedModel keeps its variables
 * (variables/variables.index + variables/variables.data-00000-of-00001) but in a simple,
 * documented layout rather than TensorFlow's SSTable/bundle format (no TensorFlow here):
 * the index is JSON listing each tensor's name, shape and float32 offset; the data file is
 * the tensors' little-endian float32 values back to back.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface IndexEntry {
  name: string;
  shape: number[];
  /** offset and length in float32 elements */
  offset: number;
  length: number;
}

export const INDEX_FILE = 'variables.index';
export const DATA_FILE = 'variables.data-00000-of-00001';

export async function writeWeights(dir: string, tensors: NamedTensor[], meta: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries: IndexEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    entries.push({ name: t.name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const all = new Float32Array(offset);
  for (let i = 0; i < tensors.length; i++) all.set(tensors[i].data, entries[i].offset);
  const bytes = Buffer.alloc(all.length * 4);
  for (let i = 0; i < all.length; i++) bytes.writeFloatLE(all[i], i * 4);
  const index = { format: 'dropship-weights-v1', dtype: 'float32', byteOrder: 'little-endian', ...meta, tensors: entries };
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(index, null, 1) + '\n');
  await writeFile(join(dir, DATA_FILE), bytes);
}

export async function readWeights(dir: string): Promise<Map<string, NamedTensor>> {
  const index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as { tensors: IndexEntry[] };
  const bytes = await readFile(join(dir, DATA_FILE));
  const out = new Map<string, NamedTensor>();
  for (const e of index.tensors) {
    const data = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) data[i] = bytes.readFloatLE((e.offset + i) * 4);
    out.set(e.name, { name: e.name, shape: e.shape, data });
  }
  return out;
}
