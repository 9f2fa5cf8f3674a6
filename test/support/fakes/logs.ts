import { createLogger, type Logger } from '#shared/logging/logger';

export interface LogLine {
  severity: string;
  message: string;
  event?: string;
  [field: string]: unknown;
}

/** The real JSON logger, writing into an array the test reads. */
export function capturedLogger(component = 'test'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger({ component, minSeverity: 'DEBUG', write: (line) => lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}
