//! The events room: what activities publishes ([`publish`], always through the outbox) and
//! consumes (the directory of units and members; imported batches are acknowledged).

pub mod publish;
#[cfg(test)]
pub(crate) mod testing;

use doan_platform::bus::{Consumer, HandlerError, decode_payload};
use doan_platform::directory;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::outbox::Outbox;
use doan_platform::service::ServiceContext;
use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted, MembersAdmitted};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::storage::entities::admission;
use crate::storage::targets;

struct DirectoryHandler {
    db: DatabaseConnection,
    outbox: Outbox,
}

#[async_trait::async_trait]
impl TransactionalHandler for DirectoryHandler {
    type Committed = ();

    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn apply(&self, txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        directory::apply_and_acknowledge(txn, envelope, crate::storage::PATH_COLUMNS, &self.outbox, crate::NAME)
            .await?;
        // Admissions count toward the admitting unit's targets.
        let admitted = match envelope.event_type.as_str() {
            MemberAdmitted::EVENT_TYPE => vec![decode_payload::<MemberAdmitted>(envelope)?],
            MembersAdmitted::EVENT_TYPE => decode_payload::<MembersAdmitted>(envelope)?.members,
            _ => return Ok(()),
        };
        let rows = admitted
            .into_iter()
            .filter_map(|m| {
                let admitted_on = chrono::NaiveDate::parse_from_str(&m.admitted_on, "%Y-%m-%d").ok()?;
                Some(admission::Model {
                    member_id: m.member_id,
                    unit_id: m.unit_id,
                    unit_path: m.unit_path,
                    admitted_on,
                })
            })
            .collect();
        targets::record_admissions(txn, rows).await?;
        Ok(())
    }

    fn committed(&self, _: Vec<()>) {
        self.outbox.wake();
    }
}

/// The event types activities consumes.
pub fn subscriptions() -> Vec<&'static str> {
    directory::EVENT_TYPES.to_vec()
}

/// The activities consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(DirectoryHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() }))
}
