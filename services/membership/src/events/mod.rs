//! The events room: what membership publishes ([`publish`], always through the outbox) and
//! consumes: the evidence of members' years reported by the other services — participations
//! (activities) and awards (awards) — into its read models; and the read-model services'
//! acknowledgements of imported member batches (`MemberImportBatchApplied`).

pub mod publish;
#[cfg(test)]
pub(crate) mod testing;

use chrono::NaiveDate;
use doan_platform::bus::{Consumer, HandlerError, decode_payload};
use doan_platform::clock::vietnam_date;
use doan_platform::convert::parse_timestamp;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::service::ServiceContext;
use doan_proto::events::{
    AwardGranted, EventEnvelope, HoursApproved, IntegrationEvent, MemberImportBatchApplied, ParticipationRecorded,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::storage::entities::{member_award, member_participation};
use crate::storage::evidence;

/// The longest volunteer time credited for one participation, minutes.
const MAX_MINUTES: i32 = 720;

struct EvidenceHandler {
    db: DatabaseConnection,
}

fn poison(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Poison(e.to_string())
}

#[async_trait::async_trait]
impl TransactionalHandler for EvidenceHandler {
    type Committed = ();

    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn apply(&self, txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        enum Fact {
            Participation(member_participation::Model),
            Award(member_award::Model),
            Applied(MemberImportBatchApplied),
            Hours(HoursApproved),
        }
        let fact = match envelope.event_type.as_str() {
            ParticipationRecorded::EVENT_TYPE => {
                let e: ParticipationRecorded = decode_payload(envelope)?;
                let at = parse_timestamp("checked_in_at", e.checked_in_at).map_err(poison)?;
                Fact::Participation(member_participation::Model {
                    participation_id: e.participation_id,
                    member_id: e.member_id,
                    activity_id: e.activity_id,
                    activity_title: e.activity_title,
                    checked_in_at: at,
                    on_day: vietnam_date(at),
                    minutes: e.minutes.clamp(0, MAX_MINUTES),
                })
            }
            AwardGranted::EVENT_TYPE => {
                let e: AwardGranted = decode_payload(envelope)?;
                if e.member_id.is_empty() {
                    // A collective award: the unit's, not a member's evidence.
                    return Ok(());
                }
                let on: NaiveDate = e.decision_date.parse().map_err(poison)?;
                Fact::Award(member_award::Model {
                    decision_id: e.decision_id,
                    member_id: e.member_id,
                    form: e.form,
                    decision_number: e.decision_number,
                    decision_date: on,
                    content: e.content,
                })
            }
            MemberImportBatchApplied::EVENT_TYPE => Fact::Applied(decode_payload(envelope)?),
            HoursApproved::EVENT_TYPE => Fact::Hours(decode_payload(envelope)?),
            _ => return Ok(()),
        };
        match fact {
            Fact::Participation(p) => evidence::add_participation(txn, p).await?,
            Fact::Award(a) => evidence::add_award(txn, a).await?,
            Fact::Applied(a) => {
                let batch = i32::try_from(a.batch).map_err(poison)?;
                crate::storage::imports::acknowledge(txn, &a.import_id, batch, &a.service).await?
            }
            // The approved minutes replace the scheduled length; if the participation has not
            // arrived yet (deliveries run side by side), retry until it has.
            Fact::Hours(h) => {
                if !evidence::approve_minutes(txn, &h.participation_id, h.minutes.clamp(0, MAX_MINUTES)).await? {
                    return Err(HandlerError::Failed(anyhow::anyhow!(
                        "participation {} is not known yet",
                        h.participation_id
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The event types membership consumes.
pub fn subscriptions() -> Vec<&'static str> {
    vec![
        ParticipationRecorded::EVENT_TYPE,
        HoursApproved::EVENT_TYPE,
        AwardGranted::EVENT_TYPE,
        MemberImportBatchApplied::EVENT_TYPE,
    ]
}

/// The membership consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(EvidenceHandler { db: ctx.db.clone() }))
}
