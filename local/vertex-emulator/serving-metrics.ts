import { status } from '@grpc/grpc-js';

/** One answered Predict call of a deployed model, as Vertex AI counts it in Cloud Monitoring. */
export interface ServedResponse {
  /** the endpoint's id (the last segment of its name): the Endpoint monitored resource's `endpoint_id` */
  endpointId: string;
  location: string;
  /** the project as the request named it: the monitored resource's `resource_container` */
  project: string;
  deployedModelId: string;
  /** the HTTP status the call ended with, as a string ("200", "500") */
  responseCode: string;
  atMs: number;
}

/** google.rpc.Code -> HTTP status, as Google APIs map them (google/rpc/code.proto). */
const HTTP_OF: Record<number, number> = {
  [status.OK]: 200,
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 400,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
};

export function httpStatusOf(grpcCode: number | undefined): number {
  return HTTP_OF[grpcCode ?? status.UNKNOWN] ?? 500;
}

/** responses kept at most; the oldest go first (a long-running emulator must not grow without bound) */
const MAX_KEPT = 500_000;

/**
 * What Vertex AI writes to Cloud Monitoring for online prediction, kept per call:
 * `aiplatform.googleapis.com/prediction/online/response_count` (labels deployed_model_id,
 * response_code) and `.../error_count` (deployed_model_id). The emulator's MetricService
 * (monitoring-service.ts) answers ListTimeSeries from these.
 */
export class ServingMetrics {
  private responses: ServedResponse[] = [];

  record(r: ServedResponse): void {
    this.responses.push(r);
    if (this.responses.length > MAX_KEPT) this.responses = this.responses.slice(-MAX_KEPT / 2);
  }

  /** responses with startMs < atMs <= endMs (a DELTA point's interval is open at its start) */
  between(startMs: number, endMs: number): ServedResponse[] {
    return this.responses.filter((r) => r.atMs > startMs && r.atMs <= endMs);
  }
}
