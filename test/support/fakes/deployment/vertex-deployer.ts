import type { TrafficSplit } from '#shared/deployment/core/traffic';
import type { DeployRequest, DeployedModelInfo, EndpointInfo, OperationStatus, UploadRequest, VertexDeployer } from '#shared/deployment/ports';
import { AlreadyExistsError } from '#shared/errors';
import { failedPrecondition, FaultPlan, invalidArgument, notFound, stored } from '../faults';

type Method = keyof VertexDeployer;
type Outcome = { kind: 'upload'; result: { model: string; modelVersionId: string } } | { kind: 'deploy'; result: { deployedModelId: string } } | { kind: 'undeploy'; result: null };

interface FakeOperation {
  name: string;
  kind: Outcome['kind'];
  state: 'running' | 'done' | 'failed';
  error?: string;
  /** what the operation does to the fake's resources when it finishes, and what it returns */
  finish: () => Outcome;
  outcome?: Outcome;
  checks: number;
}

export interface FakeVertexOptions {
  project?: string;
  location?: string;
  /**
   * an operation is done at its (n+1)th check (0: the first check sees it done), or 'manual':
   * only when the test calls finish()
   */
  checksBeforeDone?: number | 'manual';
}

/**
 * Vertex AI's model registry and endpoints in memory, with the rules the deployment core
 * relies on: UploadModel with a modelId that exists fails with the port's AlreadyExistsError (a
 * new version needs parentModel), versions get ascending ids and their alias, DeployModel's
 * split key "0" is the model being deployed and an empty split leaves the endpoint's unchanged, a split must name
 * deployed models and sum to 100, UndeployModel of a model that still has traffic fails
 * FAILED_PRECONDITION unless its split takes the traffic away. Resources change only when an
 * operation finishes.
 */
export class FakeVertexDeployer implements VertexDeployer {
  readonly faults = new FaultPlan<Method>();
  readonly parent: string;
  readonly registry = new Map<string, { versions: Array<{ id: string; aliases: string[]; request: UploadRequest }> }>();
  readonly endpoints = new Map<string, { labels: Record<string, string>; deployedModels: DeployedModelInfo[]; trafficSplit: TrafficSplit }>();
  readonly operations = new Map<string, FakeOperation>();
  checksBeforeDone: number | 'manual';
  private ids = 1000;

  constructor(opts: FakeVertexOptions = {}) {
    this.parent = `projects/${opts.project ?? 'demo-project'}/locations/${opts.location ?? 'us-central1'}`;
    this.checksBeforeDone = opts.checksBeforeDone ?? 0;
  }

  modelName(modelId: string): string {
    return `${this.parent}/models/${modelId}`;
  }

  async startUpload(req: UploadRequest): Promise<string> {
    this.faults.check('startUpload', req);
    const name = req.parentModel ?? this.modelName(req.modelId);
    if (!req.parentModel && this.registry.has(name)) throw new AlreadyExistsError(`6 ALREADY_EXISTS: model ${name} already exists`);
    if (req.parentModel && !this.registry.has(req.parentModel)) throw notFound(`parent model ${req.parentModel}`);
    return this.operation('upload', () => {
      const entry = this.registry.get(name) ?? { versions: [] };
      this.registry.set(name, entry);
      const id = String(entry.versions.length + 1);
      // the first version also gets `default`
      entry.versions.push({ id, aliases: entry.versions.length === 0 ? ['default', req.versionAlias] : [req.versionAlias], request: stored(req) });
      return { kind: 'upload', result: { model: name, modelVersionId: id } };
    });
  }

  async checkUpload(operation: string): Promise<OperationStatus<{ model: string; modelVersionId: string }>> {
    this.faults.check('checkUpload', operation);
    return this.status(operation, 'upload') as OperationStatus<{ model: string; modelVersionId: string }>;
  }

  async findVersionByAlias(vertexModel: string, alias: string) {
    this.faults.check('findVersionByAlias', vertexModel, alias);
    const v = this.registry.get(vertexModel)?.versions.find((x) => x.aliases.includes(alias));
    return v ? { model: vertexModel, modelVersionId: v.id } : undefined;
  }

  async findEndpoint(model: string): Promise<string | undefined> {
    this.faults.check('findEndpoint', model);
    return [...this.endpoints.entries()].find(([, e]) => e.labels['dropship-model'] === model)?.[0];
  }

  async createEndpoint(model: string): Promise<string> {
    this.faults.check('createEndpoint', model);
    const name = `${this.parent}/endpoints/${model}`;
    // the deterministic id makes a second create answer with the existing one (as the adapter does)
    if (!this.endpoints.has(name)) this.endpoints.set(name, { labels: { 'dropship-model': model }, deployedModels: [], trafficSplit: {} });
    return name;
  }

  async getEndpoint(endpoint: string): Promise<EndpointInfo> {
    this.faults.check('getEndpoint', endpoint);
    const e = this.endpoints.get(endpoint);
    if (!e) throw notFound(`endpoint ${endpoint}`);
    return stored({ name: endpoint, deployedModels: e.deployedModels, trafficSplit: e.trafficSplit });
  }

