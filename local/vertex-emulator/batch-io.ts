import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { failedPrecondition, invalidArgument } from './api-error';

/**
 * Cloud Storage as a batch prediction job sees it. Inputs are read where the emulator reads
 * model artifacts (gcsRoot/bucket/name, the Storage emulator's data folder). Outputs go through
 * the Storage emulator's JSON API when its URL is known, so each file is one object generation
 * with one `finalized` event and is listed the moment the job says SUCCEEDED; without the URL
 * they are renamed into the bucket folder, where a running Storage emulator's folder watcher
 * registers them once settled.
 */
export interface GcsUri {
  bucket: string;
  name: string;
}

export function parseGcsUri(uri: string, what: string): GcsUri {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])\/(.*)$/.exec(uri);
  if (!m) throw invalidArgument(`${what} must be a gs://bucket/path URI, got "${uri}".`);
  return { bucket: m[1]!, name: m[2]! };
}

/**
 * The objects a gcsSource URI names: itself, or with wildcards as Cloud Storage spells them
 * (`*` within one folder level, `**` across levels), in name order.
 */
export async function matchObjects(gcsRoot: string | undefined, uri: string): Promise<GcsUri[]> {
  const root = requireRoot(gcsRoot, uri);
  const u = parseGcsUri(uri, 'inputConfig.gcsSource.uris[]');
  if (!u.name.includes('*')) return [u];
  const pattern = new RegExp(
    `^${u.name
      .split(/(\*\*|\*)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
  const fixed = u.name.slice(0, u.name.indexOf('*'));
  const startDir = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/')) : '';
  const bucketDir = join(root, u.bucket);
  const names: string[] = [];
  await walk(join(bucketDir, ...startDir.split('/').filter(Boolean)), bucketDir, names);
  return names
    .filter((n) => pattern.test(n))
    .sort()
    .map((name) => ({ bucket: u.bucket, name }));
}

async function walk(dir: string, bucketDir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, bucketDir, out);
    else if (e.isFile()) out.push(relative(bucketDir, full).split(sep).join('/'));
  }
}

export async function readObject(gcsRoot: string | undefined, u: GcsUri): Promise<Buffer> {
  const root = requireRoot(gcsRoot, `gs://${u.bucket}/${u.name}`);
  return readFile(join(root, u.bucket, ...u.name.split('/')));
}

export type ObjectWriter = (u: GcsUri, bytes: Buffer, contentType: string) => Promise<void>;

export function objectWriter(gcsRoot: string | undefined, storageUrl: () => string | undefined): ObjectWriter {
  return async (u, bytes, contentType) => {
    const url = storageUrl();
    if (url) {
      const res = await fetch(`${url.replace(/\/$/, '')}/upload/storage/v1/b/${encodeURIComponent(u.bucket)}/o?uploadType=media&name=${encodeURIComponent(u.name)}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(bytes),
      });
      if (!res.ok) throw new Error(`writing gs://${u.bucket}/${u.name}: ${res.status} ${await res.text()}`);
      return;
    }
    const root = requireRoot(gcsRoot, `gs://${u.bucket}/${u.name}`);
    // Staged outside every bucket (bucket names cannot start with a dot), then renamed in whole.
    const staging = join(root, '.vertex-emulator-staging');
    mkdirSync(staging, { recursive: true });
    const tmp = join(staging, randomUUID());
    await writeFile(tmp, bytes);
    const target = join(root, u.bucket, ...u.name.split('/'));
    mkdirSync(join(target, '..'), { recursive: true });
    await rename(tmp, target);
  };
}

function requireRoot(gcsRoot: string | undefined, uri: string): string {
  if (!gcsRoot) throw failedPrecondition(`${uri} is in Cloud Storage, but this emulator was started without a gcsRoot (--gcs-root DIR) to find buckets in.`);
  return gcsRoot;
}
