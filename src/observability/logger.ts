/**
 * Structured JSON logs (pino). Never log PII: no variables, no identifier values, no source
 * rows. Known PII-bearing keys are redacted as a second line of defence.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.C360_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'c360' },
    redact: {
      paths: ['variables', '*.variables', 'phone', '*.phone', 'email', '*.email', 'value', '*.value', 'authorization', '*.authorization', 'headers', '*.headers'],
      censor: '[redacted]',
    },
  });
}