  async startDeploy(req: DeployRequest): Promise<string> {
    this.faults.check('startDeploy', req);
    const e = this.endpoints.get(req.endpoint);
    if (!e) throw notFound(`endpoint ${req.endpoint}`);
    const [model, versionId] = req.model.split('@');
    const version = this.registry.get(model!)?.versions.find((v) => v.id === versionId);
    if (!version) throw notFound(`model ${req.model}`);
    if (Object.keys(req.trafficSplit).length) this.checkSplit(e, req.trafficSplit, true);
    return this.operation('deploy', () => {
      const id = String(this.ids++);
      e.deployedModels.push({ id, model: model!, modelVersionId: versionId!, displayName: req.displayName });
      if (Object.keys(req.trafficSplit).length) e.trafficSplit = withoutZeros(Object.fromEntries(Object.entries(req.trafficSplit).map(([k, p]) => [k === '0' ? id : k, p])));
      return { kind: 'deploy', result: { deployedModelId: id } };
    });
  }

  async checkDeploy(operation: string): Promise<OperationStatus<{ deployedModelId: string }>> {
    this.faults.check('checkDeploy', operation);
    return this.status(operation, 'deploy') as OperationStatus<{ deployedModelId: string }>;
  }

  async setTraffic(endpoint: string, split: TrafficSplit): Promise<void> {
    this.faults.check('setTraffic', endpoint, split);
    const e = this.endpoints.get(endpoint);
    if (!e) throw notFound(`endpoint ${endpoint}`);
    this.checkSplit(e, split, false);
    e.trafficSplit = withoutZeros(split);
  }

  async startUndeploy(endpoint: string, deployedModelId: string, split?: TrafficSplit): Promise<string> {
    this.faults.check('startUndeploy', endpoint, deployedModelId, split);
    const e = this.endpoints.get(endpoint);
    if (!e) throw notFound(`endpoint ${endpoint}`);
    if (!e.deployedModels.some((d) => d.id === deployedModelId)) throw notFound(`deployed model ${deployedModelId}`);
    if ((e.trafficSplit[deployedModelId] ?? 0) > 0 && !(split && !split[deployedModelId])) throw failedPrecondition(`deployed model ${deployedModelId} still has traffic`);
    return this.operation('undeploy', () => {
      e.deployedModels = e.deployedModels.filter((d) => d.id !== deployedModelId);
      if (split) e.trafficSplit = withoutZeros(split);
      delete e.trafficSplit[deployedModelId];
      return { kind: 'undeploy', result: null };
    });
  }

  async checkUndeploy(operation: string): Promise<OperationStatus<null>> {
    this.faults.check('checkUndeploy', operation);
    return this.status(operation, 'undeploy') as OperationStatus<null>;
  }

  /** Finishes a running operation (the default: all of them) as Vertex would. */
  finish(name?: string): void {
    for (const op of this.operations.values()) {
      if (op.state !== 'running' || (name !== undefined && op.name !== name)) continue;
      op.outcome = op.finish();
      op.state = 'done';
    }
  }

  /** Ends a running operation in error; its resources do not change. */
  failOperation(name: string, error: string): void {
    const op = this.operations.get(name);
    if (op?.state !== 'running') throw new Error(`no running operation ${name}`);
    op.state = 'failed';
    op.error = error;
  }

  running(kind?: Outcome['kind']): string[] {
    return [...this.operations.values()].filter((o) => o.state === 'running' && (!kind || o.kind === kind)).map((o) => o.name);
  }

  /** A deployed model on `endpoint` (the model's endpoint, named after it) */
  deployed(model: string): DeployedModelInfo[] {
    return stored(this.endpoints.get(`${this.parent}/endpoints/${model}`)?.deployedModels ?? []);
  }

  split(model: string): TrafficSplit {
    return stored(this.endpoints.get(`${this.parent}/endpoints/${model}`)?.trafficSplit ?? {});
  }

  private operation(kind: Outcome['kind'], finish: () => Outcome): string {
    const name = `${this.parent}/operations/${kind}-${this.ids++}`;
    this.operations.set(name, { name, kind, state: 'running', finish, checks: 0 });
    return name;
  }

  private status(name: string, kind: Outcome['kind']): OperationStatus<unknown> {
    const op = this.operations.get(name);
    if (!op || op.kind !== kind) throw notFound(`operation ${name}`);
    if (op.state === 'running' && this.checksBeforeDone !== 'manual' && ++op.checks > this.checksBeforeDone) this.finish(name);
    if (op.state === 'running') return { done: false };
    if (op.state === 'failed') return { done: true, error: `Vertex AI operation failed (code 13): ${op.error}` };
    return { done: true, result: op.outcome!.result };
  }

  private checkSplit(e: { deployedModels: DeployedModelInfo[] }, split: TrafficSplit, allowNew: boolean): void {
    const known = new Set(e.deployedModels.map((d) => d.id));
    for (const id of Object.keys(split)) if (!(known.has(id) || (allowNew && id === '0'))) throw invalidArgument(`traffic split names ${id}, which is not deployed here`);
    const sum = Object.values(split).reduce((a, b) => a + b, 0);
    if (sum !== 100) throw invalidArgument(`traffic split sums to ${sum}, not 100`);
  }
}

function withoutZeros(split: TrafficSplit): TrafficSplit {
  return Object.fromEntries(Object.entries(split).filter(([, p]) => p > 0));
}
