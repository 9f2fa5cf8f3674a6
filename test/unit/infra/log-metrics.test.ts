import { LOG_EVENTS } from '#shared/logging/log-events';
import { createLogger } from '#shared/logging/logger';
import { extractLabel, parseLabelExtractor } from '../../support/cloud-logging/label-extractor';
import { cloudRunLogEntry, type LogEntry } from '../../support/cloud-logging/log-entry';
import { matchesLoggingQuery, parseLoggingQuery } from '../../support/cloud-logging/logging-query';
import { functionServices, logMetrics, userMetricUses, type LogMetric } from './log-metrics';
import { loadTerraform, resources, type TerraformConfig } from './terraform-config';

const entry = (line: Record<string, unknown> | string, service = 'dropship-reconciler'): LogEntry =>
  cloudRunLogEntry(typeof line === 'string' ? line : JSON.stringify(line), { project: 'p', service });

describe('Cloud Run structured logging, as Cloud Logging stores a stdout line', () => {
  it('lifts severity and time out of the payload and keeps message and the rest as jsonPayload', () => {
    const e = entry({ severity: 'WARNING', message: 'm', time: '2026-12-01T00:00:00.000Z', event: 'x', 'logging.googleapis.com/labels': { a: 'b' } });
    expect(e.severity).toBe('WARNING');
    expect(e.timestamp).toBe('2026-12-01T00:00:00.000Z');
    expect(e.labels).toEqual({ a: 'b' });
    expect(e.jsonPayload).toEqual({ message: 'm', event: 'x' });
  });

  it('stores a JSON line holding only a message, and any non-JSON line, as textPayload', () => {
    expect(entry({ severity: 'INFO', message: 'only' })).toMatchObject({ severity: 'INFO', textPayload: 'only' });
    expect(entry('plain text')).toMatchObject({ severity: 'DEFAULT', textPayload: 'plain text' });
  });
});

describe('the Logging query language subset', () => {
  const e = entry({ severity: 'ERROR', message: 'x', event: 'result-recorded', status: 'ERROR', n: 3 }, 'dropship-image-intake');

  it('compares fields, severities by rank, numbers and regexes (unanchored); absent fields never match', () => {
    const yes = ['resource.type="cloud_run_revision"', 'severity>=WARNING', 'severity=ERROR', 'jsonPayload.n>=3', 'resource.labels.service_name=~"image-"', 'jsonPayload.event="result-recorded"'];
    const no = ['severity<ERROR', 'jsonPayload.status="OK"', 'resource.labels.service_name=~"^image-"', 'jsonPayload.missing="x"', 'jsonPayload.n>3'];
    for (const q of yes) expect([q, matchesLoggingQuery(parseLoggingQuery(q), e)]).toEqual([q, true]);
    for (const q of no) expect([q, matchesLoggingQuery(parseLoggingQuery(q), e)]).toEqual([q, false]);
  });

  it('ANDs lines and juxtaposed terms, and gives OR precedence over AND, NOT over both', () => {
    const m = (q: string) => matchesLoggingQuery(parseLoggingQuery(q), e);
    expect(m('severity=ERROR\njsonPayload.status="ERROR"')).toBe(true);
    expect(m('severity=INFO\njsonPayload.status="ERROR"')).toBe(false);
    // (severity=INFO OR status=ERROR) AND event=result-recorded
    expect(m('severity=INFO OR jsonPayload.status="ERROR" jsonPayload.event="result-recorded"')).toBe(true);
    expect(m('severity=INFO OR jsonPayload.status="ERROR" AND jsonPayload.event="other"')).toBe(false);
    expect(m('NOT severity=INFO AND (jsonPayload.status="OK" OR jsonPayload.n=3)')).toBe(true);
  });

  it.each([
    ['jsonPayload.event:"result"', /the : operator/],
    ['jsonPayload.status!="OK"', /the != operator/],
    ['-severity=ERROR', /negation/],
    ['"result-recorded"', /field path/],
    ['log_id("run.googleapis.com/stdout")', /functions/],
    ['jsonPayload.a>"b"', /non-numeric/],
    ['severity>=LOUD', /not a LogSeverity/],
    ['(severity=ERROR', /closing parenthesis/],
  ])('rejects %s instead of matching it silently', (q, why) => {
    expect(() => parseLoggingQuery(q)).toThrow(why);
  });

  it('extracts labels with EXTRACT and REGEXP_EXTRACT, and rejects anything else', () => {
    expect(extractLabel(parseLabelExtractor('EXTRACT(jsonPayload.status)'), e)).toBe('ERROR');
    expect(extractLabel(parseLabelExtractor('EXTRACT(jsonPayload.n)'), e)).toBe('3');
    expect(extractLabel(parseLabelExtractor('EXTRACT(jsonPayload.none)'), e)).toBeUndefined();
    expect(extractLabel(parseLabelExtractor('REGEXP_EXTRACT(resource.labels.service_name, "dropship-(.*)")'), e)).toBe('image-intake');
    expect(() => parseLabelExtractor('REGEXP_EXTRACT(jsonPayload.a, "(x)(y)")')).toThrow(/exactly one capture group/);
    expect(() => parseLabelExtractor('jsonPayload.status')).toThrow(/unsupported label extractor/);
  });
});

