import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import { modelDropConfigSchema } from './config';
import { modelDrop, type ModelDropRuntime } from './handler';

/** Config and clients, made on the first event and reused (one per instance). */
const wire = onFirstCall((): ModelDropRuntime => {
  const log = createLogger({ component: 'model-drop' });
  const env = parseEnv(modelDropConfigSchema);
  return {
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
});

cloudEvent<StorageObjectData>('model-drop', (event: CloudEvent<StorageObjectData>) => modelDrop(event, wire()));
