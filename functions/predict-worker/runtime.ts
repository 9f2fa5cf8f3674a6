import { parseEnv } from '#shared/config/parse-env';
import { createLogger, type Logger } from '#shared/logging/logger';
import { workerConfigSchema, type WorkerConfig } from '#shared/labeling/config';
import type { WorkerDeps } from '#shared/labeling/label-images';
import { buildWorkerDeps } from '#shared/labeling/worker-wiring';

let runtime: { cfg: WorkerConfig; logger: Logger; deps: WorkerDeps } | undefined;

/**
 * Config and clients, built on the first request and kept for the life of the instance: the
 * predict batchers live here, so concurrent invocations share predict calls.
 */
export function workerRuntime() {
  if (!runtime) {
    const cfg = parseEnv(workerConfigSchema);
    const logger = createLogger({ component: 'predict-worker' });
    runtime = { cfg, logger, deps: buildWorkerDeps(cfg, logger) };
  }
  return runtime;
}
