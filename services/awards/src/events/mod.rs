//! The events room: what awards publishes ([`publish`], always through the outbox) and
//! consumes (the directory, and check-ins into standings).

pub mod publish;

use doan_platform::bus::{Consumer, EventHandler, HandlerError, decode_payload};
use doan_platform::service::ServiceContext;
use doan_platform::{directory, inbox};
use doan_proto::events::{EventEnvelope, IntegrationEvent, ParticipationRecorded};
use sea_orm::DatabaseConnection;

use crate::domain::vietnam_year;
use crate::storage::standings;

struct AwardsHandler {
    db: DatabaseConnection,
}

#[async_trait::async_trait]
impl EventHandler for AwardsHandler {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let Some(txn) = inbox::begin(&self.db, crate::NAME, envelope).await? else {
            return Ok(());
        };
        if !directory::apply(&txn, envelope, crate::storage::PATH_COLUMNS).await?
            && envelope.event_type == ParticipationRecorded::EVENT_TYPE
        {
            let e: ParticipationRecorded = decode_payload(envelope)?;
            let at = doan_platform::convert::parse_timestamp("checked_in_at", e.checked_in_at)
                .map_err(|err| HandlerError::Poison(err.to_string()))?;
            standings::add_participation(&txn, &e.member_id, vietnam_year(at), i64::from(e.points)).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// The event types awards consumes.
pub fn subscriptions() -> Vec<&'static str> {
    let mut event_types = directory::EVENT_TYPES.to_vec();
    event_types.push(ParticipationRecorded::EVENT_TYPE);
    event_types
}

/// The awards consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), AwardsHandler { db: ctx.db.clone() })
}
