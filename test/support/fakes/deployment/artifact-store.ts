import type { ArtifactObject, ArtifactStore } from '#shared/deployment/ports';
import { FaultPlan } from '../faults';

/** Buckets of objects in memory; every write is a new generation, as in Cloud Storage. */
export class FakeArtifactStore implements ArtifactStore {
  readonly faults = new FaultPlan<keyof ArtifactStore>();
  private readonly objects = new Map<string, { bytes: Buffer; generation: string }>();
  private generation = 1_700_000_000_000_000;

  /** Uploads `name` -> bytes into `bucket`; returns the object's generation. */
  put(bucket: string, name: string, bytes: Buffer | string): string {
    const generation = String(this.generation++);
    this.objects.set(`${bucket}/${name}`, { bytes: Buffer.from(bytes), generation });
    return generation;
  }

  delete(bucket: string, name: string): void {
    this.objects.delete(`${bucket}/${name}`);
  }

  names(bucket: string, prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1));
  }

  async listFolder(bucket: string, prefix: string): Promise<ArtifactObject[]> {
    this.faults.check('listFolder', bucket, prefix);
    const out: ArtifactObject[] = [];
    for (const [k, o] of this.objects) {
      if (k.startsWith(`${bucket}/${prefix}`)) out.push({ path: k.slice(bucket.length + 1 + prefix.length), generation: o.generation, size: o.bytes.length });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async read(bucket: string, name: string): Promise<Buffer | undefined> {
    this.faults.check('read', bucket, name);
    const o = this.objects.get(`${bucket}/${name}`);
    return o ? Buffer.from(o.bytes) : undefined;
  }

  async copy(bucket: string, from: string, to: string): Promise<void> {
    this.faults.check('copy', bucket, from, to);
    const o = this.objects.get(`${bucket}/${from}`);
    if (!o) throw Object.assign(new Error(`No such object: ${bucket}/${from}`), { code: 404 });
    this.put(bucket, to, o.bytes);
  }
}
