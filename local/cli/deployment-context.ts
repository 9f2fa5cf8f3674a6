import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import type { DeploymentContext } from '#shared/deployment/context';
import { createLogger } from '#shared/logging/logger';
import type { Target } from './target';

/**
 * The deployment core's context for a CLI command, on the target's project and Vertex AI
 * endpoint. The core's logs go to stderr (warnings and worse unless --verbose), so stdout
 * stays clean for --json.
 */
export function cliDeploymentContext(target: Target, verbose = false): DeploymentContext & { close(): Promise<void> } {
  const log = createLogger({ component: 'dropship-cli', minSeverity: verbose ? 'DEBUG' : 'WARNING', write: (l) => process.stderr.write(`${l}\n`) });
  return createDeploymentContext(
    {
      GOOGLE_CLOUD_PROJECT: target.project,
      VERTEX_LOCATION: target.region,
      ...(target.vertexApiEndpoint ? { VERTEX_API_ENDPOINT: target.vertexApiEndpoint } : {}),
      MODEL_EVENTS_TOPIC: target.topic('model-events'),
      LEASE_SECONDS: 120,
    },
    log,
  );
}
