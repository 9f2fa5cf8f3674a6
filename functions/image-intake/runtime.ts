import { parseEnv } from '#shared/config/parse-env';
import { createLogger, type Logger } from '#shared/logging/logger';
import { intakeConfigSchema, type IntakeConfig } from '#shared/labeling/config';
import type { IntakeDeps } from '#shared/labeling/intake';
import { buildIntakeDeps } from '#shared/labeling/wiring';

let runtime: { cfg: IntakeConfig; logger: Logger; deps: IntakeDeps } | undefined;

/** Config and clients, built on the first event and kept for the life of the instance. */
export function intakeRuntime() {
  if (!runtime) {
    const cfg = parseEnv(intakeConfigSchema);
    const logger = createLogger({ component: 'image-intake' });
    runtime = { cfg, logger, deps: buildIntakeDeps(cfg, logger) };
  }
  return runtime;
}