describe("terraform's log-based metrics, alerts and dashboard", () => {
  let cfg: TerraformConfig;
  let metrics: LogMetric[];
  beforeAll(async () => {
    cfg = await loadTerraform();
    metrics = logMetrics(cfg);
  });

  it('every metric is a counter whose filter parses and whose label extractors are exactly its descriptor labels', () => {
    expect(metrics.map((m) => m.resource).sort()).toEqual(['deployments_stuck', 'results']);
    for (const m of metrics) {
      expect([m.resource, m.descriptor.metric_kind, m.descriptor.value_type]).toEqual([m.resource, 'DELTA', 'INT64']);
      expect([m.resource, Object.keys(m.extractors).sort()]).toEqual([m.resource, [...m.descriptorLabels].sort()]);
    }
  });

  it('every alert policy and dashboard tile that reads a log-based metric names one that exists, and only its labels', () => {
    const uses = userMetricUses(cfg);
    const byResource = new Map(metrics.map((m) => [m.resource, m]));
    expect(uses.length).toBeGreaterThanOrEqual(3); // the stuck alert, and the two dashboard tiles
    for (const u of uses) {
      const m = byResource.get(u.metric);
      expect([u.where, m ? 'exists' : u.metric]).toEqual([u.where, 'exists']);
      expect([u.where, u.labels.filter((l) => !m!.descriptorLabels.includes(l))]).toEqual([u.where, []]);
    }
    const alerts = resources(cfg, 'google_monitoring_alert_policy').filter(({ block }) => JSON.stringify(block).includes('logging.googleapis.com/user/'));
    expect(alerts.map((a) => a.name)).toEqual(['deployments_stuck']);
  });

  it("each metric matches its own event line, in its own service, and no other metric's", () => {
    const services = functionServices(cfg);
    const log = (component: string, severity: 'INFO' | 'WARNING' | 'ERROR', fields: Record<string, unknown>, event?: (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS]) => {
      const lines: string[] = [];
      const logger = createLogger({ component, minSeverity: 'CRITICAL', write: (l) => lines.push(l) });
      if (event) logger.event(event, severity, 'm', fields);
      else logger.error('m', fields);
      return cloudRunLogEntry(lines[0]!, { project: 'p', service: services[component]! });
    };
    const stuck = log('reconciler', 'WARNING', { model: 'digits', version: 'v1', state: 'DEPLOYING' }, LOG_EVENTS.deploymentStuck);
    const ok = log('predict-worker', 'INFO', { job: 'j', status: 'OK' }, LOG_EVENTS.resultRecorded);
    const error = log('image-intake', 'ERROR', { job: 'j', status: 'ERROR' }, LOG_EVENTS.resultRecorded);
    const plainError = log('predict-worker', 'ERROR', { job: 'j', status: 'ERROR' });
    const stuckElsewhere = log('model-drop', 'WARNING', { model: 'digits', state: 'DEPLOYING' }, LOG_EVENTS.deploymentStuck);
    const matched = (resource: string) => [stuck, ok, error, plainError, stuckElsewhere].map((e) => matchesLoggingQuery(metrics.find((m) => m.resource === resource)!.filter, e));
    expect(matched('deployments_stuck')).toEqual([true, false, false, false, false]);
    expect(matched('results')).toEqual([false, true, true, false, false]);
    const results = metrics.find((m) => m.resource === 'results')!;
    expect([ok, error].map((e) => extractLabel(results.extractors.status!, e))).toEqual(['OK', 'ERROR']);
  });

  it('metric lines are written whatever the minimum severity (a filtered line is a lost count)', () => {
    const lines: string[] = [];
    const logger = createLogger({ component: 'predict-worker', minSeverity: 'ERROR', write: (l) => lines.push(l) }).child({ event: 'overwritten?' });
    logger.info('dropped');
    logger.event(LOG_EVENTS.resultRecorded, 'INFO', 'result recorded', { job: 'j', status: 'OK' });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ severity: 'INFO', event: 'result-recorded', status: 'OK', component: 'predict-worker' })]);
  });
});
