// /metrics in Prometheus format. Labels are endpoint and variant (never the instance: instances
// come and go, and a label per instance would grow without bound).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { StreamError } from "../protocol/events.js";
import type { Route } from "../routing/session-router.js";
import type { SessionObserver, SetupTiming } from "../runtime/session-observer.js";
import type { SessionSummary } from "../sidecar/index.js";

export class Metrics implements SessionObserver {
  readonly registry = new Registry();
  private readonly active: Gauge<"endpoint" | "variant">;
  private readonly startedTotal: Counter<"endpoint" | "variant">;
  private readonly errors: Counter<"endpoint" | "variant" | "type" | "code">;
  private readonly bytes: Counter<"endpoint" | "variant" | "direction">;
  private readonly messages: Counter<"endpoint" | "variant" | "direction">;
  private readonly duration: Histogram<"endpoint" | "variant">;
  readonly preStreamErrors: Counter<"endpoint" | "type">;
  private readonly setupModel: Histogram<"endpoint" | "variant">;
  private readonly setupOverhead: Histogram<"endpoint" | "variant">;
  private readonly pings: Counter<"endpoint" | "variant">;
  private readonly pongs: Counter<"endpoint" | "variant">;
  private readonly missedPongs: Counter<"endpoint" | "variant">;

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
    // Setup is the only per-request latency a stream has: after the 200, time is the
    // conversation's, not Sluice's or the model's to answer for (README "Metrics and health").
    const setupBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    this.setupModel = new Histogram({
      name: "sluice_session_setup_model_seconds",
      help: "ModelLatency of a stream's setup: the WebSocket upgrade to the container, TCP connect plus the container's accept",
      labelNames: ["endpoint", "variant"],
      buckets: setupBuckets,
      registers,
    });
    this.setupOverhead = new Histogram({
      name: "sluice_session_setup_overhead_seconds",
      help: "OverheadLatency of a stream's setup: from the request's arrival to its 200, minus the WebSocket upgrade (authentication, validation, routing)",
      labelNames: ["endpoint", "variant"],
      buckets: setupBuckets,
      registers,
    });
    this.pings = new Counter({ name: "sluice_pings_sent_total", help: "WebSocket pings the sidecar sent to containers, counted when a session ends", labelNames: ["endpoint", "variant"], registers });
    this.pongs = new Counter({ name: "sluice_pongs_received_total", help: "Pongs containers answered, counted when a session ends", labelNames: ["endpoint", "variant"], registers });
    this.missedPongs = new Counter({
      name: "sluice_missed_pongs_total",
      help: "Pings still unanswered in a row when a session ended (a session ended by the heartbeat rule adds --max-missed-pongs)",
      labelNames: ["endpoint", "variant"],
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

  setup(route: Route, timing: SetupTiming): void {
    const labels = this.labels(route);
    this.setupModel.observe(labels, timing.modelMs / 1000);
    this.setupOverhead.observe(labels, timing.overheadMs / 1000);
  }

  summary(route: Route, summary: SessionSummary): void {
    const labels = this.labels(route);
    this.pings.inc(labels, summary.stats.pingsSent);
    this.pongs.inc(labels, summary.stats.pongsReceived);
    this.missedPongs.inc(labels, summary.stats.missedPongs);
  }

  refused(endpointName: string, errorType: string): void {
    this.preStreamErrors.inc({ endpoint: endpointName, type: errorType });
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
