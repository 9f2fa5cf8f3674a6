import type { LogEvent } from './log-events';

/**
 * One JSON line per entry in Cloud Logging's structured shape: `severity`, `message`, and the
 * rest as fields (jsonPayload). Context keys (a job, a model version, an idempotency key) are
 * bound once with `child()` and repeated on every line.
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

const RANK: Record<Severity, number> = { DEBUG: 100, INFO: 200, NOTICE: 300, WARNING: 400, ERROR: 500, CRITICAL: 600 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  notice(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /**
   * A line a log-based metric counts (LOG_EVENTS, terraform/monitoring.tf): written whatever
   * the minimum severity, since a filtered-out line is a count lost, with `event` set last so
   * no field or context can overwrite it.
   */
  event(event: LogEvent, severity: Severity, message: string, fields: Record<string, unknown>): void;
  child(context: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  component: string;
  minSeverity?: Severity;
  /** where lines go; stdout by default */
  write?: (line: string) => void;
  context?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions): Logger {
  const minSeverity = opts.minSeverity ?? envSeverity() ?? 'INFO';
  const min = RANK[minSeverity];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = { component: opts.component, ...opts.context };
  const line = (severity: Severity, message: string, fields?: Record<string, unknown>) =>
    // `time` is one of the keys Cloud Logging lifts into the entry's timestamp.
    ({ severity, message, time: new Date().toISOString(), ...base, ...serializeFields(fields) });
  const emit = (severity: Severity, message: string, fields?: Record<string, unknown>) => {
    if (RANK[severity] < min) return;
    write(JSON.stringify(line(severity, message, fields)));
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    notice: (m, f) => emit('NOTICE', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
    event: (event, severity, m, f) => write(JSON.stringify({ ...line(severity, m, f), event })),
    // the severity resolved once, not read from the environment again for every child
    child: (context) => createLogger({ ...opts, minSeverity, context: { ...opts.context, ...context } }),
  };
}

function envSeverity(): Severity | undefined {
  const v = process.env.LOG_LEVEL?.toUpperCase();
  return v && v in RANK ? (v as Severity) : undefined;
}

function serializeFields(fields?: Record<string, unknown>): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code, stack: v.stack } : v;
  }
  return out;
}

/** A logger that drops everything; for unit tests of pure logic. */
export const silentLogger: Logger = createLogger({ component: 'silent', write: () => undefined });
