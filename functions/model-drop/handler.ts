import type { CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { parseEnv } from '#shared/config/parse-env';
import { createLogger } from '#shared/logging/logger';
import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import type { DeploymentContext } from '#shared/deployment/context';
import { handleArtifactEvent, type DropConfig } from '#shared/deployment/drop-model';
import { modelDropConfigSchema } from './config';


interface Wiring {
  ctx: DeploymentContext;
  cfg: DropConfig;
}

let wiring: Wiring | undefined;

/** Config and clients, made on the first event and reused (one per instance). */
function wire(): Wiring {
  if (wiring) return wiring;
  const log = createLogger({ component: 'model-drop' });
  const env = parseEnv(modelDropConfigSchema);
  wiring = {
    ctx: createDeploymentContext(env, log),
    cfg: {
      modelsBucket: env.MODELS_BUCKET,
      requireMarker: env.REQUIRE_COMPLETE_MARKER,
      ...(env.EXPECTED_SIGNATURE ? { expectedSignature: env.EXPECTED_SIGNATURE } : {}),
      ...(env.DEFAULT_DEPLOY_SPEC ? { defaultSpec: env.DEFAULT_DEPLOY_SPEC } : {}),
      ...(env.TF_SERVING_IMAGE ? { tfServingImage: env.TF_SERVING_IMAGE } : {}),
      waitForUploadMs: env.UPLOAD_WAIT_SECONDS * 1000,
      pollIntervalMs: 1000,
    },
  };
  return wiring;
}

/**
 * A Cloud Storage event on the models bucket. Returning acknowledges it; throwing (transient
 * errors only) makes Eventarc deliver it again.
 */
export async function modelDrop(event: CloudEvent<StorageObjectData>): Promise<void> {
  const { ctx, cfg } = wire();
  const log = ctx.log;
  const data = event.data ?? {};
  const outcome = await handleArtifactEvent(ctx, cfg, {
    id: event.id,
    type: event.type,
    bucket: data.bucket ?? '',
    name: data.name ?? '',
    generation: String(data.generation ?? ''),
  });
  log.info('artifact event handled', { eventId: event.id, object: `gs://${data.bucket}/${data.name}`, generation: data.generation, ...outcome });
}
