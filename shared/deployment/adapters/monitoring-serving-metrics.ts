import type { MetricServiceClient } from '@google-cloud/monitoring';
import type { ServingCounts, ServingMetrics } from '../ports';

const RESPONSE_COUNT = 'aiplatform.googleapis.com/prediction/online/response_count';

const timestamp = (d: Date) => ({ seconds: Math.floor(d.getTime() / 1000), nanos: (d.getTime() % 1000) * 1e6 });

/**
 * Vertex AI's own per-deployed-model counts from Cloud Monitoring: the DELTA metric
 * `prediction/online/response_count` on the `aiplatform.googleapis.com/Endpoint` resource, with
 * labels `deployed_model_id` and `response_code`, summed per minute (the smallest alignment
 * period Cloud Monitoring takes) and added up over the window. A 5xx response is an error of
 * the deployed model; 4xx are the request's (a bad image, INVALID_ARGUMENT) or the project's
 * quota (429), and count as requests only. Points arrive some minutes after the calls on
 * Google Cloud, for both arms alike. The window's edges fall on the minute its points cover.
 */
export function cloudMonitoringServingMetrics(client: MetricServiceClient): ServingMetrics {
  return {
    async countsOf(endpoint, since, until) {
      const m = /^projects\/([^/]+)\/locations\/([^/]+)\/endpoints\/([^/]+)$/.exec(endpoint);
      if (!m) throw new Error(`not an endpoint resource name: ${endpoint}`);
      const [, project, location, endpointId] = m;
      const [series] = await client.listTimeSeries(
        {
          name: `projects/${project}`,
          filter: `metric.type = "${RESPONSE_COUNT}" AND resource.type = "aiplatform.googleapis.com/Endpoint" AND resource.labels.location = "${location}" AND resource.labels.endpoint_id = "${endpointId}"`,
          interval: { startTime: timestamp(since), endTime: timestamp(until) },
          aggregation: {
            alignmentPeriod: { seconds: 60 },
            perSeriesAligner: 'ALIGN_DELTA',
            crossSeriesReducer: 'REDUCE_SUM',
            groupByFields: ['metric.label.deployed_model_id', 'metric.label.response_code'],
          },
          view: 'FULL',
        },
        { autoPaginate: true },
      );
      const counts: Record<string, ServingCounts> = {};
      for (const s of series) {
        const id = s.metric?.labels?.deployed_model_id;
        if (!id) continue;
        const n = (s.points ?? []).reduce((sum, p) => sum + Number(p.value?.int64Value ?? 0), 0);
        const c = (counts[id] ??= { requests: 0, errors: 0 });
        c.requests += n;
        // "500" or the class "5xx": the docs name the label's values by class
        if (String(s.metric?.labels?.response_code ?? '').startsWith('5')) c.errors += n;
      }
      return counts;
    },
  };
}
