/**
 * Headers every HTTP source call carries besides its own, computed per call from the calling
 * context: the W3C trace context (`traceparent`, `tracestate`) of the source call's span. The
 * tracing layer (src/observability/tracing.ts) installs the provider; without it, none.
 */
let provider: () => Record<string, string> = () => ({});

/** The extra headers for a call made now. */
export function outgoingHeaders(): Record<string, string> {
  return provider();
}

/** Installs the provider (once per process: the context it reads is the process's). */
export function setOutgoingHeaders(fn: () => Record<string, string>): void {
  provider = fn;
}
