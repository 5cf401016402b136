//! Consumed events become notices; committed notices wake live watchers on this replica
//! (watchers on other replicas find them by polling).

use doan_platform::bus::{Consumer, EventHandler, HandlerError, decode_payload};
use doan_platform::inbox;
use doan_platform::service::ServiceContext;
use doan_proto::events::{AwardGranted, EventEnvelope, IntegrationEvent, MemberAdmitted, ParticipationRecorded};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use tokio::sync::broadcast;

use crate::domain::{self, Notice};
use crate::storage::notification;

struct InboxWriter {
    db: DatabaseConnection,
    new_notices: broadcast::Sender<String>,
}

#[async_trait::async_trait]
impl EventHandler for InboxWriter {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let notice: Option<Notice> = match envelope.event_type.as_str() {
            MemberAdmitted::EVENT_TYPE => Some(domain::welcome(&decode_payload(envelope)?)),
            ParticipationRecorded::EVENT_TYPE => Some(domain::check_in_confirmed(&decode_payload(envelope)?)),
            AwardGranted::EVENT_TYPE => domain::award_granted(&decode_payload::<AwardGranted>(envelope)?),
            _ => None,
        };
        let Some(txn) = inbox::begin(&self.db, crate::NAME, envelope).await? else {
            return Ok(());
        };
        let Some(notice) = notice else {
            txn.commit().await?;
            return Ok(());
        };
        notification::ActiveModel {
            notification_id: Set(doan_platform::convert::new_id()),
            member_id: Set(notice.member_id.clone()),
            kind: Set(notice.kind),
            title: Set(notice.title),
            body: Set(notice.body),
            created_at: Set(chrono::Utc::now()),
            read_at: Set(None),
            source_event_id: Set(envelope.event_id.clone()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        let _ = self.new_notices.send(notice.member_id);
        Ok(())
    }
}

/// The event types notifications consumes.
pub fn subscriptions() -> Vec<&'static str> {
    vec![MemberAdmitted::EVENT_TYPE, ParticipationRecorded::EVENT_TYPE, AwardGranted::EVENT_TYPE]
}

/// The notifications consumer; `new_notices` carries the member id of each committed notice.
pub fn consumer(ctx: &ServiceContext, new_notices: broadcast::Sender<String>) -> Consumer {
    ctx.consumer(subscriptions(), InboxWriter { db: ctx.db.clone(), new_notices })
}
