/**
 * Structured JSON logs (pino). Never log PII: no variables, no identifier values, no source
 * rows. Known PII-bearing keys are redacted as a second line of defence.
 */
import pino from 'pino';

export type Logger = pino.Logger;

/** A JSON logger at `level` (the config's `log.level`, which C360_LOG_LEVEL overrides: src/config.ts), to stdout or to `destination` (tests read the lines back). */
export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'c360' },
    redact: {
      paths: ['variables', '*.variables', 'phone', '*.phone', 'email', '*.email', 'value', '*.value', 'authorization', '*.authorization', 'headers', '*.headers'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
