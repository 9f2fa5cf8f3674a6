import { failedPrecondition, invalidArgument } from './api-error';

/** deployedModelId -> percent of the endpoint's traffic; absent means 0. */
export type TrafficSplit = Record<string, number>;

/** The placeholder key DeployModelRequest.trafficSplit uses for the model being deployed. */
export const NEW_MODEL_KEY = '0';

function withoutZeros(split: TrafficSplit): TrafficSplit {
  return Object.fromEntries(Object.entries(split).filter(([, v]) => v > 0));
}

function checkSplit(split: TrafficSplit, known: readonly string[], what: string): void {
  for (const [id, percent] of Object.entries(split)) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw invalidArgument(`${what}: traffic for "${id}" is ${percent}; each value must be an integer from 0 to 100.`);
    }
    if (!known.includes(id)) {
      throw invalidArgument(`${what}: "${id}" is not a model deployed on this endpoint (deployed: ${known.length ? known.join(', ') : 'none'}).`);
    }
  }
  const sum = Object.values(split).reduce((a, b) => a + b, 0);
  if (sum !== 100) {
    throw invalidArgument(`${what}: the traffic split must add up to 100, but its values add up to ${sum}.`);
  }
}

/**
 * The endpoint's split after DeployModel. An empty request split leaves the split unchanged (the
 * new model gets no traffic); otherwise it replaces the split, with key "0" standing for the new model.
 */
export function splitAfterDeploy(requested: TrafficSplit, deployedIds: readonly string[], current: TrafficSplit, newId: string): TrafficSplit {
  if (Object.keys(requested).length === 0) return { ...current };
  checkSplit(requested, [...deployedIds, NEW_MODEL_KEY], 'DeployModelRequest.trafficSplit');
  const next: TrafficSplit = {};
  for (const [id, percent] of Object.entries(requested)) next[id === NEW_MODEL_KEY ? newId : id] = percent;
  return withoutZeros(next);
}

/**
 * The endpoint's split after UndeployModel. A model that still has traffic can only be undeployed
 * if the request's split takes its traffic away, or if it is the last model on the endpoint.
 */
export function splitAfterUndeploy(requested: TrafficSplit, deployedIds: readonly string[], current: TrafficSplit, removedId: string): TrafficSplit {
  const remaining = deployedIds.filter((id) => id !== removedId);
  if (remaining.length === 0) return {};
  if (Object.keys(requested).length === 0) {
    if ((current[removedId] ?? 0) > 0) {
      throw failedPrecondition(
        `Deployed model ${removedId} still receives ${current[removedId]}% of the endpoint's traffic. ` +
          `Move its traffic to other deployed models first (UpdateEndpoint with update_mask traffic_split), or pass a trafficSplit in this UndeployModel request that gives it none.`,
      );
    }
    return withoutZeros(current);
  }
  if ((requested[removedId] ?? 0) > 0) {
    throw failedPrecondition(`UndeployModelRequest.trafficSplit still gives ${requested[removedId]}% to ${removedId}, the model being undeployed.`);
  }
  const { [removedId]: _dropped, ...rest } = requested;
  checkSplit(rest, remaining, 'UndeployModelRequest.trafficSplit');
  return withoutZeros(rest);
}

/** UpdateEndpoint with update_mask traffic_split: a whole new split over the deployed models. */
export function splitForUpdate(requested: TrafficSplit, deployedIds: readonly string[]): TrafficSplit {
  if (deployedIds.length === 0 && Object.keys(requested).length === 0) return {};
  checkSplit(requested, deployedIds, 'Endpoint.trafficSplit');
  return withoutZeros(requested);
}

/** Weighted random choice of the deployed model that serves one request, or undefined if none has traffic. */
export function pickDeployedModel(split: TrafficSplit, random: () => number = Math.random): string | undefined {
  const entries = Object.entries(split).filter(([, v]) => v > 0);
  const total = entries.reduce((a, [, v]) => a + v, 0);
  if (total === 0) return undefined;
  let r = random() * total;
  for (const [id, v] of entries) {
    if (r < v) return id;
    r -= v;
  }
  return entries[entries.length - 1][0];
}
