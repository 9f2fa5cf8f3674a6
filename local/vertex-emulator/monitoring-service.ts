import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { invalidArgument } from './api-error';
import type { EmulatorContext } from './context';
import { unary } from './grpc-handler';
import { LOADER_OPTIONS } from './protos';
import type { ServedResponse } from './serving-metrics';

/**
 * google.monitoring.v3.MetricService.ListTimeSeries, for the two Vertex AI online-prediction
 * metrics the canary analysis reads, answered from the emulator's own Predict calls. It is
 * what Cloud Monitoring answers the same request with on Google Cloud, for that narrow query
 * only: metric.type response_count or error_count on the aiplatform.googleapis.com/Endpoint
 * resource, filtered by `=` clauses joined with AND, DELTA points summed per alignment period
 * and grouped by labels. Anything else is refused by name (INVALID_ARGUMENT), never
 * approximated. Unlike Cloud Monitoring, a call is visible at once (no sampling delay) and any
 * alignment period of at least 1 s is accepted.
 */
export const MONITORING_SERVICE = 'google.monitoring.v3.MetricService';

const RESPONSE_COUNT = 'aiplatform.googleapis.com/prediction/online/response_count';
const ERROR_COUNT = 'aiplatform.googleapis.com/prediction/online/error_count';
const ENDPOINT_RESOURCE = 'aiplatform.googleapis.com/Endpoint';

interface Timestamp {
  seconds?: string | number;
  nanos?: number;
}

interface ListTimeSeriesRequest {
  name?: string;
  filter?: string;
  interval?: { startTime?: Timestamp; endTime?: Timestamp };
  aggregation?: { alignmentPeriod?: { seconds?: string | number }; perSeriesAligner?: string; crossSeriesReducer?: string; groupByFields?: string[] };
}

export function loadMonitoringService(): grpc.ServiceDefinition {
  const monitoring = dirname(require.resolve('@google-cloud/monitoring'));
  const gaxProtos = join(dirname(require.resolve('google-gax', { paths: [monitoring] })), '..', 'protos');
  const definition = protoLoader.loadSync(['google/monitoring/v3/metric_service.proto'], { ...LOADER_OPTIONS, includeDirs: [join(monitoring, '..', 'protos'), gaxProtos] });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { google: { monitoring: { v3: { MetricService: grpc.ServiceClientConstructor } } } };
  return pkg.google.monitoring.v3.MetricService.service;
}

export function monitoringService(ctx: EmulatorContext): grpc.UntypedServiceImplementation {
  return {
    ListTimeSeries: unary(ctx.log, 'MetricService.ListTimeSeries', async (req: ListTimeSeriesRequest) => ({ timeSeries: listTimeSeries(ctx, req), unit: '1', nextPageToken: '' })),
  };
}

/** `key = "value" AND ...`, the only filter form served */
function parseFilter(filter: string): Map<string, string> {
  const clauses = new Map<string, string>();
  for (const part of filter.split(/\s+AND\s+/)) {
    const m = /^\s*([a-z_.]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!m) throw invalidArgument(`filter clause "${part.trim()}": the emulator serves only key = "value" clauses joined with AND.`);
    // Cloud Monitoring accepts both `resource.label.x` and `resource.labels.x`
    clauses.set(m[1]!.replace(/\.label\./, '.labels.'), m[2]!);
  }
  return clauses;
}

const ms = (t: Timestamp | undefined) => (t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN);
const ts = (atMs: number) => ({ seconds: String(Math.floor(atMs / 1000)), nanos: (atMs % 1000) * 1e6 });

/** label value of one response, by the group-by field's name */
function labelOf(r: ServedResponse, metricType: string, field: string): [string, string, string] {
  switch (field.replace(/\.label\./, '.labels.')) {
    case 'metric.labels.deployed_model_id':
      return ['metric', 'deployed_model_id', r.deployedModelId];
    case 'metric.labels.response_code':
      if (metricType !== RESPONSE_COUNT) break;
      return ['metric', 'response_code', r.responseCode];
    case 'resource.labels.endpoint_id':
      return ['resource', 'endpoint_id', r.endpointId];
    case 'resource.labels.location':
      return ['resource', 'location', r.location];
  }
  throw invalidArgument(`groupByFields: "${field}" is not served by the emulator for ${metricType} (deployed_model_id, response_code, endpoint_id, location are).`);
}

