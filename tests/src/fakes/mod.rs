//! Local stand-ins for the push and email providers, speaking their protocols on 127.0.0.1:
//! [`FakeFcm`] (FCM HTTP v1 and Google's OAuth token endpoint), [`FakeApns`] (APNs with
//! token-based authentication) over HTTP/2 without TLS (h2c, prior knowledge), and
//! [`SmtpSink`] (an RFC 5321 relay that keeps what it is sent).
//!
//! Each one verifies what a real provider verifies (signatures, claims, headers), answers from
//! a script keyed on the device token or address, records what it received, and stops when
//! dropped. The keys they use are test-only fixtures under `tests/fixtures/channels/`.

pub mod apns;
pub mod fcm;
pub mod smtp;

pub use apns::{ApnsReceived, ApnsScript, FakeApns};
pub use fcm::{FakeFcm, FcmReceived, FcmScript};
pub use smtp::{SmtpMessage, SmtpScript, SmtpSink};

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{Notify, watch};

/// Streams one connection may carry at once (the benchmark opens few connections).
pub const MAX_CONCURRENT_STREAMS: u32 = 4096;

/// A running HTTP/2 (or HTTP/1.1) server; stops, connections included, when dropped.
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serves `handler` on 127.0.0.1, a fresh port.
pub(crate) async fn serve<H, F>(handler: H) -> anyhow::Result<Server>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    let mut stop_accepting = stopped.clone();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                _ = stop_accepting.changed() => return,
            };
            let _ = stream.set_nodelay(true);
            accepted.fetch_add(1, Ordering::Relaxed);
            let handler = handler.clone();
            let mut stop_serving = stopped.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder.http2().max_concurrent_streams(MAX_CONCURRENT_STREAMS).max_pending_accept_reset_streams(4096);
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = stop_serving.changed() => {}
                }
            });
        }
    });
    Ok(Server { addr, connections, stop })
}

/// A response with a JSON body.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    resp
}

/// A response with a plain-text body.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp
}

/// Reads a request body whole, at most `limit` bytes (`None` beyond).
pub(crate) async fn read_body(body: Incoming, limit: usize) -> Option<Bytes> {
    use http_body_util::BodyExt;
    let bytes = http_body_util::Limited::new(body, limit).collect().await.ok()?.to_bytes();
    Some(bytes)
}

/// Counts something and wakes whoever waits for a count.
#[derive(Default)]
pub(crate) struct Counter {
    n: AtomicUsize,
    changed: Notify,
}

impl Counter {
    pub fn add(&self) {
        self.n.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    pub fn get(&self) -> usize {
        self.n.load(Ordering::Relaxed)
    }

    /// Waits until the count reaches `n`; false when `timeout` passes first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.get() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.get() >= n;
            }
        }
    }
}

/// The service account's private key (test-only fixture, PKCS#8 RSA 2048).
pub const FCM_PRIVATE_KEY: &str = include_str!("../../fixtures/channels/fcm-service-account.key.pem");
/// Its public half, which the fake token endpoint verifies assertions with.
pub const FCM_PUBLIC_KEY: &str = include_str!("../../fixtures/channels/fcm-service-account.pub.pem");
/// The APNs signing key (test-only fixture, PKCS#8 P-256, a `.p8`).
pub const APNS_PRIVATE_KEY: &str = include_str!("../../fixtures/channels/apns-AuthKey.p8");
/// Its public half, which the fake APNs verifies provider tokens with.
pub const APNS_PUBLIC_KEY: &str = include_str!("../../fixtures/channels/apns-AuthKey.pub.pem");
