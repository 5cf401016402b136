//! Consumed events become notices; committed notices wake live watchers on this replica
//! (watchers on other replicas find them by polling).

use std::sync::Arc;

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
    new_notices: broadcast::Sender<Arc<notification::Model>>,
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
        let seq = crate::storage::next_inbox_seq(&txn, &notice.member_id).await?;
        let created = notification::ActiveModel {
            notification_id: Set(doan_platform::convert::new_id()),
            member_id: Set(notice.member_id.clone()),
            kind: Set(notice.kind),
            title: Set(notice.title),
            body: Set(notice.body),
            created_at: Set(chrono::Utc::now()),
            read_at: Set(None),
            source_event_id: Set(envelope.event_id.clone()),
            seq: Set(seq),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        // Watchers on this replica get the notice itself, without a query.
        let _ = self.new_notices.send(Arc::new(created));
        Ok(())
    }
}

/// The event types notifications consumes.
pub fn subscriptions() -> Vec<&'static str> {
    vec![MemberAdmitted::EVENT_TYPE, ParticipationRecorded::EVENT_TYPE, AwardGranted::EVENT_TYPE]
}

/// The notifications consumer; `new_notices` carries each notice once it committed.
pub fn consumer(ctx: &ServiceContext, new_notices: broadcast::Sender<Arc<notification::Model>>) -> Consumer {
    ctx.consumer(subscriptions(), InboxWriter { db: ctx.db.clone(), new_notices })
}
