//! Structured logs for people and machines, OTLP traces when an endpoint is configured, and
//! W3C trace context carried across gRPC metadata and event envelopes, so one trace spans
//! gateway → service → event → consumer.

use std::collections::HashMap;

use anyhow::Context;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetrySettings;

/// Flushes traces and metrics when dropped at shutdown.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
        if let Some(meters) = self.meters.take() {
            let _ = meters.shutdown();
        }
    }
}

/// Installs the global subscriber: logs filtered by `RUST_LOG` or `telemetry.log_level`, in
/// JSON or text, plus an OTLP exporter when `telemetry.otlp_endpoint` is set.
pub fn init(settings: &TelemetrySettings, service_name: &str) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
        .context("telemetry.log_level is not a valid filter")?;
    use std::io::IsTerminal;
    let format = match settings.log_format.as_str() {
        "auto" if std::io::stdout().is_terminal() => "text",
        "auto" => "json",
        other => other,
    };
    let fmt = match format {
        "text" => tracing_subscriber::fmt::layer().with_target(false).boxed(),
        "json" => tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(true).boxed(),
        other => anyhow::bail!("telemetry.log_format must be `auto`, `json` or `text`, got {other:?}"),
    };
    let mut provider = None;
    let mut meters = None;
    let otel = match &settings.otlp_endpoint {
        Some(endpoint) if !endpoint.is_empty() => {
            use opentelemetry_otlp::WithExportConfig;
            let resource = || {
                opentelemetry_sdk::Resource::builder_empty().with_service_name(format!("doan-{service_name}")).build()
            };
            let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .context("build OTLP metric exporter")?;
            let m = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                .with_periodic_exporter(metric_exporter)
                .with_resource(resource())
                .build();
            opentelemetry::global::set_meter_provider(m.clone());
            meters = Some(m);
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .context("build OTLP exporter")?;
            let p = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource()).build();
            let tracer = p.tracer("doan");
            provider = Some(p);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
        _ => None,
    };
    // A second init in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Ok(TelemetryGuard { provider, meters })
}

/// The current span's trace context as W3C headers (empty when tracing is off).
pub fn current_trace_context() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MapCarrier(&mut carrier)));
    carrier
}

/// Makes `span` a child of the trace described by `carrier`.
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    if carrier.is_empty() {
        return;
    }
    let mut owned = carrier.clone();
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapCarrier(&mut owned)));
    let _ = span.set_parent(cx);
}

/// A server span for an incoming gRPC request, child of its `traceparent` header if any.
pub fn grpc_request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc",
        otel.kind = "server",
        rpc.method = %request.uri().path(),
        caller = tracing::field::Empty,
    );
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderCarrier(request.headers())));
    let _ = span.set_parent(cx);
    span
}

/// Writes the current span's trace context into outgoing HTTP headers.
pub fn inject_headers(headers: &mut http::HeaderMap) {
    for (k, v) in current_trace_context() {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(k), http::HeaderValue::try_from(v)) {
            headers.insert(name, value);
        }
    }
}

struct MapCarrier<'a>(&'a mut HashMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

impl Extractor for MapCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct HeaderCarrier<'a>(&'a http::HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
