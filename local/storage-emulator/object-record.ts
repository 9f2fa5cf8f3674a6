/**
 * What the emulator knows about one live object; persisted as a sidecar JSON file.
 * int64 values (generation, metageneration) are decimal strings, as on the wire.
 */
export interface ObjectRecord {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  contentType: string;
  size: number;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
  updated: string;
  metadata?: Record<string, string>;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  componentCount?: number;
  /**
   * Where the bytes are: `plain` at <dataDir>/<bucket>/<name>; `blob` under the emulator's own
   * folder, for names a file system cannot hold as a plain path (trailing slash, "a" beside
   * "a/b", "..", overlong segments), at a file name under the bucket's blob folder.
   */
  storage: { kind: 'plain' } | { kind: 'blob'; file: string };
  /** the file's identity when the emulator last saw it, to tell its own writes from a person's */
  stat: FileIdentity;
}

export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Fields a client may set on an object (upload metadata, patch, rewrite destination). */
export const WRITABLE_FIELDS = ['contentType', 'cacheControl', 'contentDisposition', 'contentEncoding', 'contentLanguage'] as const;

export interface WritableMetadata {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  metadata?: Record<string, string | null> | null;
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
