//! `doan.notifications.v1.NotificationsService`: proto in, domain call, proto out.

mod broadcasts;
mod devices;
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
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::events::broadcasts::Broadcaster;
use crate::storage::entities::{broadcast as broadcast_row, delivery, recipient};
use crate::storage::{broadcasts as broadcast_store, notices, notification};

/// Open live watches one member may hold on one replica (phone, tablet, browser tabs).
pub const MAX_WATCHES_PER_MEMBER: usize = 5;

/// The notifications API.
pub struct NotificationsApi {
    ctx: ServiceContext,
    new_notices: Arc<crate::events::live::Live>,
    watches: Arc<Mutex<HashMap<String, usize>>>,
    broadcaster: Arc<Broadcaster>,
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
    with_broadcast(n, None, None)
}

/// Whether a notice of `kind` is the broadcast itself (not its reminder or escalation).
fn is_broadcast_notice(kind: i32) -> bool {
    matches!(kind, 9..=11)
}

/// A notice with what its broadcast and the recipient's answers add.
fn with_broadcast(
    n: notification::Model,
    b: Option<&broadcast_row::Model>,
    r: Option<&recipient::Model>,
) -> pb::Notification {
    let own = is_broadcast_notice(n.kind);
    pb::Notification {
        notification_id: n.notification_id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        created_at: Some(timestamp(n.created_at)),
        read_at: n.read_at.map(timestamp),
        source_event_id: n.source_event_id,
        broadcast_id: n.broadcast_id,
        category: n.category,
        urgent: n.urgent,
        acknowledgement_required: own && b.is_some_and(|b| b.acknowledgement_required),
        acknowledged_at: if own { r.and_then(|r| r.acknowledged_at).map(timestamp) } else { None },
        deadline: b.and_then(|b| b.deadline).map(timestamp),
        documents: b.filter(|_| own).map(broadcasts::documents_of).unwrap_or_default(),
        meeting: b.filter(|_| own).and_then(broadcasts::meeting_to_pb),
        meeting_response: if own { r.map_or(0, |r| r.meeting_response) } else { 0 },
    }
}

/// A delivery as the contract shows it.
pub(crate) fn delivery_to_pb(d: delivery::Model) -> pb::Delivery {
    pb::Delivery {
        channel: d.channel,
        device_id: d.device_id,
        state: d.state,
        attempts: d.attempts,
        failure_reason: d.failure_reason,
        updated_at: Some(timestamp(d.updated_at)),
    }
}

