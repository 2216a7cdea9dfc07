// /metrics in Prometheus format. Labels are endpoint and variant (never the instance: instances
// come and go, and a label per instance would grow without bound).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { StreamError } from "../protocol/events.js";
import type { Route } from "../routing/session-router.js";
import type { SessionObserver } from "../runtime/session-observer.js";

export class Metrics implements SessionObserver {
  readonly registry = new Registry();
  private readonly active: Gauge<"endpoint" | "variant">;
  private readonly startedTotal: Counter<"endpoint" | "variant">;
  private readonly errors: Counter<"endpoint" | "variant" | "type" | "code">;
  private readonly bytes: Counter<"endpoint" | "variant" | "direction">;
  private readonly messages: Counter<"endpoint" | "variant" | "direction">;
  private readonly duration: Histogram<"endpoint" | "variant">;
  readonly preStreamErrors: Counter<"endpoint" | "type">;

  constructor(options: { bufferedBytes: () => number; totalSessions: () => number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "sluice_process_" });
    this.active = new Gauge({ name: "sluice_sessions_active", help: "Open bidirectional sessions", labelNames: ["endpoint", "variant"], registers });
    this.startedTotal = new Counter({ name: "sluice_sessions_started_total", help: "Bidirectional sessions that got a 200", labelNames: ["endpoint", "variant"], registers });
    this.errors = new Counter({
      name: "sluice_session_errors_total",
      help: "Sessions that ended with an exception event, by type and ErrorCode (or Message for InternalStreamFailure)",
      labelNames: ["endpoint", "variant", "type", "code"],
      registers,
    });
    this.preStreamErrors = new Counter({
      name: "sluice_request_errors_total",
      help: "Runtime requests refused before a stream started, by AWS error type",
      labelNames: ["endpoint", "type"],
      registers,
    });
    this.bytes = new Counter({ name: "sluice_payload_bytes_total", help: "PayloadPart bytes, in (client to model) and out", labelNames: ["endpoint", "variant", "direction"], registers });
    this.messages = new Counter({ name: "sluice_payload_parts_total", help: "PayloadPart events, in and out", labelNames: ["endpoint", "variant", "direction"], registers });
    this.duration = new Histogram({
      name: "sluice_session_duration_seconds",
      help: "Bidirectional session duration, from the 200 to the end",
      labelNames: ["endpoint", "variant"],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    new Gauge({ name: "sluice_session_buffered_bytes", help: "Bytes held by all open sessions (HTTP/2 output, queued input, WebSocket buffers)", registers, collect() {
      this.set(options.bufferedBytes());
    } });
    new Gauge({ name: "sluice_sessions_total_active", help: "Open sessions across all endpoints", registers, collect() {
      this.set(options.totalSessions());
    } });
  }

  started(route: Route): void {
    const labels = this.labels(route);
    this.active.inc(labels);
    this.startedTotal.inc(labels);
  }

  input(route: Route, bytes: number): void {
    const labels = { ...this.labels(route), direction: "in" };
    this.bytes.inc(labels, bytes);
    this.messages.inc(labels);
  }

  output(route: Route, bytes: number): void {
    const labels = { ...this.labels(route), direction: "out" };
    this.bytes.inc(labels, bytes);
    this.messages.inc(labels);
  }

  ended(route: Route, error: StreamError | undefined, durationMs: number): void {
    const labels = this.labels(route);
    this.active.dec(labels);
    this.duration.observe(labels, durationMs / 1000);
    if (error) {
      const code = error.kind === "ModelStreamError" ? error.ErrorCode : error.Message;
      this.errors.inc({ ...labels, type: error.kind, code });
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private labels(route: Route): { endpoint: string; variant: string } {
    return { endpoint: route.endpoint.endpointName, variant: route.variant.variantName };
  }
}
