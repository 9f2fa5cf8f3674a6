import { AlreadyExistsError } from '#shared/errors';
import { servingContainer } from './core/container-image';
import type { DeploySpec } from './core/deploy-spec';
import type { VersionRecord } from './core/records';
import { canarySplit, replaceSplit, type TrafficSplit } from './core/traffic';
import { retrying, type DeploymentContext } from './context';
import { ensureEndpoint } from './ensure-endpoint';
import { fail, recordChange } from './record-change';
import { retireIdleVersions } from './retire-versions';
import { beginRollout } from './canary-rollout';
import { isServing } from './core/state-machine';
import { syncTraffic } from './traffic-sync';

export interface AdvanceOptions {
  /** how long to wait here for UploadModel before leaving it to the reconciler (0: check once) */
  waitForUploadMs: number;
  /** the longest pause between two checks of UploadModel */
  pollIntervalMs: number;
}

/**
 * The first check of a pending UploadModel comes this soon, and the pause doubles up to
 * pollIntervalMs: a quick upload (the local emulator, a small model) is seen at once, and a
 * slow one (minutes on Vertex AI) is not polled more than every pollIntervalMs.
 */
const FIRST_POLL_MS = 50;

const MODEL_LABEL_VALUE = /[^a-z0-9_-]+/g;

/**
 * Moves a version as far as it can go now: REGISTERING (start or check UploadModel, then
 * ensure the endpoint and start DeployModel) -> DEPLOYING (check DeployModel) -> DEPLOYED
 * (retire versions left without traffic), and finishes pending undeploys. Never waits for a
 * deploy: those take longer than any function may run.
 */
export async function advanceVersion(ctx: DeploymentContext, start: VersionRecord, holder: string, opts: AdvanceOptions): Promise<VersionRecord> {
  let rec = start;
  const deadline = ctx.clock.now().getTime() + opts.waitForUploadMs;
  let pollMs = Math.min(FIRST_POLL_MS, opts.pollIntervalMs);
  // The endpoint is made while UploadModel runs, not after it: both are operations of their own.
  let endpointReady: Promise<unknown> | undefined;
  for (;;) {
    if (rec.state === 'REGISTERING') {
      if (!rec.operation) rec = await startUpload(ctx, rec, holder);
      if (rec.state !== 'REGISTERING') continue;
      endpointReady ??= ensureEndpoint(ctx, rec.model, holder).catch((err: unknown) => {
        // Best effort: startDeploy ensures it again and decides on the error there.
        ctx.log.warn('could not prepare the endpoint during the upload', { model: rec.model, err: String(err) });
      });
      const op = rec.operation!;
      // a poll: the client retries GetOperation's UNAVAILABLE/DEADLINE_EXCEEDED itself (not wrapped); other errors wait for the next delivery or tick
      const status = await ctx.vertex.checkUpload(op.name);
      if (!status.done) {
        if (ctx.clock.now().getTime() + pollMs > deadline) {
          await endpointReady; // no work left running after the function returns
          return rec;
        }
        await ctx.clock.sleep(pollMs);
        pollMs = Math.min(opts.pollIntervalMs, pollMs * 2);
        continue;
      }
      if ('error' in status) return fail(ctx, rec, holder, `UploadModel failed: ${status.error}`);
      await endpointReady;
      const vertexModel = await retrying(ctx, 'firestore.recordVertexModel', () => ctx.store.recordVertexModel(rec.model, status.result.model, ctx.clock.now()));
      rec = await recordChange(ctx, rec, holder, { patch: { vertexModel, vertexModelVersionId: status.result.modelVersionId, operation: null } });
      rec = await startDeploy(ctx, rec, holder, 'release');
      continue;
    }
    if (rec.state === 'DEPLOYING') {
      if (!rec.operation) {
        rec = await startDeploy(ctx, rec, holder, rec.deployPurpose ?? 'release');
        if (rec.state !== 'DEPLOYING' || !rec.operation) continue;
      }
      const op = rec.operation;
      const status = await ctx.vertex.checkDeploy(op.name); // a poll, as checkUpload
      if (!status.done) return rec;
      if ('error' in status) return fail(ctx, rec, holder, `DeployModel failed: ${status.error}`);
      return finishDeploy(ctx, rec, holder, status.result.deployedModelId);
    }
    if ((isServing(rec.state) || rec.state === 'ROLLED_BACK') && rec.operation?.kind === 'undeploy') {
      const op = rec.operation;
      const status = await ctx.vertex.checkUndeploy(op.name); // a poll, as checkUpload
      if (!status.done) return rec;
      if ('error' in status) {
        ctx.log.error('UndeployModel failed; the version stays deployed without traffic', { model: rec.model, version: rec.version, error: status.error });
        return recordChange(ctx, rec, holder, { patch: { operation: null, error: `UndeployModel failed: ${status.error}` } });
      }
      // a canary the rollout analysis rolled back is ROLLED_BACK already: only the operation ends
      if (rec.state === 'ROLLED_BACK') return recordChange(ctx, rec, holder, { patch: { operation: null, trafficPercent: 0 } });
      const to = rec.retireAs ?? 'SUPERSEDED';
      return recordChange(ctx, rec, holder, { to, reason: to === 'SUPERSEDED' ? 'a newer version took its traffic' : 'rolled back away from it', patch: { operation: null, trafficPercent: 0 } });
    }
    return rec;
  }
}

