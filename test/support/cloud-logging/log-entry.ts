/**
 * What Cloud Logging makes of one line a Cloud Run service (a gen2 function) writes to stdout,
 * following "Structured logging" (cloud.google.com/logging/docs/structured-logging, special
 * JSON fields): a line that parses as a JSON object becomes jsonPayload, minus the special keys
 * the agent lifts into the LogEntry: severity; time / timestamp / timestampSeconds+Nanos;
 * httpRequest; logging.googleapis.com/{insertId,labels,operation,sourceLocation,spanId,trace,
 * trace_sampled}. `message` stays in jsonPayload (it becomes textPayload only when nothing else
 * is left). Any other line becomes textPayload with severity DEFAULT.
 */
export interface LogEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  severity: string;
  timestamp?: string;
  labels?: Record<string, string>;
  httpRequest?: unknown;
  insertId?: string;
  trace?: string;
  spanId?: string;
  traceSampled?: boolean;
  operation?: unknown;
  sourceLocation?: unknown;
  jsonPayload?: Record<string, unknown>;
  textPayload?: string;
}

/** LogSeverity names and their numeric values (google/logging/type/log_severity.proto). */
export const LOG_SEVERITY: Record<string, number> = { DEFAULT: 0, DEBUG: 100, INFO: 200, NOTICE: 300, WARNING: 400, ERROR: 500, CRITICAL: 600, ALERT: 700, EMERGENCY: 800 };

const LIFTED: Record<string, keyof LogEntry> = {
  httpRequest: 'httpRequest',
  'logging.googleapis.com/insertId': 'insertId',
  'logging.googleapis.com/labels': 'labels',
  'logging.googleapis.com/operation': 'operation',
  'logging.googleapis.com/sourceLocation': 'sourceLocation',
  'logging.googleapis.com/spanId': 'spanId',
  'logging.googleapis.com/trace': 'trace',
  'logging.googleapis.com/trace_sampled': 'traceSampled',
};

export interface CloudRunResource {
  project: string;
  service: string;
  location?: string;
}

export function cloudRunLogEntry(line: string, where: CloudRunResource): LogEntry {
  const entry: LogEntry = {
    logName: `projects/${where.project}/logs/run.googleapis.com%2Fstdout`,
    resource: {
      type: 'cloud_run_revision',
      labels: { project_id: where.project, service_name: where.service, revision_name: `${where.service}-00001-abc`, configuration_name: where.service, location: where.location ?? 'us-central1' },
    },
    severity: 'DEFAULT',
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    entry.textPayload = line;
    return entry;
  }
  const payload = { ...(parsed as Record<string, unknown>) };
  if (typeof payload.severity === 'string') {
    const s = payload.severity.toUpperCase();
    // The agent also reads common spellings; dropship writes LogSeverity names only.
    entry.severity = s in LOG_SEVERITY ? s : s === 'WARN' ? 'WARNING' : 'DEFAULT';
  }
  delete payload.severity;
  for (const key of ['time', 'timestamp']) {
    if (payload[key] !== undefined) {
      entry.timestamp ??= typeof payload[key] === 'string' ? (payload[key] as string) : JSON.stringify(payload[key]);
      delete payload[key];
    }
  }
  if (payload.timestampSeconds !== undefined) {
    entry.timestamp ??= new Date(Number(payload.timestampSeconds) * 1000 + Math.floor(Number(payload.timestampNanos ?? 0) / 1e6)).toISOString();
    delete payload.timestampSeconds;
    delete payload.timestampNanos;
  }
  for (const [key, field] of Object.entries(LIFTED)) {
    if (payload[key] !== undefined) {
      (entry as unknown as Record<string, unknown>)[field] = payload[key];
      delete payload[key];
    }
  }
  const keys = Object.keys(payload);
  if (keys.length === 1 && keys[0] === 'message' && typeof payload.message === 'string') entry.textPayload = payload.message;
  else entry.jsonPayload = payload;
  return entry;
}
