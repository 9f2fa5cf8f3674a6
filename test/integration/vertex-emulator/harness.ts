import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EndpointServiceClient, helpers, ModelServiceClient, PredictionServiceClient } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { silentLogger } from '#shared/logging/logger';
import { startVertexEmulator, type VertexEmulator, type VertexEmulatorOptions } from '#local/vertex-emulator/start';
import { uniqueProjectId } from '../../support/emulator-env';

export const DEMO_MODEL_DIR = resolve(__dirname, '../../../local/demo-model/mnist-vit');
export const LOCATION = 'us-central1';
export const TF_IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest';

/** The official clients, pointed at an emulator exactly as the functions point them. */
export class Clients {
  readonly models: ModelServiceClient;
  readonly endpoints: EndpointServiceClient;
  readonly predictions: PredictionServiceClient;

  constructor(endpoint: string) {
    const opts = vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: endpoint });
    this.models = new ModelServiceClient(opts);
    this.endpoints = new EndpointServiceClient(opts);
    this.predictions = new PredictionServiceClient(opts);
  }

  async close(): Promise<void> {
    await Promise.all([this.models.close(), this.endpoints.close(), this.predictions.close()]);
  }
}

export interface Harness {
  emulator: VertexEmulator;
  clients: Clients;
  dataDir: string;
  parent: string;
  close(): Promise<void>;
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'vertex-emulator-'));
}

export async function startHarness(opts: Partial<VertexEmulatorOptions> = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? newDataDir();
  const emulator = await startVertexEmulator({ lroDelayMs: 50, logger: silentLogger, ...opts, dataDir });
  const clients = new Clients(emulator.endpoint);
  return {
    emulator,
    clients,
    dataDir,
    parent: `projects/${uniqueProjectId('demo-vertex')}/locations/${LOCATION}`,
    async close() {
      await clients.close();
      await emulator.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function uploadModel(c: Clients, req: { parent: string; artifactUri: string; displayName?: string; parentModel?: string; versionAliases?: string[] }) {
  const [op] = await c.models.uploadModel({
    parent: req.parent,
    ...(req.parentModel ? { parentModel: req.parentModel } : {}),
    model: {
      displayName: req.displayName ?? 'mnist-vit',
      artifactUri: req.artifactUri,
      containerSpec: { imageUri: TF_IMAGE },
      ...(req.versionAliases ? { versionAliases: req.versionAliases } : {}),
    },
  });
  const [res] = await op.promise();
  return { model: res.model!, versionId: res.modelVersionId! };
}

export async function createEndpoint(c: Clients, parent: string, displayName = 'mnist-endpoint'): Promise<string> {
  const [op] = await c.endpoints.createEndpoint({ parent, endpoint: { displayName } });
  const [endpoint] = await op.promise();
  return endpoint.name!;
}

export const DEDICATED = { machineSpec: { machineType: 'n1-standard-8' }, minReplicaCount: 1, maxReplicaCount: 1 };

export async function deploy(c: Clients, endpoint: string, model: string, trafficSplit: Record<string, number>): Promise<string> {
  const [op] = await c.endpoints.deployModel({ endpoint, deployedModel: { model, dedicatedResources: DEDICATED }, trafficSplit });
  const [res] = await op.promise();
  return res.deployedModel!.id!;
}

export function imageInstance(bytes: Buffer) {
  return helpers.toValue({ string_input: { b64: bytes.toString('base64') } })!;
}

export function predictionsOf(res: { predictions?: unknown[] | null }): Array<{ label: string; confidence: number }> {
  return (res.predictions ?? []).map((p) => helpers.fromValue(p as never) as unknown as { label: string; confidence: number });
}
