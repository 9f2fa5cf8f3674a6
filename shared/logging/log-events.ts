/**
 * Log lines that Cloud Monitoring counts. terraform/monitoring.tf builds log-based metrics on
 * exactly these `event` values and fields, so change them only together with that file:
 * test/integration/infra/cloud-rules.test.ts runs the scenario behind each metric through the
 * functions and evaluates every metric's filter and label extractors on the lines they write.
 * Written with `Logger.event`, which no LOG_LEVEL filters out.
 */
export const LOG_EVENTS = {
  /**
   * The reconciler failed a version by the stuck rule: it sat in an in-progress state
   * (PENDING, VALIDATING, REGISTERING, DEPLOYING) longer than STUCK_AFTER_MINUTES. One line per
   * version, once it is FAILED. Severity WARNING; fields: model, version, state (the state it
   * was stuck in), stuckSeconds, operation (when one was in flight). Feeds the
   * "deployment stuck" alert.
   */
  deploymentStuck: 'deployment-stuck',
  /**
   * One image's result was created (by whichever function created it: image-intake,
   * predict-worker, dead-letter-recorder), once per result however often its event is
   * delivered. Severity INFO for OK, ERROR for ERROR; fields: job, status ('OK' | 'ERROR'),
   * resultId, imageUri, and for ERROR reason and error. Feeds "results by status".
   */
  resultRecorded: 'result-recorded',
} as const;

export type LogEvent = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];
