import type { VersionRecord } from './core/records';
import { retrying, type DeploymentContext } from './context';
import type { EndpointInfo } from './ports';

export interface TrafficView {
  endpoint: EndpointInfo;
  versions: VersionRecord[];
  /** version -> percent now on the endpoint */
  byVersion: Record<string, number>;
}

/** Reads the endpoint's split and maps deployed model ids back to version folders. */
export async function readTraffic(ctx: DeploymentContext, model: string, endpoint: string): Promise<TrafficView> {
  const [info, versions] = await Promise.all([retrying(ctx, 'vertex.getEndpoint', () => ctx.vertex.getEndpoint(endpoint)), ctx.store.listVersions(model)]);
  const versionById = new Map(versions.filter((v) => v.deployedModelId).map((v) => [v.deployedModelId!, v.version]));
  const byVersion: Record<string, number> = {};
  for (const [id, percent] of Object.entries(info.trafficSplit)) {
    const version = versionById.get(id);
    if (version) byVersion[version] = percent;
  }
  return { endpoint: info, versions, byVersion };
}

/**
 * Copies the endpoint's split into Firestore (each version's trafficPercent, the model's
 * traffic map) and, after a change we made, keeps the split before it for rollback.
 */
export async function syncTraffic(ctx: DeploymentContext, model: string, endpoint: string, previous?: Record<string, number>): Promise<TrafficView> {
  const view = await readTraffic(ctx, model, endpoint);
  await retrying(ctx, 'firestore.recordTraffic', () => ctx.store.recordTraffic(model, view.byVersion, previous, ctx.clock.now()));
  return view;
}