function listTimeSeries(ctx: EmulatorContext, req: ListTimeSeriesRequest) {
  const project = /^projects\/([^/]+)$/.exec(req.name ?? '')?.[1];
  if (!project) throw invalidArgument(`name must be projects/{project}, got "${req.name ?? ''}".`);
  const clauses = parseFilter(req.filter ?? '');
  const metricType = clauses.get('metric.type');
  if (metricType !== RESPONSE_COUNT && metricType !== ERROR_COUNT) throw invalidArgument(`filter: the emulator serves metric.type "${RESPONSE_COUNT}" or "${ERROR_COUNT}" only.`);
  const resourceType = clauses.get('resource.type');
  if (resourceType !== undefined && resourceType !== ENDPOINT_RESOURCE) return [];
  const startMs = ms(req.interval?.startTime);
  const endMs = ms(req.interval?.endTime);
  if (!Number.isFinite(endMs)) throw invalidArgument('interval.endTime is required.');
  const from = Number.isFinite(startMs) ? startMs : endMs;
  const agg = req.aggregation ?? {};
  const periodMs = Number(agg.alignmentPeriod?.seconds ?? 0) * 1000;
  if (periodMs < 1000 || !['ALIGN_DELTA', 'ALIGN_SUM'].includes(agg.perSeriesAligner ?? '') || (agg.crossSeriesReducer ?? 'REDUCE_SUM') !== 'REDUCE_SUM') {
    throw invalidArgument('aggregation: the emulator serves alignmentPeriod >= 1 s with perSeriesAligner ALIGN_DELTA or ALIGN_SUM and crossSeriesReducer REDUCE_SUM.');
  }
  const matches = (r: ServedResponse) => {
    if (r.project !== project) return false;
    for (const [key, value] of clauses) {
      if (key === 'metric.type' || key === 'resource.type') continue;
      const actual = {
        'resource.labels.endpoint_id': r.endpointId,
        'resource.labels.location': r.location,
        'resource.labels.resource_container': r.project,
        'metric.labels.deployed_model_id': r.deployedModelId,
        'metric.labels.response_code': r.responseCode,
      }[key];
      if (actual === undefined) throw invalidArgument(`filter: "${key}" is not a label the emulator serves.`);
      if (actual !== value) return false;
    }
    // error_count: the calls that did not succeed
    return metricType === RESPONSE_COUNT || !r.responseCode.startsWith('2');
  };
  const groupBy = agg.groupByFields ?? [];
  const series = new Map<string, { metric: Record<string, string>; resource: Record<string, string>; counts: Map<number, number> }>();
  for (const r of ctx.metrics.between(from, endMs).filter(matches)) {
    const metric: Record<string, string> = {};
    const resource: Record<string, string> = {};
    for (const f of groupBy) {
      const [kind, key, value] = labelOf(r, metricType, f);
      (kind === 'metric' ? metric : resource)[key] = value;
    }
    const key = JSON.stringify([metric, resource]);
    const s = series.get(key) ?? { metric, resource, counts: new Map() };
    series.set(key, s);
    // periods end at endTime and step back: (end - (k+1)p, end - kp]
    const k = Math.floor((endMs - r.atMs) / periodMs);
    s.counts.set(k, (s.counts.get(k) ?? 0) + 1);
  }
  return [...series.values()].map((s) => ({
    metric: { type: metricType, labels: s.metric },
    resource: { type: ENDPOINT_RESOURCE, labels: s.resource },
    metricKind: 'DELTA',
    valueType: 'INT64',
    // newest first, as Cloud Monitoring returns points
    points: [...s.counts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, n]) => ({ interval: { startTime: ts(Math.max(from, endMs - (k + 1) * periodMs)), endTime: ts(endMs - k * periodMs) }, value: { int64Value: String(n) } })),
  }));
}
