import type { EndpointServiceClient, ModelServiceClient, protos } from '@google-cloud/aiplatform';
import { AlreadyExistsError, errorMessage } from '#shared/errors';
import { GrpcCode, grpcCode } from '#shared/retry/error-codes';
import { isAccelerated } from '../core/deploy-spec';
import type { DeployRequest, EndpointInfo, OperationStatus, UploadRequest, VertexDeployer } from '../ports';

type IDeployedModel = protos.google.cloud.aiplatform.v1.IDeployedModel;

const MODEL_LABEL = 'dropship-model';

/**
 * CreateEndpoint takes seconds and DeployModel waits on it: poll it from 25 ms up, growing to
 * 1 s, rather than on the client's default schedule (first poll later, slower growth).
 */
const CREATE_ENDPOINT_POLLING: { longrunning: { initialRetryDelayMillis: number; retryDelayMultiplier: number; maxRetryDelayMillis: number; totalTimeoutMillis: number } } = {
  longrunning: { initialRetryDelayMillis: 25, retryDelayMultiplier: 1.5, maxRetryDelayMillis: 1000, totalTimeoutMillis: 10 * 60 * 1000 },
};

/**
 * Vertex AI through @google-cloud/aiplatform. Long-running operations are started here and
 * checked by name later (from any process), never awaited to the end, except CreateEndpoint,
 * which takes seconds.
 */
export function vertexDeployer(opts: { project: string; location: string; models: ModelServiceClient; endpoints: EndpointServiceClient }): VertexDeployer {
  const parent = `projects/${opts.project}/locations/${opts.location}`;
  const { models, endpoints } = opts;

  return {
    modelName: (modelId) => `${parent}/models/${modelId}`,

    async startUpload(req: UploadRequest) {
      try {
        const [op] = await models.uploadModel({
          parent,
          ...(req.parentModel ? { parentModel: req.parentModel } : { modelId: req.modelId }),
          model: {
            displayName: req.displayName,
            description: req.description,
            artifactUri: req.artifactUri,
            containerSpec: req.container,
            labels: req.labels,
            versionAliases: [req.versionAlias],
          },
        });
        return requireName(op.name);
      } catch (err) {
        // A model with this modelId exists: the port's AlreadyExistsError (the caller uploads a new version of it).
        if (grpcCode(err) === GrpcCode.ALREADY_EXISTS) throw new AlreadyExistsError(errorMessage(err), { cause: err });
        throw err;
      }
    },

    async checkUpload(name) {
      const op = await models.checkUploadModelProgress(name);
      return status(op, (r: protos.google.cloud.aiplatform.v1.IUploadModelResponse) => ({ model: String(r.model), modelVersionId: String(r.modelVersionId ?? '') }));
    },

    async findVersionByAlias(vertexModel, alias) {
      try {
        const [m] = await models.getModel({ name: `${vertexModel}@${alias}` });
        if (!m.name || !(m.versionAliases ?? []).includes(alias)) return undefined;
        return { model: m.name.split('@')[0]!, modelVersionId: String(m.versionId) };
      } catch (err) {
        const code = grpcCode(err);
        if (code === GrpcCode.NOT_FOUND || code === GrpcCode.INVALID_ARGUMENT) return undefined;
        throw err;
      }
    },

    async findEndpoint(model) {
      const [list] = await endpoints.listEndpoints({ parent, filter: `labels.${MODEL_LABEL}="${model}"` }, { autoPaginate: true });
      // Filter again: a server may ignore the filter, and an endpoint named after the model counts too.
      const mine = list.filter((e) => e.labels?.[MODEL_LABEL] === model || e.name === `${parent}/endpoints/${model}`);
      mine.sort((a, b) => String(a.name).localeCompare(String(b.name)));
      return mine[0]?.name ?? undefined;
    },

    async createEndpoint(model) {
      try {
        const [op] = await endpoints.createEndpoint(
          {
            parent,
            endpointId: model,
            endpoint: { displayName: model, labels: { [MODEL_LABEL]: model } },
          },
          CREATE_ENDPOINT_POLLING,
        );
        const [endpoint] = await op.promise();
        return requireName(endpoint.name);
      } catch (err) {
        // The deterministic id makes a second create fail instead of duplicating the endpoint.
        if (grpcCode(err) === GrpcCode.ALREADY_EXISTS) return `${parent}/endpoints/${model}`;
        throw err;
      }
    },

    async getEndpoint(name): Promise<EndpointInfo> {
      const [e] = await endpoints.getEndpoint({ name });
      return {
        name,
        deployedModels: (e.deployedModels ?? []).map((d: IDeployedModel) => ({
          id: String(d.id),
          model: String(d.model ?? ''),
          ...(d.modelVersionId ? { modelVersionId: String(d.modelVersionId) } : {}),
          ...(d.displayName ? { displayName: d.displayName } : {}),
        })),
        trafficSplit: { ...(e.trafficSplit ?? {}) } as Record<string, number>,
      };
    },

    async startDeploy(req: DeployRequest) {
      const { spec } = req;
      const [op] = await endpoints.deployModel({
        endpoint: req.endpoint,
        deployedModel: {
          model: req.model,
          displayName: req.displayName,
          dedicatedResources: {
            machineSpec: {
              machineType: spec.machineType,
              ...(spec.acceleratorType ? { acceleratorType: spec.acceleratorType as never, acceleratorCount: spec.acceleratorCount ?? 1 } : {}),
            },
            minReplicaCount: spec.minReplicaCount,
            maxReplicaCount: spec.maxReplicaCount ?? spec.minReplicaCount,
            autoscalingMetricSpecs: [
              {
                metricName: isAccelerated(spec) ? 'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle' : 'aiplatform.googleapis.com/prediction/online/cpu/utilization',
                target: spec.autoscalingTargetPercent,
              },
            ],
          },
        },
        trafficSplit: req.trafficSplit,
      });
      return requireName(op.name);
    },

    async checkDeploy(name) {
      const op = await endpoints.checkDeployModelProgress(name);
      return status(op, (r: protos.google.cloud.aiplatform.v1.IDeployModelResponse) => ({ deployedModelId: String(r.deployedModel?.id ?? '') }));
    },

    async setTraffic(endpoint, split) {
      await endpoints.updateEndpoint({ endpoint: { name: endpoint, trafficSplit: split }, updateMask: { paths: ['traffic_split'] } });
    },

    async startUndeploy(endpoint, deployedModelId, split) {
      const [op] = await endpoints.undeployModel({ endpoint, deployedModelId, ...(split ? { trafficSplit: split } : {}) });
      return requireName(op.name);
    },

    async checkUndeploy(name) {
      const op = await endpoints.checkUndeployModelProgress(name);
      return status(op, () => null);
    },
  };
}

interface OperationLike<R> {
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
  result?: R | null;
}

function status<R, T>(op: OperationLike<R>, map: (r: R) => T): OperationStatus<T> {
  if (!op.done) return { done: false };
  if (op.error) return { done: true, error: `Vertex AI operation failed (code ${op.error.code ?? '?'}): ${op.error.message ?? 'no message'}` };
  return { done: true, result: map((op.result ?? {}) as R) };
}

function requireName(name: string | null | undefined): string {
  if (!name) throw new Error('Vertex AI returned no resource or operation name');
  return name;
}
