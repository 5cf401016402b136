//! `doan.notifications.v1.NotificationsService`: proto in, domain call, proto out.

use std::pin::Pin;
use std::time::Duration;

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{decode_page_token, encode_page_token, page_size, parse_id, timestamp};
use doan_platform::error::{AppResult, respond};
use doan_platform::service::ServiceContext;
use doan_proto::notifications as pb;
use doan_proto::notifications::notifications_service_server::NotificationsService;
use futures_util::Stream;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::storage::notification;

/// How often a watcher looks for notices committed on another replica.
const WATCH_POLL: Duration = Duration::from_secs(2);

/// The notifications API.
pub struct NotificationsApi {
    ctx: ServiceContext,
    new_notices: broadcast::Sender<String>,
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

/// Notices of `member_id` newer than `after`, oldest first.
async fn newer_than(db: &DatabaseConnection, member_id: &str, after: &str) -> AppResult<Vec<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::MemberId.eq(member_id))
        .filter(notification::Column::NotificationId.gt(after))
        .order_by_asc(notification::Column::NotificationId)
        .limit(100)
        .all(db)
        .await?)
}

impl NotificationsApi {
    /// An API over `ctx`; `new_notices` announces the member id of each committed notice.
    pub fn new(ctx: ServiceContext, new_notices: broadcast::Sender<String>) -> Self {
        Self { ctx, new_notices }
    }

    async fn list(&self, caller: &Caller, r: pb::ListNotificationsRequest) -> AppResult<pb::ListNotificationsResponse> {
        let member_id = inbox_owner(caller)?;
        let limit = page_size(r.page_size, 50, 200)?;
        let mut query = notification::Entity::find().filter(notification::Column::MemberId.eq(&member_id));
        if r.unread_only {
            query = query.filter(notification::Column::ReadAt.is_null());
        }
        if let Some(before) = decode_page_token(&r.page_token)? {
            query = query.filter(notification::Column::NotificationId.lt(before));
        }
        let mut rows =
            query.order_by_desc(notification::Column::NotificationId).limit(limit + 1).all(&self.ctx.db).await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|n| encode_page_token(&n.notification_id)).unwrap_or_default()
        } else {
            String::new()
        };
        let unread_count = notification::Entity::find()
            .filter(notification::Column::MemberId.eq(&member_id))
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.ctx.db)
            .await? as i64;
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
        let row = notification::Entity::find_by_id(id.clone()).one(&self.ctx.db).await?.ok_or_else(not_found)?;
        if row.member_id != member_id {
            return Err(not_found());
        }
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(chrono::Utc::now()))
            .filter(notification::Column::NotificationId.eq(&id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.ctx.db)
            .await?;
        let row = notification::Entity::find_by_id(id.clone()).one(&self.ctx.db).await?.ok_or_else(not_found)?;
        Ok(pb::MarkNotificationReadResponse { notification: Some(to_pb(row)) })
    }

    async fn watch(&self, caller: &Caller) -> AppResult<WatchStream> {
        let member_id = inbox_owner(caller)?;
        let db = self.ctx.db.clone();
        let mut woken = self.new_notices.subscribe();
        let shutdown = self.ctx.shutdown.clone();
        // Only notices newer than what the inbox holds now are streamed.
        let mut last = notification::Entity::find()
            .filter(notification::Column::MemberId.eq(&member_id))
            .order_by_desc(notification::Column::NotificationId)
            .one(&db)
            .await?
            .map(|n| n.notification_id)
            .unwrap_or_default();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let mut poll = tokio::time::interval(WATCH_POLL);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    woke = woken.recv() => match woke {
                        Ok(m) if m != member_id => continue,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = poll.tick() => {}
                }
                match newer_than(&db, &member_id, &last).await {
                    Ok(rows) => {
                        for n in rows {
                            last = n.notification_id.clone();
                            let msg = pb::WatchNotificationsResponse { notification: Some(to_pb(n)) };
                            if tx.send(Ok(msg)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "watch: reading new notices failed; will retry"),
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
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
