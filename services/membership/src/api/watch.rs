//! Watches of background work (reorganisation plans, imports): a stream of what a look at
//! the database sees, every 250 ms, sent when it changed.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use doan_platform::auth::Caller;
use doan_platform::service::ServiceContext;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

/// A server stream of what `look` returns every 250 ms, sent when its `key` changed since the
/// last message, ending after a message `ended` says is the last, when the caller's token
/// expires (UNAUTHENTICATED, as every stream), when the client goes, or at shutdown. A look
/// that finds nothing (the database blinked) is tried again at the next tick.
pub(super) fn polled<T, K, F, Fut>(
    ctx: &ServiceContext,
    caller: &Caller,
    mut look: F,
    key: impl Fn(&T) -> K + Send + 'static,
    ended: impl Fn(&T) -> bool + Send + 'static,
) -> Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>
where
    T: Send + 'static,
    K: PartialEq + Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Option<T>> + Send,
{
    let shutdown = ctx.shutdown.clone();
    let now = ctx.clock.now().timestamp().max(0) as u64;
    let expires_in = Duration::from_secs(caller.expires_at.saturating_sub(now));
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut last: Option<K> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let expired = tokio::time::sleep(expires_in);
        tokio::pin!(expired);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tx.closed() => return,
                _ = &mut expired => {
                    let _ = tx.send(Err(Status::unauthenticated("the token expired; log in again and watch again"))).await;
                    return;
                }
                _ = tick.tick() => {}
            }
            let Some(seen) = look().await else { continue };
            let done = ended(&seen);
            let k = key(&seen);
            if last.as_ref() != Some(&k) {
                last = Some(k);
                if tx.send(Ok(seen)).await.is_err() {
                    return;
                }
            }
            if done {
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(rx))
}
