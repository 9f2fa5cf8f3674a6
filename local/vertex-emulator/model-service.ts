import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from './api-error';
import { V1, type EmulatorContext } from './context';
import { unary } from './grpc-handler';
import { paginate, parseListFilter } from './list-filter';
import { assignAliases, DEFAULT_ALIAS, deployedRefs, findModel, mergeAliases, modelToProto, resolveVersion } from './model-registry';
import { checkAlias, checkModelId, locationPath, modelPath, numericId, parseLocation } from './names';
import { nowIso, type ModelRecord, type ModelVersionRecord } from './store';

/* Request shapes as @grpc/proto-loader decodes them (camelCase, unset fields absent). */
interface ModelIn {
  displayName?: string;
  description?: string;
  versionDescription?: string;
  artifactUri?: string;
  containerSpec?: Record<string, unknown>;
  labels?: Record<string, string>;
  versionAliases?: string[];
}

interface UploadTask extends Record<string, unknown> {
  modelName: string;
  newModel: boolean;
  model: ModelIn;
}

/** google.cloud.aiplatform.v1.ModelService: the model registry, with versions and aliases. */
export function modelService(ctx: EmulatorContext): UntypedServiceImplementation {
  const { store, ops, log } = ctx;
  const state = store.state;
  const managed = () => ctx.faults.apply('management');
  const handle = <Req, Res>(method: string, fn: (req: Req) => Promise<Res>) => unary<Req, Res>(log, `ModelService.${method}`, fn, managed);

  ops.register('uploadModel', async (task) => {
    const t = task as UploadTask;
    const now = nowIso();
    const existing = state.models[t.modelName];
    if (t.newModel && existing) throw alreadyExists(`Model ${t.modelName} already exists; pass parentModel to upload a new version of it.`);
    if (!t.newModel && !existing) throw notFound(`Model ${t.modelName} was not found (it was deleted while this upload ran).`);
    const versionId = store.mutate((s) => {
      const model: ModelRecord = existing ?? { name: t.modelName, versions: [], nextVersionId: 1 };
      s.models[t.modelName] = model;
      const v: ModelVersionRecord = {
        versionId: String(model.nextVersionId++),
        displayName: t.model.displayName ?? '',
        description: t.model.description ?? '',
        versionDescription: t.model.versionDescription ?? '',
        artifactUri: t.model.artifactUri ?? '',
        ...(t.model.containerSpec ? { containerSpec: t.model.containerSpec } : {}),
        labels: t.model.labels ?? {},
        aliases: [],
        createTime: now,
        updateTime: now,
      };
      model.versions.push(v);
      const aliases = [...(t.model.versionAliases ?? [])];
      if (model.versions.length === 1 && !aliases.includes(DEFAULT_ALIAS)) aliases.unshift(DEFAULT_ALIAS);
      assignAliases(model, v, aliases);
      return v.versionId;
    });
    return { type: `${V1}.UploadModelResponse`, value: { model: t.modelName, modelVersionId: versionId } };
  });

  ops.register('deleteModel', async (task) => {
    const name = task.modelName as string;
    const versionId = task.versionId as string | undefined;
    store.mutate((s) => {
      const model = s.models[name];
      if (!model) return;
      if (versionId === undefined) delete s.models[name];
      else model.versions = model.versions.filter((v) => v.versionId !== versionId);
    });
    return { type: 'google.protobuf.Empty', value: {} };
  });

  return {
    UploadModel: handle('UploadModel', async (req: { parent: string; parentModel?: string; modelId?: string; model?: ModelIn }) => {
      const loc = parseLocation(req.parent);
      const m = req.model;
      if (!m) throw invalidArgument('UploadModelRequest.model is required.');
      if (!m.displayName) throw invalidArgument('model.displayName is required.');
      if (m.displayName.length > 128) throw invalidArgument(`model.displayName is ${m.displayName.length} characters long; the limit is 128.`);
      for (const a of m.versionAliases ?? []) checkAlias(a);
      let modelName: string;
      let newModel: boolean;
      if (req.parentModel) {
        const { model, parsed } = findModel(state, req.parentModel);
        if (parsed.versionSpec) throw invalidArgument(`parentModel must name a model, not a version: drop "@${parsed.versionSpec}".`);
        if (parsed.project !== loc.project || parsed.location !== loc.location) {
          throw invalidArgument(`parentModel ${req.parentModel} is not under parent ${req.parent}.`);
        }
        if (req.modelId && req.modelId !== parsed.modelId) throw invalidArgument('Set either modelId (a new model) or parentModel (a new version), not both.');
        modelName = model.name;
        newModel = false;
      } else {
        if (req.modelId) checkModelId(req.modelId);
        modelName = modelPath(loc, req.modelId || numericId());
        if (state.models[modelName]) throw alreadyExists(`Model ${modelName} already exists; pass parentModel to upload a new version of it.`);
        newModel = true;
      }
      const task: UploadTask = { modelName, newModel, model: m };
      const op = ops.start('uploadModel', modelName, { type: `${V1}.UploadModelOperationMetadata`, value: {} }, task);
      log.info('upload model accepted', { model: modelName, operation: op.name });
      return ctx.opView(op);
    }),

    GetModel: handle('GetModel', async (req: { name: string }) => {
      const { model, parsed } = findModel(state, req.name);
      return modelToProto(state, model, resolveVersion(model, parsed.versionSpec));
    }),

    ListModels: handle('ListModels', async (req: { parent: string; filter?: string; pageSize?: number; pageToken?: string }) => {
      const prefix = `${locationPath(parseLocation(req.parent))}/models/`;
      const matches = parseListFilter(req.filter);
      const models = Object.values(state.models)
        .filter((m) => m.name.startsWith(prefix) && m.versions.length > 0)
        .map((m) => ({ m, v: resolveVersion(m, undefined) }))
        .filter(({ v }) => matches(v));
      const { page, nextPageToken } = paginate(models, req.pageSize, req.pageToken);
      return { models: page.map(({ m, v }) => modelToProto(state, m, v)), nextPageToken };
    }),

    ListModelVersions: handle('ListModelVersions', async (req: { name: string; filter?: string; pageSize?: number; pageToken?: string }) => {
      const { model, parsed } = findModel(state, req.name);
      if (parsed.versionSpec) throw invalidArgument(`ListModelVersions takes a model name without "@${parsed.versionSpec}".`);
      const matches = parseListFilter(req.filter);
      const { page, nextPageToken } = paginate(model.versions.filter(matches), req.pageSize, req.pageToken);
      return { models: page.map((v) => modelToProto(state, model, v)), nextPageToken };
    }),

    MergeVersionAliases: handle('MergeVersionAliases', async (req: { name: string; versionAliases?: string[] }) => {
      const { model, parsed } = findModel(state, req.name);
      if (!parsed.versionSpec) throw invalidArgument('MergeVersionAliases needs a version in the name, e.g. models/ID@2.');
      const changes = req.versionAliases ?? [];
      for (const c of changes) checkAlias(c.replace(/^-/, ''));
      const v = resolveVersion(model, parsed.versionSpec);
      store.mutate(() => {
        mergeAliases(model, v, changes);
        v.updateTime = nowIso();
      });
      return modelToProto(state, model, v);
    }),

    DeleteModel: handle('DeleteModel', async (req: { name: string }) => {
      const { model, parsed } = findModel(state, req.name);
      if (parsed.versionSpec) throw invalidArgument(`DeleteModel deletes every version; to delete only version ${parsed.versionSpec} call DeleteModelVersion.`);
      const refs = deployedRefs(state, model.name);
      if (refs.length) {
        throw failedPrecondition(`Model ${model.name} is deployed (${refs.map((r) => `version ${r.modelVersionId} as ${r.deployedModelId} on ${r.endpoint}`).join('; ')}). Undeploy it first.`);
      }
      const op = ops.start('deleteModel', model.name, { type: `${V1}.DeleteOperationMetadata`, value: {} }, { modelName: model.name });
      return ctx.opView(op);
    }),

    DeleteModelVersion: handle('DeleteModelVersion', async (req: { name: string }) => {
      const { model, parsed } = findModel(state, req.name);
      if (!parsed.versionSpec) throw invalidArgument('DeleteModelVersion needs a version in the name, e.g. models/ID@2; DeleteModel deletes the whole model.');
      const v = resolveVersion(model, parsed.versionSpec);
      if (v.aliases.includes(DEFAULT_ALIAS)) throw failedPrecondition(`Version ${v.versionId} holds the default alias; move it to another version (MergeVersionAliases) first.`);
      const refs = deployedRefs(state, model.name).filter((r) => r.modelVersionId === v.versionId);
      if (refs.length) throw failedPrecondition(`Version ${v.versionId} of ${model.name} is deployed on ${refs.map((r) => r.endpoint).join(', ')}. Undeploy it first.`);
      const op = ops.start('deleteModel', model.name, { type: `${V1}.DeleteOperationMetadata`, value: {} }, { modelName: model.name, versionId: v.versionId });
      return ctx.opView(op);
    }),
  };
}
