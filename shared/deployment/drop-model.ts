import { randomUUID } from 'node:crypto';
import { errorMessage } from '#shared/errors';
import { decideCompleteness, MARKER } from './core/completeness';
import { TF_SERVING_FOLDER, TF_SERVING_MODEL_VERSION } from './core/container-image';
import { parseObjectPath, versionPrefix } from './core/object-path';
import type { VersionRecord } from './core/records';
import { isTransient } from '#shared/retry/retry-policy';
import { versionAlias } from './core/version-alias';
import { trafficLabel } from './core/deploy-spec';
import { retrying, type DeploymentContext } from './context';
import { advanceVersion } from './advance-version';
import { fail, recordChange } from './record-change';
import { LeaseLostError } from './ports';
import { validateVersion, type ExpectedSignature } from './validate-version';

export interface DropConfig {
  modelsBucket: string;
  requireMarker: boolean;
  expectedSignature?: ExpectedSignature;
  /** defaults under every version's deploy.json (DEFAULT_DEPLOY_SPEC) */
  defaultSpec?: Record<string, unknown>;
  /** the mirrored TensorFlow Serving image (TF_SERVING_IMAGE, CPU tag) */
  tfServingImage?: string;
  /** how long the function waits for UploadModel before leaving the rest to the reconciler */
  waitForUploadMs: number;
  pollIntervalMs: number;
}

export interface ArtifactEvent {
  /** CloudEvent id: the same for every redelivery of one event */
  id: string;
  type: string;
  bucket: string;
  name: string;
  generation: string;
}

export type DropOutcome =
  | { outcome: 'ignored'; why: string }
  | { outcome: 'rejected'; why: string }
  | { outcome: 'incomplete'; missing: string[] }
  | { outcome: 'skipped'; why: string }
  | { outcome: 'advanced'; state: VersionRecord['state'] };

const FINALIZED = 'google.cloud.storage.object.v1.finalized';
const DELETED = 'google.cloud.storage.object.v1.deleted';

/**
 * One artifact landed in the models bucket: guard (path, completeness), claim the version,
 * validate, register, deploy. Permanent problems end FAILED and are acknowledged; transient
 * ones release the claim and throw so the platform redelivers the event.
 */
export async function handleArtifactEvent(ctx: DeploymentContext, cfg: DropConfig, ev: ArtifactEvent): Promise<DropOutcome> {
  if (ev.type === DELETED) return { outcome: 'ignored', why: 'deleting artifacts never undeploys: Vertex AI keeps its own copy; use rollback' };
  if (ev.type !== FINALIZED) return { outcome: 'ignored', why: `event type ${ev.type} is not handled` };
  if (ev.bucket !== cfg.modelsBucket) return { outcome: 'ignored', why: `bucket ${ev.bucket} is not the models bucket` };
  const path = parseObjectPath(ev.name);
  if (!path.ok) {
    ctx.log.error('artifact rejected', { object: `gs://${ev.bucket}/${ev.name}`, reason: path.reason });
    return { outcome: 'rejected', why: path.reason };
  }
  // model-drop's own copy of a version for TensorFlow Serving (see copyForTfServing)
  if (path.file.startsWith(TF_SERVING_FOLDER)) return { outcome: 'ignored', why: `${TF_SERVING_FOLDER} holds the copy made for TensorFlow Serving` };
  const prefix = versionPrefix(path.model, path.version);
  const listing = await ctx.artifacts.listFolder(ev.bucket, prefix);
  const completeness = decideCompleteness(
    listing.map((o) => o.path),
    { requireMarker: cfg.requireMarker },
  );
  if (!completeness.complete) return { outcome: 'incomplete', missing: completeness.missing };

  const holder = `${ev.id}:${randomUUID()}`;
  const claimKey = `${ev.bucket}/${ev.name}#${ev.generation}`;
  const savedModelGeneration = listing.find((o) => o.path === 'saved_model.pb')?.generation;
  const claim = await retrying(ctx, 'firestore.claim', () =>
    ctx.store.claim(
      {
        model: path.model,
        version: path.version,
        artifactUri: `gs://${ev.bucket}/${prefix}`,
        claimedBy: claimKey,
        ...(savedModelGeneration ? { savedModelGeneration } : {}),
        versionAlias: versionAlias(path.version),
        traffic: 'replace',
      },
      holder,
      ctx.leaseMs,
      ctx.clock.now(),
    ),
  );
  if (claim.kind === 'skipped') return { outcome: 'skipped', why: claim.why };

  let rec = claim.record;
  const log = ctx.log.child({ model: rec.model, version: rec.version, claimedBy: claimKey });
  try {
    if (rec.state === 'PENDING') rec = await recordChange(ctx, rec, holder, { to: 'VALIDATING' });
    if (rec.state === 'VALIDATING')
      rec = await validate(
        ctx,
        cfg,
        rec,
        holder,
        ev.bucket,
        prefix,
        listing.map((o) => o.path),
      );
    if (rec.state === 'REGISTERING') rec = await advanceVersion(ctx, rec, holder, { waitForUploadMs: cfg.waitForUploadMs, pollIntervalMs: cfg.pollIntervalMs });
    return { outcome: 'advanced', state: rec.state };
  } catch (err) {
    if (err instanceof LeaseLostError) {
      log.warn('another worker took the version over', { err: errorMessage(err) });
      return { outcome: 'skipped', why: errorMessage(err) };
    }
    if (isTransient(err)) throw err;
    // Vertex AI refused a request for a reason retrying cannot fix (bad machine type, quota, ...).
    const current = (await ctx.store.get(rec.model, rec.version)) ?? rec;
    if (current.state === 'FAILED') return { outcome: 'advanced', state: 'FAILED' };
    rec = await fail(ctx, current, holder, `${rec.state === 'VALIDATING' ? 'validation' : 'Vertex AI'} error: ${errorMessage(err)}`);
    return { outcome: 'advanced', state: rec.state };
  } finally {
    await ctx.store.releaseLease(rec.model, rec.version, holder).catch((e: unknown) => log.warn('could not release the lease', { err: errorMessage(e) }));
  }
}

