/** A Cloud Storage object address, optionally pinned to one generation. */
export interface ObjectRef {
  bucket: string;
  name: string;
  /** decimal string (int64); absent means "the live generation" */
  generation?: string;
}

// Bucket names: 3-63 chars of lowercase letters, digits, dots, hyphens, underscores.
const GS_URI = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])\/(.+?)(?:#(\d+))?$/;

/** Parses `gs://bucket/name[#generation]`; undefined when the text is not such a URI. */
export function parseGsUri(text: string): ObjectRef | undefined {
  const m = GS_URI.exec(text.trim());
  if (!m) return undefined;
  const [, bucket, name, generation] = m;
  return generation ? { bucket: bucket!, name: name!, generation } : { bucket: bucket!, name: name! };
}

export function gsUri(ref: Pick<ObjectRef, 'bucket' | 'name'>): string {
  return `gs://${ref.bucket}/${ref.name}`;
}
