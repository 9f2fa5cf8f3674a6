import type { CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import type { DeploymentContext } from '#shared/deployment/context';
import { handleArtifactEvent, type DropConfig } from '#shared/deployment/drop-model';

export interface ModelDropRuntime {
  ctx: DeploymentContext;
  cfg: DropConfig;
}

/**
 * A Cloud Storage event on the models bucket. Returning acknowledges it; throwing (transient
 * errors only) makes Eventarc deliver it again.
 */
export async function modelDrop(event: CloudEvent<StorageObjectData>, { ctx, cfg }: ModelDropRuntime): Promise<void> {
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
