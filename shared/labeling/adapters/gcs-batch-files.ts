import type { Storage } from '@google-cloud/storage';
import type { BatchFiles } from '../ports';
import { parseGsUri } from '../core/gs-uri';
import { GENERATED_BY_KEY } from '../core/object-kind';

/** Batch instance files written with the pipeline's marker metadata; output read back with the real client. */
export function gcsBatchFiles(storage: Storage): BatchFiles {
  const ref = (uri: string) => {
    const r = parseGsUri(uri);
    if (!r) throw new Error(`not a gs:// object URI: ${uri}`);
    return r;
  };
  return {
    async write(uri, body) {
      const r = ref(uri);
      await storage
        .bucket(r.bucket)
        .file(r.name)
        .save(body, { resumable: false, contentType: 'application/jsonl', metadata: { metadata: { [GENERATED_BY_KEY]: 'batch-route' } } });
    },
    async list(prefixUri) {
      const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(prefixUri);
      if (!m) throw new Error(`not a gs:// prefix: ${prefixUri}`);
      const [files] = await storage.bucket(m[1]!).getFiles({ prefix: m[2]! });
      return files.map((f) => `gs://${m[1]}/${f.name}`).sort();
    },
    async read(uri) {
      const r = ref(uri);
      const [bytes] = await storage.bucket(r.bucket).file(r.name).download({ validation: false });
      return bytes;
    },
  };
}
