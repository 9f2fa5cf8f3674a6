import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from './api-error';
import { V1, type EmulatorContext } from './context';
import { deployedModelToProto, endpointToProto, normalizeDedicatedResources } from './endpoint-view';
import { unary } from './grpc-handler';
import { paginate, parseListFilter } from './list-filter';
import { findModel, resolveVersion } from './model-registry';
import { endpointPath, locationPath, numericId, parseEndpointName, parseLocation } from './names';
import { nowIso, type DeployedModelRecord, type EndpointRecord } from './store';
import { splitAfterDeploy, splitAfterUndeploy, splitForUpdate, type TrafficSplit } from './traffic';

interface EndpointIn {
  name?: string;
  displayName?: string;
  description?: string;
  labels?: Record<string, string>;
  trafficSplit?: TrafficSplit;
}

interface DeployedModelIn {
  id?: string;
  model?: string;
  displayName?: string;
  dedicatedResources?: Record<string, unknown>;
  automaticResources?: Record<string, unknown>;
  disableContainerLogging?: boolean;
  serviceAccount?: string;
}

interface DeployTask extends Record<string, unknown> {
  endpoint: string;
  deployed: Omit<DeployedModelRecord, 'createTime'>;
  artifactUri: string;
  trafficSplit: TrafficSplit;
}

const snake = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const MUTABLE_DEPLOYED_MODEL_PATHS = ['dedicated_resources.min_replica_count', 'dedicated_resources.max_replica_count', 'dedicated_resources.autoscaling_metric_specs', 'disable_container_logging'];

const UPDATABLE_ENDPOINT_PATHS = ['display_name', 'description', 'labels', 'traffic_split'];