/// Whose inbox the caller reads: a member's record, or an officer's or administrator's account.
pub(crate) fn inbox_owner(caller: &Caller) -> String {
    caller.member_id.clone().unwrap_or_else(|| caller.account_id.clone())
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
    pub fn new(
        ctx: ServiceContext,
        new_notices: Arc<crate::events::live::Live>,
        broadcaster: Arc<Broadcaster>,
    ) -> Self {
        Self { ctx, new_notices, watches: Arc::default(), broadcaster }
    }

    /// Notices with their broadcasts' details and the owner's answers.
    async fn enrich(&self, owner: &str, rows: Vec<notification::Model>) -> AppResult<Vec<pb::Notification>> {
        let mut found: HashMap<String, (Option<broadcast_row::Model>, Option<recipient::Model>)> = HashMap::new();
        for n in rows.iter().filter(|n| !n.broadcast_id.is_empty()) {
            if !found.contains_key(&n.broadcast_id) {
                let b = broadcast_store::find(&self.ctx.db, &n.broadcast_id).await?;
                let r = broadcast_store::recipient(&self.ctx.db, &n.broadcast_id, owner).await?;
                found.insert(n.broadcast_id.clone(), (b, r));
            }
        }
        Ok(rows
            .into_iter()
            .map(|n| {
                let (b, r) = found.get(&n.broadcast_id).map(|(b, r)| (b.as_ref(), r.as_ref())).unwrap_or((None, None));
                with_broadcast(n, b, r)
            })
            .collect())
    }

    /// The owner's notice of broadcast `broadcast_id`, with their answers.
    async fn own_notice(&self, owner: &str, broadcast_id: &str) -> AppResult<Option<pb::Notification>> {
        let Some(n) = notices::of_broadcast(&self.ctx.db, owner, broadcast_id).await? else { return Ok(None) };
        Ok(self.enrich(owner, vec![n]).await?.pop())
    }

    async fn list_notifications(
        &self,
        caller: &Caller,
        r: pb::ListNotificationsRequest,
    ) -> AppResult<pb::ListNotificationsResponse> {
        let member_id = inbox_owner(caller);
        let limit = page_size(r.page_size, 50, 200)?;
        let before = decode_page_token(&r.page_token)?.map(|t| parse_id("page_token", &t)).transpose()?;
        let mut rows = notices::page(&self.ctx.db, &member_id, r.unread_only, before, limit + 1).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|n| encode_page_token(&n.notification_id)).unwrap_or_default()
        } else {
            String::new()
        };
        let unread_count = notices::unread_count(&self.ctx.db, &member_id).await? as i64;
        Ok(pb::ListNotificationsResponse {
            notifications: self.enrich(&member_id, rows).await?,
            next_page_token,
            unread_count,
        })
    }

    async fn mark_notification_read(
        &self,
        caller: &Caller,
        r: pb::MarkNotificationReadRequest,
    ) -> AppResult<pb::MarkNotificationReadResponse> {
        let row = self.own(caller, &r.notification_id).await?;
        let now = self.ctx.clock.now();
        notices::mark_read(&self.ctx.db, &row.notification_id, now).await?;
        if is_broadcast_notice(row.kind) {
            broadcast_store::mark_read(&self.ctx.db, &row.broadcast_id, &row.member_id, false, now).await?;
        }
        let row = self.own(caller, &row.notification_id).await?;
        let owner = row.member_id.clone();
        Ok(pb::MarkNotificationReadResponse { notification: self.enrich(&owner, vec![row]).await?.pop() })
    }

    /// The notice `id` of the caller's inbox.
    async fn own(&self, caller: &Caller, id: &str) -> AppResult<notification::Model> {
        let owner = inbox_owner(caller);
        let id = parse_id("notification_id", id)?;
        let not_found = || AppError::NotFound(format!("notification {id} (notification_id) is not in your inbox"));
        let row = notices::find(&self.ctx.db, &id).await?.ok_or_else(not_found)?;
        if row.member_id != owner {
            return Err(not_found());
        }
        Ok(row)
    }

    async fn watch(&self, caller: &Caller) -> AppResult<WatchStream> {
        let member_id = inbox_owner(caller);
        let slot = WatchSlot::take(&self.watches, &member_id)?;
        let db = self.ctx.db.clone();
        let mut woken = self.new_notices.subscribe(&member_id);
        let shutdown = self.ctx.shutdown.clone();
        // Only notices after what the inbox holds now are streamed.
        let mut last = notices::last_seq(&db, &member_id).await?;
        woken.last.store(last, std::sync::atomic::Ordering::Release);
        // The stream ends when the caller's token does: a revoked or expired login must not
        // keep receiving notices.
        let now = self.ctx.clock.now().timestamp().max(0) as u64;
        let expires_in = Duration::from_secs(caller.expires_at.saturating_sub(now));
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let _slot = slot;
            let expired = tokio::time::sleep(expires_in);
            tokio::pin!(expired);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    _ = &mut expired => {
                        let _ = tx.send(Err(Status::unauthenticated("the token expired; log in again and reopen the watch"))).await;
                        return;
                    }
                    woke = woken.notices.recv() => match woke {
                        Some(n) if n.seq <= last => continue,
                        // The next notice in order: sent as it is, no query.
                        Some(n) if n.seq == last + 1 && !woken.lagged.load(std::sync::atomic::Ordering::Acquire) => {
                            last = n.seq;
                            woken.last.store(last, std::sync::atomic::Ordering::Release);
                            if tx.send(Ok(watch_message((*n).clone()))).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        // A gap (committed on another replica) or dropped notices: read.
                        Some(_) => {}
                        None => return,
                    },
                    _ = woken.wake.notified() => {}
                }
                woken.lagged.store(false, std::sync::atomic::Ordering::Release);
                if !catch_up(&db, &member_id, &mut last, &tx).await {
                    return;
                }
                woken.last.store(last, std::sync::atomic::Ordering::Release);
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchNotificationsResponse, Status>> + Send>>;

macro_rules! rpcs {
    ($($rpc:ident: $request:ident => $response:ident;)*) => {
        #[tonic::async_trait]
        impl NotificationsService for NotificationsApi {
            $(
                async fn $rpc(&self, request: Request<pb::$request>) -> Result<Response<pb::$response>, Status> {
                    let caller = self.ctx.verifier.caller(&request)?;
                    respond(NotificationsApi::$rpc(self, &caller, request.into_inner()).await)
                }
            )*

            type WatchNotificationsStream = WatchStream;

            async fn watch_notifications(
                &self,
                request: Request<pb::WatchNotificationsRequest>,
            ) -> Result<Response<Self::WatchNotificationsStream>, Status> {
                let caller = self.ctx.verifier.caller(&request)?;
                respond(self.watch(&caller).await)
            }
        }
    };
}

rpcs! {
    list_notifications: ListNotificationsRequest => ListNotificationsResponse;
    mark_notification_read: MarkNotificationReadRequest => MarkNotificationReadResponse;
    confirm_delivery: ConfirmDeliveryRequest => ConfirmDeliveryResponse;
    register_device: RegisterDeviceRequest => RegisterDeviceResponse;
    unregister_device: UnregisterDeviceRequest => UnregisterDeviceResponse;
    list_my_devices: ListMyDevicesRequest => ListMyDevicesResponse;
    get_preferences: GetPreferencesRequest => GetPreferencesResponse;
    update_preferences: UpdatePreferencesRequest => UpdatePreferencesResponse;
    create_broadcast: CreateBroadcastRequest => CreateBroadcastResponse;
    get_broadcast: GetBroadcastRequest => GetBroadcastResponse;
    list_broadcasts: ListBroadcastsRequest => ListBroadcastsResponse;
    revoke_broadcast: RevokeBroadcastRequest => RevokeBroadcastResponse;
    get_broadcast_completion: GetBroadcastCompletionRequest => GetBroadcastCompletionResponse;
    list_broadcast_recipients: ListBroadcastRecipientsRequest => ListBroadcastRecipientsResponse;
    acknowledge_broadcast: AcknowledgeBroadcastRequest => AcknowledgeBroadcastResponse;
    respond_to_meeting: RespondToMeetingRequest => RespondToMeetingResponse;
    record_meeting_attendance: RecordMeetingAttendanceRequest => RecordMeetingAttendanceResponse;
}
