import type { TracingConfig } from '../config/types.ts';
import { oncePer } from '../http/once-per.ts';
import type { Tracing, TracingDeps } from './tracing.ts';

// Creates the tracer: with tracing off, nothing (and the OpenTelemetry SDK is never loaded); on, the SDK-backed
// one from otel-tracing.ts, loaded here on demand (so tracing.ts, which every request path imports, stays light).

/** A collector outage is logged once a minute, not once per batch. */
const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000;

/** The tracer when `tracing.enabled`, else null; the OpenTelemetry SDK is loaded only then. */
export async function createTracing(config: TracingConfig, deps: TracingDeps): Promise<Tracing | null> {
  if (!config.enabled) return null;
  const { metrics, logger } = deps;
  // Series exist from the start, so dashboards and alerts see zeros rather than gaps.
  for (const outcome of ['exported', 'failed', 'dropped'] as const) metrics.traceSpans.inc({ outcome }, 0);
  const shouldLog = oncePer(EXPORT_ERROR_LOG_INTERVAL_MS);
  const { OtelTracing } = await import('./otel-tracing.ts');
  return new OtelTracing(config, deps.version, {
    onSpans: (outcome, count) => metrics.traceSpans.inc({ outcome }, count),
    onExportError: (reason) => {
      if (shouldLog()) logger.warn({ reason, endpoint: config.endpoint }, 'trace export failed; spans are dropped until the collector answers');
    },
  });
}