async function startUpload(ctx: DeploymentContext, rec: VersionRecord, holder: string): Promise<VersionRecord> {
  const modelRec = await ctx.store.getModel(rec.model);
  let parentModel = modelRec?.vertexModel;
  if (parentModel) {
    // A previous attempt may have uploaded and died before recording the operation.
    const existing = await retrying(ctx, 'vertex.findVersion', () => ctx.vertex.findVersionByAlias(parentModel!, rec.versionAlias));
    if (existing) {
      ctx.log.warn('found this version already registered; not uploading again', {
        model: rec.model,
        version: rec.version,
        vertexModel: existing.model,
        vertexModelVersionId: existing.modelVersionId,
      });
      rec = await recordChange(ctx, rec, holder, { patch: { vertexModel: existing.model, vertexModelVersionId: existing.modelVersionId } });
      return startDeploy(ctx, rec, holder, 'release');
    }
  }
  const request = (parent: string | undefined) => ({
    modelId: rec.model,
    ...(parent ? { parentModel: parent } : {}),
    displayName: String(rec.spec?.displayName ?? rec.model),
    description: `dropship: ${rec.artifactUri} (saved_model.pb generation ${rec.savedModelGeneration ?? 'unknown'})`,
    artifactUri: rec.artifactUri,
    container: servingContainer(rec.serving ?? 'prebuilt', rec.containerImageUri!, rec.model),
    versionAlias: rec.versionAlias,
    labels: {
      'dropship-model': rec.model,
      'dropship-version': labelValue(rec.version),
      'dropship-generation': labelValue(rec.savedModelGeneration ?? 'unknown'),
    },
  });
  let name: string;
  try {
    name = await retrying(ctx, 'vertex.uploadModel', () => ctx.vertex.startUpload(request(parentModel)));
  } catch (err) {
    // Someone registered the model's first version meanwhile: this one becomes a new version of it.
    if (parentModel || !(err instanceof AlreadyExistsError)) throw err;
    parentModel = ctx.vertex.modelName(rec.model);
    name = await retrying(ctx, 'vertex.uploadModel', () => ctx.vertex.startUpload(request(parentModel)));
  }
  ctx.log.info('UploadModel started', { model: rec.model, version: rec.version, operation: name, parentModel });
  return recordChange(ctx, rec, holder, { patch: { operation: { kind: 'upload', name, startedAt: ctx.clock.now().toISOString() } } });
}

/** Starts DeployModel for a registered version (a new release, or a rollback to it). */
export async function startDeploy(ctx: DeploymentContext, rec: VersionRecord, holder: string, purpose: 'release' | 'rollback', split?: TrafficSplit): Promise<VersionRecord> {
  const endpoint = await ensureEndpoint(ctx, rec.model, holder);
  const info = await retrying(ctx, 'vertex.getEndpoint', () => ctx.vertex.getEndpoint(endpoint));
  const already = info.deployedModels.find((d) => d.modelVersionId === rec.vertexModelVersionId && d.model.split('@')[0] === rec.vertexModel);
  const to = rec.state === 'DEPLOYING' ? undefined : 'DEPLOYING';
  if (already) {
    // A previous attempt's DeployModel went through; adopt it rather than deploy twice.
    rec = await recordChange(ctx, rec, holder, { to, reason: 'found already deployed', patch: { endpoint, operation: null } });
    return finishDeploy(ctx, rec, holder, already.id);
  }
  const trafficSplit = split ?? rec.deployTrafficSplit ?? splitFor(rec.traffic, info.trafficSplit);
  const name = await retrying(ctx, 'vertex.deployModel', () =>
    ctx.vertex.startDeploy({
      endpoint,
      model: `${rec.vertexModel}@${rec.vertexModelVersionId}`,
      displayName: rec.version,
      spec: rec.spec as DeploySpec,
      trafficSplit,
    }),
  );
  ctx.log.info('DeployModel started', { model: rec.model, version: rec.version, operation: name, trafficSplit, deployModelIssuedAt: ctx.clock.now().toISOString() });
  return recordChange(ctx, rec, holder, {
    to,
    reason: purpose === 'rollback' ? 'rollback' : undefined,
    patch: { endpoint, deployPurpose: purpose, deployTrafficSplit: trafficSplit, operation: { kind: 'deploy', name, startedAt: ctx.clock.now().toISOString() }, error: null },
  });
}

async function finishDeploy(ctx: DeploymentContext, rec: VersionRecord, holder: string, deployedModelId: string): Promise<VersionRecord> {
  const before = (await ctx.store.getModel(rec.model))?.traffic;
  rec = await recordChange(ctx, rec, holder, { patch: { deployedModelId, operation: null } });
  const view = await syncTraffic(ctx, rec.model, rec.endpoint!, before);
  rec = await recordChange(ctx, rec, holder, {
    to: 'DEPLOYED',
    reason: `serving ${view.byVersion[rec.version] ?? 0}% of traffic`,
    patch: { trafficPercent: view.byVersion[rec.version] ?? 0 },
  });
  rec = await beginRollout(ctx, rec, holder);
  await retireIdleVersions(ctx, rec.model, rec.endpoint!, rec.deployPurpose === 'rollback' ? 'UNDEPLOYED' : 'SUPERSEDED');
  return rec;
}

function splitFor(traffic: string, current: TrafficSplit): TrafficSplit {
  const canary = /^canary:(\d+)$/.exec(traffic);
  return canary ? canarySplit(current, Number(canary[1])) : replaceSplit();
}

function labelValue(s: string): string {
  return s.toLowerCase().replace(MODEL_LABEL_VALUE, '-').slice(0, 63);
}