/** google.cloud.aiplatform.v1.EndpointService: endpoints, deploys, traffic. */
export function endpointService(ctx: EmulatorContext): UntypedServiceImplementation {
  const { store, ops, runtime, log } = ctx;
  const state = store.state;
  const managed = () => ctx.faults.apply('management');
  const handle = <Req, Res>(method: string, fn: (req: Req) => Promise<Res>) => unary<Req, Res>(log, `EndpointService.${method}`, fn, managed);

  const findEndpoint = (name: string): EndpointRecord => {
    const n = parseEndpointName(name);
    const e = state.endpoints[endpointPath(n, n.endpointId)];
    if (!e) throw notFound(`Endpoint ${name} was not found.`);
    return e;
  };

  const applyUpdate = (e: EndpointRecord, patch: EndpointIn, paths: string[]) => {
    const bad = paths.filter((p) => !UPDATABLE_ENDPOINT_PATHS.includes(p));
    if (bad.length) throw invalidArgument(`update_mask path(s) ${bad.join(', ')} cannot be updated here; updatable: ${UPDATABLE_ENDPOINT_PATHS.join(', ')}.`);
    const split = paths.includes('traffic_split')
      ? splitForUpdate(
          patch.trafficSplit ?? {},
          e.deployedModels.map((d) => d.id),
        )
      : undefined;
    if (paths.includes('display_name') && !patch.displayName) throw invalidArgument('endpoint.displayName cannot be empty.');
    store.mutate(() => {
      if (paths.includes('display_name')) e.displayName = patch.displayName ?? '';
      if (paths.includes('description')) e.description = patch.description ?? '';
      if (paths.includes('labels')) e.labels = patch.labels ?? {};
      if (split) e.trafficSplit = split;
      e.updateTime = nowIso();
    });
    if (split) log.info('traffic split updated', { endpoint: e.name, trafficSplit: split });
    return endpointToProto(e);
  };

  ops.register('createEndpoint', async (task) => {
    const now = nowIso();
    const e: EndpointRecord = { ...(task.endpoint as Omit<EndpointRecord, 'createTime' | 'updateTime'>), createTime: now, updateTime: now };
    if (state.endpoints[e.name]) throw alreadyExists(`Endpoint ${e.name} already exists.`);
    store.mutate((s) => {
      s.endpoints[e.name] = e;
    });
    return { type: `${V1}.Endpoint`, value: endpointToProto(e) };
  });

  ops.register('deleteEndpoint', async (task) => {
    const e = state.endpoints[task.endpoint as string];
    if (e?.deployedModels.length) throw failedPrecondition(`Endpoint ${e.name} has deployed models; undeploy them first.`);
    store.mutate((s) => {
      delete s.endpoints[task.endpoint as string];
    });
    return { type: 'google.protobuf.Empty', value: {} };
  });

  ops.register('deployModel', async (task) => {
    const t = task as DeployTask;
    if (!state.endpoints[t.endpoint]) throw notFound(`Endpoint ${t.endpoint} was deleted while the model was being deployed.`);
    await runtime.load(t.deployed.id, t.artifactUri);
    const e = state.endpoints[t.endpoint];
    let record: DeployedModelRecord;
    try {
      if (!e) throw notFound(`Endpoint ${t.endpoint} was deleted while the model was being deployed.`);
      const split = splitAfterDeploy(
        t.trafficSplit,
        e.deployedModels.map((d) => d.id),
        e.trafficSplit,
        t.deployed.id,
      );
      record = { ...t.deployed, createTime: nowIso() };
      store.mutate(() => {
        e.deployedModels.push(record);
        e.trafficSplit = split;
        e.updateTime = record.createTime;
      });
    } catch (err) {
      await runtime.unload(t.deployed.id);
      throw err;
    }
    log.info('model deployed', { endpoint: t.endpoint, deployedModelId: record.id, model: record.model, modelVersionId: record.modelVersionId, trafficSplit: e.trafficSplit });
    return { type: `${V1}.DeployModelResponse`, value: { deployedModel: deployedModelToProto(record) } };
  });

  ops.register('undeployModel', async (task) => {
    const e = state.endpoints[task.endpoint as string];
    const id = task.deployedModelId as string;
    if (!e?.deployedModels.some((d) => d.id === id)) throw notFound(`Deployed model ${id} is no longer on endpoint ${task.endpoint as string}.`);
    const split = splitAfterUndeploy(
      task.trafficSplit as TrafficSplit,
      e.deployedModels.map((d) => d.id),
      e.trafficSplit,
      id,
    );
    store.mutate(() => {
      e.deployedModels = e.deployedModels.filter((d) => d.id !== id);
      e.trafficSplit = split;
      e.updateTime = nowIso();
    });
    await runtime.unload(id);
    log.info('model undeployed', { endpoint: e.name, deployedModelId: id, trafficSplit: split });
    return { type: `${V1}.UndeployModelResponse`, value: {} };
  });

  ops.register('mutateDeployedModel', async (task) => {
    const e = findEndpoint(task.endpoint as string);
    const d = e.deployedModels.find((x) => x.id === task.deployedModelId);
    if (!d) throw notFound(`Deployed model ${task.deployedModelId as string} is no longer on endpoint ${e.name}.`);
    const patch = task.patch as { dedicatedResources?: Record<string, unknown>; disableContainerLogging?: boolean };
    store.mutate(() => {
      if (patch.dedicatedResources) d.dedicatedResources = { ...d.dedicatedResources, ...patch.dedicatedResources };
      if (patch.disableContainerLogging !== undefined) d.disableContainerLogging = patch.disableContainerLogging;
      e.updateTime = nowIso();
    });
    return { type: `${V1}.MutateDeployedModelResponse`, value: { deployedModel: deployedModelToProto(d) } };
  });

  ops.register('updateEndpoint', async (task) => {
    const e = findEndpoint(task.endpoint as string);
    return { type: `${V1}.Endpoint`, value: applyUpdate(e, task.patch as EndpointIn, task.paths as string[]) };
  });

  return {
    CreateEndpoint: handle('CreateEndpoint', async (req: { parent: string; endpoint?: EndpointIn; endpointId?: string }) => {
      const loc = parseLocation(req.parent);
      const input = req.endpoint;
      if (!input?.displayName) throw invalidArgument('endpoint.displayName is required.');
      if (input.displayName.length > 128) throw invalidArgument(`endpoint.displayName is ${input.displayName.length} characters long; the limit is 128.`);
      if (req.endpointId && !/^(?:[1-9][0-9]{0,8}|[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$/.test(req.endpointId)) {
        throw invalidArgument(`endpointId "${req.endpointId}" is invalid: up to 9 digits without a leading zero, or up to 63 of [a-z0-9-] starting with a letter.`);
      }
      const name = endpointPath(loc, req.endpointId || numericId());
      if (state.endpoints[name]) throw alreadyExists(`Endpoint ${name} already exists.`);
      const endpoint = { name, displayName: input.displayName, description: input.description ?? '', labels: input.labels ?? {}, trafficSplit: {}, deployedModels: [] };
      const op = ops.start('createEndpoint', name, { type: `${V1}.CreateEndpointOperationMetadata`, value: {} }, { endpoint });
      return ctx.opView(op);
    }),

    GetEndpoint: handle('GetEndpoint', async (req: { name: string }) => endpointToProto(findEndpoint(req.name))),

    ListEndpoints: handle('ListEndpoints', async (req: { parent: string; filter?: string; pageSize?: number; pageToken?: string }) => {
      const prefix = `${locationPath(parseLocation(req.parent))}/endpoints/`;
      const matches = parseListFilter(req.filter);
      const all = Object.values(state.endpoints).filter((e) => e.name.startsWith(prefix) && matches(e));
      const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
      return { endpoints: page.map(endpointToProto), nextPageToken };
    }),

    UpdateEndpoint: handle('UpdateEndpoint', async (req: { endpoint?: EndpointIn; updateMask?: { paths?: string[] } }) => {
      if (!req.endpoint?.name) throw invalidArgument('endpoint.name is required.');
      const paths = (req.updateMask?.paths ?? []).map(snake);
      if (!paths.length) throw invalidArgument(`update_mask is required; updatable paths: ${UPDATABLE_ENDPOINT_PATHS.join(', ')}.`);
      return applyUpdate(findEndpoint(req.endpoint.name), req.endpoint, paths);
    }),

    UpdateEndpointLongRunning: handle('UpdateEndpointLongRunning', async (req: { endpoint?: EndpointIn }) => {
      if (!req.endpoint?.name) throw invalidArgument('endpoint.name is required.');
      const e = findEndpoint(req.endpoint.name);
      const paths = ['display_name', 'description', 'labels', 'traffic_split'];
      splitForUpdate(
        req.endpoint.trafficSplit ?? {},
        e.deployedModels.map((d) => d.id),
      );
      const op = ops.start('updateEndpoint', e.name, { type: `${V1}.UpdateEndpointOperationMetadata`, value: {} }, { endpoint: e.name, patch: req.endpoint, paths });
      return ctx.opView(op);
    }),

    DeleteEndpoint: handle('DeleteEndpoint', async (req: { name: string }) => {
      const e = findEndpoint(req.name);
      if (e.deployedModels.length) {
        throw failedPrecondition(`Endpoint ${e.name} still has deployed models (${e.deployedModels.map((d) => d.id).join(', ')}); undeploy them first.`);
      }
      const op = ops.start('deleteEndpoint', e.name, { type: `${V1}.DeleteOperationMetadata`, value: {} }, { endpoint: e.name });
      return ctx.opView(op);
    }),

    DeployModel: handle('DeployModel', async (req: { endpoint: string; deployedModel?: DeployedModelIn; trafficSplit?: TrafficSplit }) => {
      const e = findEndpoint(req.endpoint);
      const dm = req.deployedModel;
      if (!dm?.model) throw invalidArgument('deployedModel.model is required: the model resource name, optionally with @version or @alias.');
      const { model, parsed } = findModel(state, dm.model);
      const at = parseEndpointName(e.name);
      if (parsed.project !== at.project || parsed.location !== at.location) {
        throw invalidArgument(`Model ${dm.model} must be in the same project and location as endpoint ${e.name}.`);
      }
      const version = resolveVersion(model, parsed.versionSpec);
      const dedicatedResources = normalizeDedicatedResources(dm.dedicatedResources as never, dm.model);
      const id = numericId();
      const trafficSplit = req.trafficSplit ?? {};
      // Checked now so a bad split fails the call, and again when the operation runs.
      splitAfterDeploy(
        trafficSplit,
        e.deployedModels.map((d) => d.id),
        e.trafficSplit,
        id,
      );
      const deployed: DeployTask['deployed'] = {
        id,
        model: model.name,
        modelVersionId: version.versionId,
        displayName: dm.displayName || version.displayName,
        dedicatedResources,
        ...(dm.disableContainerLogging !== undefined ? { disableContainerLogging: dm.disableContainerLogging } : {}),
        ...(dm.serviceAccount ? { serviceAccount: dm.serviceAccount } : {}),
      };
      const task: DeployTask = { endpoint: e.name, deployed, artifactUri: version.artifactUri, trafficSplit };
      const op = ops.start('deployModel', e.name, { type: `${V1}.DeployModelOperationMetadata`, value: {} }, task);
      log.info('deploy accepted', { endpoint: e.name, deployedModelId: id, model: model.name, modelVersionId: version.versionId, operation: op.name });
      return ctx.opView(op);
    }),

    UndeployModel: handle('UndeployModel', async (req: { endpoint: string; deployedModelId?: string; trafficSplit?: TrafficSplit }) => {
      const e = findEndpoint(req.endpoint);
      const id = req.deployedModelId ?? '';
      if (!e.deployedModels.some((d) => d.id === id)) {
        throw notFound(`Deployed model "${id}" is not on endpoint ${e.name} (deployed: ${e.deployedModels.map((d) => d.id).join(', ') || 'none'}).`);
      }
      const trafficSplit = req.trafficSplit ?? {};
      splitAfterUndeploy(
        trafficSplit,
        e.deployedModels.map((d) => d.id),
        e.trafficSplit,
        id,
      );
      const op = ops.start('undeployModel', e.name, { type: `${V1}.UndeployModelOperationMetadata`, value: {} }, { endpoint: e.name, deployedModelId: id, trafficSplit });
      return ctx.opView(op);
    }),

    MutateDeployedModel: handle('MutateDeployedModel', async (req: { endpoint: string; deployedModel?: DeployedModelIn; updateMask?: { paths?: string[] } }) => {
      const e = findEndpoint(req.endpoint);
      const d = e.deployedModels.find((x) => x.id === req.deployedModel?.id);
      if (!d) throw notFound(`Deployed model "${req.deployedModel?.id ?? ''}" is not on endpoint ${e.name}.`);
      const paths = (req.updateMask?.paths ?? []).map(snake);
      const bad = paths.filter((p) => !MUTABLE_DEPLOYED_MODEL_PATHS.includes(p));
      if (!paths.length || bad.length) {
        throw invalidArgument(
          `MutateDeployedModel changes only ${MUTABLE_DEPLOYED_MODEL_PATHS.join(', ')}${bad.length ? ` (got ${bad.join(', ')})` : ''}. ` +
            'For anything else, deploy a new model, shift traffic to it, and undeploy the old one.',
        );
      }
      const src = (req.deployedModel?.dedicatedResources ?? {}) as Record<string, unknown>;
      const dedicated: Record<string, unknown> = {};
      if (paths.includes('dedicated_resources.min_replica_count')) dedicated.minReplicaCount = src.minReplicaCount;
      if (paths.includes('dedicated_resources.max_replica_count')) dedicated.maxReplicaCount = src.maxReplicaCount;
      if (paths.includes('dedicated_resources.autoscaling_metric_specs')) dedicated.autoscalingMetricSpecs = src.autoscalingMetricSpecs ?? [];
      if (Object.keys(dedicated).length) normalizeDedicatedResources({ ...d.dedicatedResources, ...dedicated }, d.model);
      const patch = {
        ...(Object.keys(dedicated).length ? { dedicatedResources: dedicated } : {}),
        ...(paths.includes('disable_container_logging') ? { disableContainerLogging: req.deployedModel?.disableContainerLogging ?? false } : {}),
      };
      const op = ops.start('mutateDeployedModel', e.name, { type: `${V1}.MutateDeployedModelOperationMetadata`, value: {} }, { endpoint: e.name, deployedModelId: d.id, patch });
      return ctx.opView(op);
    }),
  };
}
