import { randomInt } from 'node:crypto';
import type { ObjectRecord } from './object-record';
import { objectResource } from './object-resource';

export const FINALIZED = 'google.cloud.storage.object.v1.finalized';
export const DELETED = 'google.cloud.storage.object.v1.deleted';
export const METADATA_UPDATED = 'google.cloud.storage.object.v1.metadataUpdated';
export const EVENT_TYPES = [FINALIZED, DELETED, METADATA_UPDATED] as const;
export type StorageEventType = (typeof EVENT_TYPES)[number];

/** One CloudEvent in HTTP binary mode: context attributes as ce-* headers, data as the body. */
export interface BinaryCloudEvent {
  id: string;
  type: StorageEventType;
  bucket: string;
  name: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The event Eventarc delivers for a Cloud Storage change: source and subject name the bucket
 * and object, the `bucket` extension attribute is what Eventarc triggers filter on, and the
 * data is the object resource (StorageObjectData) with int64 fields as strings.
 */
export function storageCloudEvent(type: StorageEventType, record: ObjectRecord, baseUrl: string, time: string): BinaryCloudEvent {
  // Eventarc ids for Cloud Storage events are decimal numbers, like Pub/Sub message ids.
  const id = String(randomInt(1, 2 ** 47)) + String(randomInt(0, 1000)).padStart(3, '0');
  const body = JSON.stringify(objectResource(record, baseUrl));
  return {
    id,
    type,
    bucket: record.bucket,
    name: record.name,
    body,
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${record.bucket}`,
      'ce-type': type,
      'ce-subject': headerSafe(`objects/${record.name}`),
      'ce-time': time,
      'ce-bucket': record.bucket,
    },
  };
}

/** Accepts the full CloudEvent type or its last word ("finalized"). */
export function normalizeEventType(t: string): StorageEventType | undefined {
  const full = t.includes('.') ? t : `google.cloud.storage.object.v1.${t}`;
  return (EVENT_TYPES as readonly string[]).includes(full) ? (full as StorageEventType) : undefined;
}

/** HTTP header values must be visible ASCII: other characters are percent-encoded. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
}
