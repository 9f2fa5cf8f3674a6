import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobServiceClient } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { silentLogger } from '#shared/logging/logger';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { startVertexEmulator, type VertexEmulator } from '#local/vertex-emulator/start';
import { Clients, LOCATION } from './harness';
import { uniqueProjectId } from '../../support/emulator-env';

/** A Vertex AI emulator whose gcsRoot is a running Storage emulator's data folder, with the official JobServiceClient. */
export class BatchHarness {
  clients!: Clients;
  jobs!: JobServiceClient;
  vertex!: VertexEmulator;
  readonly parent = `projects/${uniqueProjectId('demo-batch')}/locations/${LOCATION}`;
  readonly vertexDir = mkdtempSync(join(tmpdir(), 'vertex-batch-'));

  private constructor(
    readonly storage: StorageEmulator,
    readonly storageDir: string,
  ) {}

  static async start(opts: { restPort?: number } = {}): Promise<BatchHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'storage-batch-'));
    const storage = await startStorageEmulator({ dataDir: dir, logger: silentLogger });
    const h = new BatchHarness(storage, dir);
    await h.startVertex(opts.restPort);
    return h;
  }

  async startVertex(restPort?: number): Promise<void> {
    this.vertex = await startVertexEmulator({
      dataDir: this.vertexDir,
      gcsRoot: this.storageDir,
      storageUrl: this.storage.url,
      lroDelayMs: 30,
      logger: silentLogger,
      ...(restPort !== undefined ? { restPort } : {}),
    });
    this.clients = new Clients(this.vertex.endpoint);
    this.jobs = new JobServiceClient(vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: this.vertex.endpoint }));
  }

  async stopVertex(): Promise<void> {
    await this.jobs.close();
    await this.clients.close();
    await this.vertex.stop();
  }

  async close(): Promise<void> {
    await this.stopVertex();
    await this.storage.stop();
    rmSync(this.vertexDir, { recursive: true, force: true });
    rmSync(this.storageDir, { recursive: true, force: true });
  }

  async createBucket(name: string): Promise<void> {
    const res = await fetch(`${this.storage.url}/storage/v1/b?project=demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (!res.ok && res.status !== 409) throw new Error(`bucket ${name}: ${res.status} ${await res.text()}`);
  }

  async put(bucket: string, name: string, body: Buffer | string): Promise<string> {
    const res = await fetch(`${this.storage.url}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    if (!res.ok) throw new Error(`put ${name}: ${res.status} ${await res.text()}`);
    return `gs://${bucket}/${name}`;
  }

  /** Object names under a prefix, as the Storage emulator's JSON API lists them. */
  async list(bucket: string, prefix: string): Promise<string[]> {
    const res = await fetch(`${this.storage.url}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}`);
    const body = (await res.json()) as { items?: Array<{ name: string }> };
    return (body.items ?? []).map((i) => i.name).sort();
  }

  async get(bucket: string, name: string): Promise<string> {
    const res = await fetch(`${this.storage.url}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`);
    if (!res.ok) throw new Error(`get ${name}: ${res.status}`);
    return res.text();
  }

  /** Polls GetBatchPredictionJob until the state is one of `states`, recording every state seen; fails past the bound. */
  async waitFor(name: string, states: string[], seen: string[] = [], timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [job] = await this.jobs.getBatchPredictionJob({ name });
      const state = String(job.state);
      if (seen[seen.length - 1] !== state) seen.push(state);
      if (states.includes(state)) return job;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${name} to be ${states.join('|')}; states seen: ${seen.join(' -> ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export const jsonLines = (text: string): Array<Record<string, any>> =>
  // eslint-disable-line @typescript-eslint/no-explicit-any
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
