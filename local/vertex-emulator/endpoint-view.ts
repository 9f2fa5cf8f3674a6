import { invalidArgument } from './api-error';
import { timestamp, type DeployedModelRecord, type EndpointRecord } from './store';

/** google.cloud.aiplatform.v1.DeployedModel */
export function deployedModelToProto(d: DeployedModelRecord): Record<string, unknown> {
  return {
    id: d.id,
    model: d.model,
    modelVersionId: d.modelVersionId,
    displayName: d.displayName,
    ...(d.dedicatedResources ? { dedicatedResources: d.dedicatedResources } : {}),
    ...(d.automaticResources ? { automaticResources: d.automaticResources } : {}),
    ...(d.serviceAccount ? { serviceAccount: d.serviceAccount } : {}),
    disableContainerLogging: d.disableContainerLogging ?? false,
    createTime: timestamp(d.createTime),
    status: { availableReplicaCount: Number(d.dedicatedResources?.minReplicaCount ?? 1), lastUpdateTime: timestamp(d.createTime) },
  };
}

/** google.cloud.aiplatform.v1.Endpoint */
export function endpointToProto(e: EndpointRecord): Record<string, unknown> {
  return {
    name: e.name,
    displayName: e.displayName,
    description: e.description,
    labels: e.labels,
    trafficSplit: e.trafficSplit,
    deployedModels: e.deployedModels.map(deployedModelToProto),
    createTime: timestamp(e.createTime),
    updateTime: timestamp(e.updateTime),
    etag: `"${Date.parse(e.updateTime).toString(36)}"`,
  };
}

interface DedicatedResourcesIn {
  machineSpec?: { machineType?: string; acceleratorType?: string; acceleratorCount?: number };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  autoscalingMetricSpecs?: Array<{ metricName?: string; target?: number }>;
  [k: string]: unknown;
}

const AUTOSCALING_METRICS = ['aiplatform.googleapis.com/prediction/online/cpu/utilization', 'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle'];

/**
 * DedicatedResources as Vertex AI completes and checks them: a model served from a TensorFlow
 * container needs dedicated resources, at least one replica (v1 has no scale-to-zero), and
 * max >= min (0 means "same as min"). The default machine type is n1-standard-2.
 */
export function normalizeDedicatedResources(dr: DedicatedResourcesIn | undefined, model: string): Record<string, unknown> {
  if (!dr) {
    throw invalidArgument(`Model ${model} does not support automatic resources: set deployedModel.dedicatedResources (machineSpec.machineType, minReplicaCount >= 1, maxReplicaCount).`);
  }
  const min = Number(dr.minReplicaCount ?? 0);
  if (!(min >= 1)) throw invalidArgument(`dedicatedResources.minReplicaCount is ${min}; it must be at least 1 (Vertex AI v1 does not scale to zero).`);
  const max = Number(dr.maxReplicaCount ?? 0) || min;
  if (max < min) throw invalidArgument(`dedicatedResources.maxReplicaCount (${max}) is less than minReplicaCount (${min}).`);
  for (const spec of dr.autoscalingMetricSpecs ?? []) {
    if (!spec.metricName || !AUTOSCALING_METRICS.includes(spec.metricName)) {
      throw invalidArgument(`autoscalingMetricSpecs metricName "${spec.metricName ?? ''}" is not one of ${AUTOSCALING_METRICS.join(', ')}.`);
    }
  }
  return {
    ...dr,
    machineSpec: { ...dr.machineSpec, machineType: dr.machineSpec?.machineType || 'n1-standard-2' },
    minReplicaCount: min,
    maxReplicaCount: max,
  };
}
