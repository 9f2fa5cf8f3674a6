import { createInterface } from 'node:readline';
import type { Storage } from '@google-cloud/storage';
import type { ObjectRef } from '../core/gs-uri';
import type { ObjectReader, StoredObject } from '../ports';

/**
 * Reads objects with the real client; the size is checked from metadata before any download.
 * Lines come from the object's read stream, so a manifest is never downloaded whole.
 */
export function gcsObjectReader(storage: Storage): ObjectReader {
  return {
    async read(ref: ObjectRef, maxBytes: number): Promise<StoredObject | undefined> {
      const file = storage.bucket(ref.bucket).file(ref.name, ref.generation ? { generation: Number(ref.generation) } : {});
      let meta;
      try {
        [meta] = await file.getMetadata();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const size = Number(meta.size ?? 0);
      const generation = String(meta.generation ?? ref.generation ?? '0');
      const base = { generation, size, ...(meta.contentType ? { contentType: meta.contentType } : {}) };
      if (size > maxBytes) return base;
      try {
        const [bytes] = await file.download({ validation: false });
        return { ...base, bytes };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    readLines(ref: ObjectRef): AsyncIterable<string> {
      const file = storage.bucket(ref.bucket).file(ref.name, ref.generation ? { generation: Number(ref.generation) } : {});
      return createInterface({ input: file.createReadStream({ validation: false }), crlfDelay: Number.POSITIVE_INFINITY });
    },
  };
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 404;
}
