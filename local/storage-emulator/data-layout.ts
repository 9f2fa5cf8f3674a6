import { createHash } from 'node:crypto';
import { join, sep } from 'node:path';

/**
 * Where things live under the data folder:
 *   <data>/<bucket>/<object name>           the bytes, as plain files a person can copy in
 *   <data>/.storage-emulator/buckets/       one JSON per bucket
 *   <data>/.storage-emulator/objects/<b>/   one JSON sidecar per object, named by a hash of
 *                                           the object name (any name fits in a file name)
 *   <data>/.storage-emulator/blobs/<b>/     bytes of objects whose names are not plain paths
 *   <data>/.storage-emulator/uploads/       resumable upload sessions
 *   <data>/.storage-emulator/tmp/           staging, renamed into place (same file system)
 *   <data>/.storage-emulator/notifications.json, dead-letter.jsonl
 * Bucket names cannot start with a dot, so the emulator's folder never collides with one.
 */
export const INTERNAL_DIR = '.storage-emulator';

export class DataLayout {
  readonly internal: string;
  constructor(readonly root: string) {
    this.internal = join(root, INTERNAL_DIR);
  }
  bucketDir(bucket: string): string {
    return join(this.root, bucket);
  }
  plainPath(bucket: string, name: string): string {
    return join(this.root, bucket, ...name.split('/'));
  }
  bucketMetaFile(bucket: string): string {
    return join(this.internal, 'buckets', `${bucket}.json`);
  }
  objectMetaDir(bucket: string): string {
    return join(this.internal, 'objects', bucket);
  }
  objectMetaFile(bucket: string, name: string): string {
    return join(this.objectMetaDir(bucket), `${nameHash(name)}.json`);
  }
  blobDir(bucket: string): string {
    return join(this.internal, 'blobs', bucket);
  }
  blobFile(bucket: string, name: string, generation: string): string {
    return join(this.blobDir(bucket), `${nameHash(name)}-${generation}`);
  }
  get uploadsDir(): string {
    return join(this.internal, 'uploads');
  }
  get tmpDir(): string {
    return join(this.internal, 'tmp');
  }
  get notificationsFile(): string {
    return join(this.internal, 'notifications.json');
  }
  get deadLetterFile(): string {
    return join(this.internal, 'dead-letter.jsonl');
  }

  /** bucket and object name of a plain file, from its path relative to the root */
  locate(relative: string): { bucket: string; name: string } | undefined {
    const parts = relative.split(sep);
    if (parts.length < 2 || !isBucketName(parts[0]!)) return undefined;
    return { bucket: parts[0]!, name: parts.slice(1).join('/') };
  }
}

/** Bucket naming rules without the dotted-name and "goog" subtleties. */
export function isBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name);
}

/**
 * Whether an object name can be a plain path: no empty, "." or ".." segment (so no leading or
 * trailing slash), and no segment longer than a file name may be.
 */
export function isPlainName(name: string): boolean {
  if (name.includes('\0')) return false;
  return name.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && Buffer.byteLength(s) <= 255);
}

function nameHash(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 40);
}