async function validate(ctx: DeploymentContext, cfg: DropConfig, rec: VersionRecord, holder: string, bucket: string, prefix: string, files: string[]): Promise<VersionRecord> {
  const hasSpec = files.includes('deploy.json');
  const [savedModel, deployJson] = await Promise.all([
    ctx.artifacts.read(bucket, `${prefix}saved_model.pb`),
    hasSpec ? ctx.artifacts.read(bucket, `${prefix}deploy.json`) : Promise.resolve(undefined),
  ]);
  if (!savedModel) return fail(ctx, rec, holder, 'saved_model.pb disappeared before it could be read: upload the version again');
  const result = validateVersion({
    savedModel,
    deployJson: deployJson?.toString('utf8'),
    ...(cfg.expectedSignature ? { expected: cfg.expectedSignature } : {}),
    ...(cfg.defaultSpec ? { defaultSpec: cfg.defaultSpec } : {}),
    location: ctx.location,
    now: ctx.clock.now(),
    ...(cfg.tfServingImage ? { tfServingImage: cfg.tfServingImage } : {}),
  });
  if (!result.ok) return fail(ctx, rec, holder, result.reason);
  for (const note of result.notes) ctx.log.warn(note, { model: rec.model, version: rec.version });
  const artifactUri = result.serving === 'tf-serving' ? await copyForTfServing(ctx, bucket, prefix) : rec.artifactUri;
  return recordChange(ctx, rec, holder, {
    to: 'REGISTERING',
    reason: `SavedModel from TensorFlow ${result.tensorflowVersion || 'unknown'}, serving image ${result.containerImageUri} (${result.serving})${result.notes.length ? `; ${result.notes.join('; ')}` : ''}`,
    patch: {
      spec: { ...result.spec, traffic: trafficLabel(result.spec.traffic) },
      traffic: trafficLabel(result.spec.traffic),
      containerImageUri: result.containerImageUri,
      serving: result.serving,
      ...(result.imageAvailableUntil ? { imageAvailableUntil: result.imageAvailableUntil } : {}),
      tensorflowVersion: result.tensorflowVersion,
      artifactUri,
    },
  });
}

/**
 * TensorFlow Serving loads only numbered version folders under its model base path, and Vertex
 * AI hands the container a copy of artifactUri as that base path (AIP_STORAGE_URI). So the
 * SavedModel is copied (server side) to `<version>/.tf-serving/1/`, and `<version>/.tf-serving/`
 * becomes the artifactUri. The user's folder is left as uploaded; events for the copy are ignored.
 * The folder is listed again here, not taken from the claim's listing: files that landed after
 * the SavedModel was complete (assets, extras) are copied too. With REQUIRE_COMPLETE_MARKER
 * (what `dropship deploy` uploads last) the folder is whole by then.
 */
async function copyForTfServing(ctx: DeploymentContext, bucket: string, prefix: string): Promise<string> {
  const target = `${prefix}${TF_SERVING_FOLDER}${TF_SERVING_MODEL_VERSION}/`;
  const files = (await ctx.artifacts.listFolder(bucket, prefix)).map((o) => o.path);
  const model = files.filter((f) => f !== 'deploy.json' && f !== MARKER && !f.startsWith(TF_SERVING_FOLDER));
  for (const f of model) await retrying(ctx, 'storage.copy', () => ctx.artifacts.copy(bucket, `${prefix}${f}`, `${target}${f}`));
  return `gs://${bucket}/${prefix}${TF_SERVING_FOLDER}`;
}
