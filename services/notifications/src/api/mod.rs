//! `doan.notifications.v1.NotificationsService`: proto in, domain call, proto out.

mod policy;
pub use policy::POLICIES;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{decode_page_token, encode_page_token, page_size, parse_id, timestamp};
use doan_platform::error::{AppResult, respond};
use doan_platform::service::ServiceContext;
use doan_proto::notifications as pb;
use doan_proto::notifications::notifications_service_server::NotificationsService;
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::storage::{notices, notification};

/// How often a watcher looks for notices it was not woken for (committed on another
/// replica, or missed when its wake-ups lagged). Notices committed on this replica arrive
/// through the consumer's wake-up at once; this is only the fallback, and it is long so that
/// 100,000 open apps cost about 3,000 queries a second, not 50,000.
const WATCH_FALLBACK_POLL: Duration = Duration::from_secs(30);

/// Open live watches one member may hold on one replica (phone, tablet, browser tabs).
pub const MAX_WATCHES_PER_MEMBER: usize = 5;

/// The notifications API.
pub struct NotificationsApi {
    ctx: ServiceContext,
    new_notices: broadcast::Sender<Arc<notification::Model>>,
    watches: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open watch of a member; its slot is given back when the watch ends.
struct WatchSlot {
    watches: Arc<Mutex<HashMap<String, usize>>>,
    member_id: String,
}

impl WatchSlot {
    fn take(watches: &Arc<Mutex<HashMap<String, usize>>>, member_id: &str) -> AppResult<Self> {
        let mut open = watches.lock().expect("watch slots");
        let n = open.entry(member_id.to_string()).or_default();
        if *n >= MAX_WATCHES_PER_MEMBER {
            return Err(AppError::ResourceExhausted(format!(
                "at most {MAX_WATCHES_PER_MEMBER} live watches per member are open at once; close one first"
            )));
        }
        *n += 1;
        Ok(Self { watches: watches.clone(), member_id: member_id.to_string() })
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut open = self.watches.lock().expect("watch slots");
        if let Some(n) = open.get_mut(&self.member_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.member_id);
            }
        }
    }
}

fn to_pb(n: notification::Model) -> pb::Notification {
    pb::Notification {
        notification_id: n.notification_id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        created_at: Some(timestamp(n.created_at)),
        read_at: n.read_at.map(timestamp),
        source_event_id: n.source_event_id,
    }
}

fn inbox_owner(caller: &Caller) -> AppResult<String> {
    caller
        .require_member()
        .map(str::to_string)
        .map_err(|_| AppError::PermissionDenied("only members have an inbox; log in with a member account".into()))
}

/// Sends every notice of `member_id` after `*last`, advancing `*last`; false when the
/// client is gone.
async fn catch_up(db: &DatabaseConnection, member_id: &str, last: &mut i64, tx: &WatchSender) -> bool {
    loop {
        match notices::after(db, member_id, *last, 100).await {
            Ok(rows) => {
                let complete = rows.len() < 100;
                for n in rows {
                    *last = n.seq;
                    if tx.send(Ok(watch_message(n))).await.is_err() {
                        return false;
                    }
                }
                if complete {
                    return true;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "watch: reading new notices failed; will retry");
                return true;
            }
        }
    }
}

fn watch_message(n: notification::Model) -> pb::WatchNotificationsResponse {
    pb::WatchNotificationsResponse { notification: Some(to_pb(n)) }
}

type WatchSender = mpsc::Sender<Result<pb::WatchNotificationsResponse, Status>>;

impl NotificationsApi {
    /// An API over `ctx`; `new_notices` carries each notice once it committed.
    pub fn new(ctx: ServiceContext, new_notices: broadcast::Sender<Arc<notification::Model>>) -> Self {
        Self { ctx, new_notices, watches: Arc::default() }
    }

