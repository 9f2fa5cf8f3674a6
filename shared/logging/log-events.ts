/**
 * Log lines that Cloud Monitoring counts. terraform/monitoring.tf builds log-based metrics on
 * exactly these `event` values and fields, so change them only together with that file
 * (test/unit/infra checks the two agree).
 */
export const LOG_EVENTS = {
  /**
   * The reconciler found a version in an in-progress state (PENDING, VALIDATING, REGISTERING,
   * DEPLOYING) for longer than it should take. Severity WARNING; fields: model, version,
   * state, stuckSeconds. Feeds the "deployment stuck" alert.
   */
  deploymentStuck: 'deployment-stuck',
  /**
   * One image's result was stored (by whichever function stored it). Severity INFO for OK,
   * ERROR for ERROR; fields: job, status ('OK' | 'ERROR'). Feeds "results by status".
   */
  resultRecorded: 'result-recorded',
} as const;

export type LogEvent = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];
