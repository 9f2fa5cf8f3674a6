import type { ObjectRecord } from './object-record';

/**
 * The JSON API's object resource (also Eventarc's StorageObjectData): int64 fields as strings.
 * Links point at `baseUrl` so a consumer that follows them reaches the emulator.
 */
export function objectResource(r: ObjectRecord, baseUrl: string): Record<string, unknown> {
  const encoded = encodeURIComponent(r.name);
  return {
    kind: 'storage#object',
    id: `${r.bucket}/${r.name}/${r.generation}`,
    selfLink: `${baseUrl}/storage/v1/b/${r.bucket}/o/${encoded}`,
    mediaLink: `${baseUrl}/download/storage/v1/b/${r.bucket}/o/${encoded}?generation=${r.generation}&alt=media`,
    name: r.name,
    bucket: r.bucket,
    generation: r.generation,
    metageneration: r.metageneration,
    contentType: r.contentType,
    storageClass: 'STANDARD',
    size: String(r.size),
    md5Hash: r.md5Hash,
    crc32c: r.crc32c,
    etag: etag(r),
    timeCreated: r.timeCreated,
    updated: r.updated,
    timeStorageClassUpdated: r.timeCreated,
    ...(r.metadata && Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}),
    ...(r.cacheControl ? { cacheControl: r.cacheControl } : {}),
    ...(r.contentDisposition ? { contentDisposition: r.contentDisposition } : {}),
    ...(r.contentEncoding ? { contentEncoding: r.contentEncoding } : {}),
    ...(r.contentLanguage ? { contentLanguage: r.contentLanguage } : {}),
    ...(r.componentCount ? { componentCount: r.componentCount } : {}),
  };
}

/** Opaque, and changes with generation and metageneration, like Cloud Storage's. */
export function etag(r: Pick<ObjectRecord, 'generation' | 'metageneration'>): string {
  return Buffer.from(`${r.generation}/${r.metageneration}`).toString('base64');
}

export interface BucketRecord {
  name: string;
  timeCreated: string;
  updated: string;
  metageneration: string;
  location: string;
  storageClass: string;
  labels?: Record<string, string>;
}

export function bucketResource(b: BucketRecord, baseUrl: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    id: b.name,
    selfLink: `${baseUrl}/storage/v1/b/${b.name}`,
    projectNumber: '0',
    name: b.name,
    timeCreated: b.timeCreated,
    updated: b.updated,
    metageneration: b.metageneration,
    location: b.location,
    locationType: 'region',
    storageClass: b.storageClass,
    etag: Buffer.from(`${b.name}/${b.metageneration}`).toString('base64'),
    ...(b.labels ? { labels: b.labels } : {}),
  };
}
