import type { Storage } from '@google-cloud/storage';
import type { ArtifactObject, ArtifactStore } from '../ports';

/** Version folders in the models bucket, read with the Cloud Storage client. */
export function gcsArtifactStore(storage: Storage): ArtifactStore {
  return {
    async listFolder(bucket, prefix) {
      const [files] = await storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
      return files.map(
        (f): ArtifactObject => ({
          path: f.name.slice(prefix.length),
          generation: String(f.metadata.generation ?? ''),
          size: Number(f.metadata.size ?? 0),
        }),
      );
    },
    async read(bucket, name) {
      try {
        const [bytes] = await storage.bucket(bucket).file(name).download();
        return bytes;
      } catch (err) {
        if ((err as { code?: unknown }).code === 404) return undefined;
        throw err;
      }
    },
    async copy(bucket, from, to) {
      // copy() follows the rewrite token, so objects of any size are copied in full
      await storage.bucket(bucket).file(from).copy(storage.bucket(bucket).file(to));
    },
  };
}