    async fn list(&self, caller: &Caller, r: pb::ListNotificationsRequest) -> AppResult<pb::ListNotificationsResponse> {
        let member_id = inbox_owner(caller)?;
        let limit = page_size(r.page_size, 50, 200)?;
        let before = decode_page_token(&r.page_token)?;
        let mut rows = notices::page(&self.ctx.db, &member_id, r.unread_only, before, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|n| encode_page_token(&n.notification_id)).unwrap_or_default()
        } else {
            String::new()
        };
        let unread_count = notices::unread_count(&self.ctx.db, &member_id).await? as i64;
        Ok(pb::ListNotificationsResponse {
            notifications: rows.into_iter().map(to_pb).collect(),
            next_page_token,
            unread_count,
        })
    }

    async fn mark_read(
        &self,
        caller: &Caller,
        r: pb::MarkNotificationReadRequest,
    ) -> AppResult<pb::MarkNotificationReadResponse> {
        let member_id = inbox_owner(caller)?;
        let id = parse_id("notification_id", &r.notification_id)?;
        let not_found = || AppError::NotFound(format!("notification {id} (notification_id) is not in your inbox"));
        let row = notices::find(&self.ctx.db, &id).await?.ok_or_else(not_found)?;
        if row.member_id != member_id {
            return Err(not_found());
        }
        notices::mark_read(&self.ctx.db, &id, self.ctx.clock.now()).await?;
        let row = notices::find(&self.ctx.db, &id).await?.ok_or_else(not_found)?;
        Ok(pb::MarkNotificationReadResponse { notification: Some(to_pb(row)) })
    }

    async fn watch(&self, caller: &Caller) -> AppResult<WatchStream> {
        let member_id = inbox_owner(caller)?;
        let slot = WatchSlot::take(&self.watches, &member_id)?;
        let db = self.ctx.db.clone();
        let mut woken = self.new_notices.subscribe();
        let shutdown = self.ctx.shutdown.clone();
        // Only notices after what the inbox holds now are streamed.
        let mut last = notices::last_seq(&db, &member_id).await?;
        // The stream ends when the caller's token does: a revoked or expired login must not
        // keep receiving notices.
        let now = self.ctx.clock.now().timestamp().max(0) as u64;
        let expires_in = Duration::from_secs(caller.expires_at.saturating_sub(now));
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let _slot = slot;
            let expired = tokio::time::sleep(expires_in);
            tokio::pin!(expired);
            let jitter = Duration::from_millis(rand_millis(5_000));
            let mut poll = tokio::time::interval_at(
                tokio::time::Instant::now() + WATCH_FALLBACK_POLL + jitter,
                WATCH_FALLBACK_POLL,
            );
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    _ = &mut expired => {
                        let _ = tx.send(Err(Status::unauthenticated("the token expired; log in again and reopen the watch"))).await;
                        return;
                    }
                    woke = woken.recv() => match woke {
                        Ok(n) if n.member_id != member_id || n.seq <= last => continue,
                        // The next notice in order: sent as it is, no query.
                        Ok(n) if n.seq == last + 1 => {
                            last = n.seq;
                            if tx.send(Ok(watch_message((*n).clone()))).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        // A gap (committed on another replica) or missed wake-ups: read.
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = poll.tick() => {}
                }
                if !catch_up(&db, &member_id, &mut last, &tx).await {
                    return;
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

/// A random number of milliseconds below `max` (spreads the fallback polls of watches that
/// opened together).
fn rand_millis(max: u64) -> u64 {
    rand::random::<u64>() % max.max(1)
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchNotificationsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl NotificationsService for NotificationsApi {
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.list(&caller, request.into_inner()).await)
    }

    async fn mark_notification_read(
        &self,
        request: Request<pb::MarkNotificationReadRequest>,
    ) -> Result<Response<pb::MarkNotificationReadResponse>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.mark_read(&caller, request.into_inner()).await)
    }

    type WatchNotificationsStream = WatchStream;

    async fn watch_notifications(
        &self,
        request: Request<pb::WatchNotificationsRequest>,
    ) -> Result<Response<Self::WatchNotificationsStream>, Status> {
        let caller = self.ctx.verifier.caller(&request)?;
        respond(self.watch(&caller).await)
    }
}
