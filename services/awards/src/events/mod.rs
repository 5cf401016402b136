//! The events room: what awards publishes ([`publish`], always through the outbox) and
//! consumes (the directory, check-ins into standings, and
//! the yearly ratings membership confirms).

pub mod publish;

use doan_platform::bus::{Consumer, HandlerError, decode_payload};
use doan_platform::directory;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::outbox::Outbox;
use doan_platform::service::ServiceContext;
use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberRated, ParticipationRecorded, UnitRated};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::domain::vietnam_year;
use crate::storage::entities::rating;
use crate::storage::standings;

struct AwardsHandler {
    db: DatabaseConnection,
    outbox: Outbox,
}

#[async_trait::async_trait]
impl TransactionalHandler for AwardsHandler {
    type Committed = ();

    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn committed(&self, _: Vec<()>) {
        self.outbox.wake();
    }

    async fn apply(&self, txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let paths = crate::storage::PATH_COLUMNS;
        if !directory::apply_and_acknowledge(txn, envelope, paths, &self.outbox, crate::NAME).await? {
            match envelope.event_type.as_str() {
                ParticipationRecorded::EVENT_TYPE => {
                    let e: ParticipationRecorded = decode_payload(envelope)?;
                    let at = doan_platform::convert::parse_timestamp("checked_in_at", e.checked_in_at)
                        .map_err(|err| HandlerError::Poison(err.to_string()))?;
                    standings::add_participation(txn, &e.member_id, vietnam_year(at), i64::from(e.points)).await?;
                }
                MemberRated::EVENT_TYPE => {
                    let e: MemberRated = decode_payload(envelope)?;
                    let r = rating::Model {
                        subject_id: e.member_id,
                        period_id: e.period_id,
                        unit: false,
                        year: e.year,
                        rating: e.rating,
                    };
                    standings::add_rating(txn, r).await?;
                }
                UnitRated::EVENT_TYPE => {
                    let e: UnitRated = decode_payload(envelope)?;
                    let r = rating::Model {
                        subject_id: e.unit_id,
                        period_id: e.period_id,
                        unit: true,
                        year: e.year,
                        rating: e.rating,
                    };
                    standings::add_rating(txn, r).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The event types awards consumes.
pub fn subscriptions() -> Vec<&'static str> {
    let mut event_types = directory::EVENT_TYPES.to_vec();
    event_types.extend([ParticipationRecorded::EVENT_TYPE, MemberRated::EVENT_TYPE, UnitRated::EVENT_TYPE]);
    event_types
}

/// The awards consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(AwardsHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() }))
}
