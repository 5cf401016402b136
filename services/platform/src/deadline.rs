//! Every call a service serves runs to completion in its own task, and a caller's deadline
//! that passes answers DEADLINE_EXCEEDED.
//!
//! Two problems it solves. tonic answers an expired `grpc-timeout` with CANCELLED, so clients
//! could not tell "too slow" from "gave up"; this layer answers first (a few milliseconds
//! early) with DEADLINE_EXCEEDED. And when a client disconnects or its deadline passes, the
//! server drops the handler's future wherever it is, which may be inside a database
//! transaction; here the handler runs in a task of its own that is never dropped half-way,
//! so its transaction commits or rolls back as written.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::body::Body;

/// How much earlier than tonic's own timer this layer answers.
/// How long before a caller's deadline the server answers DEADLINE_EXCEEDED: a tenth of the
/// deadline, from 5 to 100 ms, so the answer reaches the caller before its own timer fires.
fn margin(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100))
}

/// The layer (add with `Server::builder().layer(DeadlineLayer)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadlineLayer;

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner }
    }
}

/// See [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let timeout = request.headers().get("grpc-timeout").and_then(|v| v.to_str().ok()).and_then(parse_grpc_timeout);
        // The deadline is fixed now, when tonic's own timer (outside this layer) starts too,
        // not when this future is first polled: under load that can come later than tonic's
        // timer, which would then answer CANCELLED first.
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t.saturating_sub(margin(t)));
        // The service that was polled ready handles this call; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let handler = tokio::spawn(async move { inner.call(request).await });
        Box::pin(async move {
            let joined = match (timeout, deadline) {
                (Some(t), Some(deadline)) => match tokio::time::timeout_at(deadline, handler).await {
                    Ok(joined) => joined,
                    Err(_) => {
                        return Ok(tonic::Status::deadline_exceeded(format!(
                            "the call's deadline ({} ms) passed before the server finished",
                            t.as_millis()
                        ))
                        .into_http());
                    }
                },
                _ => handler.await,
            };
            match joined {
                Ok(result) => result,
                Err(err) => {
                    tracing::error!(error = %err, "request handler panicked");
                    Ok(tonic::Status::internal("internal error; it has been logged").into_http())
                }
            }
        })
    }
}

/// A `grpc-timeout` header value (`<up to 8 digits><H|M|S|m|u|n>`) as a duration.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("m"), None);
        assert_eq!(parse_grpc_timeout("123456789m"), None, "at most 8 digits");
        assert_eq!(parse_grpc_timeout("10x"), None);
    }
}
