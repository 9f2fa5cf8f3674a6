import { failedPrecondition, notFound } from './api-error';
import { parseModelName, type ModelName } from './names';
import { timestamp, type EmulatorState, type ModelRecord, type ModelVersionRecord } from './store';

export const DEFAULT_ALIAS = 'default';

export function modelKey(n: Pick<ModelName, 'project' | 'location' | 'modelId'>): string {
  return `projects/${n.project}/locations/${n.location}/models/${n.modelId}`;
}

export function findModel(state: EmulatorState, name: string): { model: ModelRecord; parsed: ModelName } {
  const parsed = parseModelName(name);
  const model = state.models[modelKey(parsed)];
  if (!model) throw notFound(`Model ${modelKey(parsed)} was not found.`);
  return { model, parsed };
}

/** A version by id ("2"), by alias ("canary"), or the one holding `default` when no spec is given. */
export function resolveVersion(model: ModelRecord, spec: string | undefined): ModelVersionRecord {
  const wanted = spec ?? DEFAULT_ALIAS;
  const v = /^\d+$/.test(wanted) ? model.versions.find((x) => x.versionId === wanted) : model.versions.find((x) => x.aliases.includes(wanted));
  if (!v) {
    const known = model.versions.map((x) => `${x.versionId}${x.aliases.length ? ` (${x.aliases.join(', ')})` : ''}`).join('; ');
    throw notFound(`Model ${model.name} has no version ${/^\d+$/.test(wanted) ? wanted : `with alias "${wanted}"`}. Versions: ${known || 'none'}.`);
  }
  return v;
}

/** Gives `aliases` to `target`, taking each away from whichever version held it: aliases are unique per model. */
export function assignAliases(model: ModelRecord, target: ModelVersionRecord, aliases: readonly string[]): void {
  for (const alias of aliases) {
    for (const v of model.versions) if (v !== target) v.aliases = v.aliases.filter((a) => a !== alias);
    if (!target.aliases.includes(alias)) target.aliases.push(alias);
  }
}

/** MergeVersionAliases: "x" adds (moving it here), "-x" removes. `default` can move but never disappear. */
export function mergeAliases(model: ModelRecord, target: ModelVersionRecord, changes: readonly string[]): void {
  for (const change of changes) {
    if (change.startsWith('-')) {
      const alias = change.slice(1);
      if (alias === DEFAULT_ALIAS) throw failedPrecondition('The default alias cannot be removed; give it to another version instead.');
      target.aliases = target.aliases.filter((a) => a !== alias);
    } else {
      assignAliases(model, target, [change]);
    }
  }
}

export interface DeployedRef {
  endpoint: string;
  deployedModelId: string;
  modelVersionId: string;
}

/** Where versions of a model are deployed, read off the endpoints. */
export function deployedRefs(state: EmulatorState, modelName: string): DeployedRef[] {
  const refs: DeployedRef[] = [];
  for (const e of Object.values(state.endpoints)) {
    for (const d of e.deployedModels) if (d.model === modelName) refs.push({ endpoint: e.name, deployedModelId: d.id, modelVersionId: d.modelVersionId });
  }
  return refs;
}

/** A version as google.cloud.aiplatform.v1.Model. */
export function modelToProto(state: EmulatorState, model: ModelRecord, v: ModelVersionRecord): Record<string, unknown> {
  const first = model.versions[0];
  return {
    name: model.name,
    versionId: v.versionId,
    versionAliases: v.aliases,
    versionCreateTime: timestamp(v.createTime),
    versionUpdateTime: timestamp(v.updateTime),
    displayName: v.displayName,
    description: v.description,
    versionDescription: v.versionDescription,
    artifactUri: v.artifactUri,
    ...(v.containerSpec ? { containerSpec: v.containerSpec } : {}),
    labels: v.labels,
    createTime: timestamp(first?.createTime ?? v.createTime),
    updateTime: timestamp(v.updateTime),
    supportedDeploymentResourcesTypes: ['DEDICATED_RESOURCES'],
    deployedModels: deployedRefs(state, model.name)
      .filter((r) => r.modelVersionId === v.versionId)
      .map((r) => ({ endpoint: r.endpoint, deployedModelId: r.deployedModelId })),
  };
}
