//! Consumed events: the directory, and check-ins into standings.

use doan_platform::bus::{Consumer, EventHandler, HandlerError, decode_payload};
use doan_platform::service::ServiceContext;
use doan_platform::{directory, inbox};
use doan_proto::events::{EventEnvelope, IntegrationEvent, ParticipationRecorded};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{DatabaseConnection, EntityTrait, Set};

use crate::domain::vietnam_year;
use crate::storage::entities::standing;

struct AwardsHandler {
    db: DatabaseConnection,
}

#[async_trait::async_trait]
impl EventHandler for AwardsHandler {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let Some(txn) = inbox::begin(&self.db, crate::NAME, envelope).await? else {
            return Ok(());
        };
        if !directory::apply(&txn, envelope).await? && envelope.event_type == ParticipationRecorded::EVENT_TYPE {
            let e: ParticipationRecorded = decode_payload(envelope)?;
            let at = doan_platform::convert::parse_timestamp("checked_in_at", e.checked_in_at)
                .map_err(|err| HandlerError::Poison(err.to_string()))?;
            let row = standing::ActiveModel {
                member_id: Set(e.member_id),
                year: Set(vietnam_year(at)),
                points: Set(i64::from(e.points)),
                participations: Set(1),
            };
            // Add to the year's totals; the inbox guarantees each check-in is added once.
            standing::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([standing::Column::MemberId, standing::Column::Year])
                        .value(
                            standing::Column::Points,
                            Expr::col((standing::Entity, standing::Column::Points)).add(i64::from(e.points)),
                        )
                        .value(
                            standing::Column::Participations,
                            Expr::col((standing::Entity, standing::Column::Participations)).add(1),
                        )
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
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
