//! The events room: what awards publishes ([`publish`], always through the outbox) and
//! consumes (the directory, check-ins into standings, and
//! the yearly ratings membership confirms).

pub mod publish;

use doan_platform::bus::{Consumer, HandlerError, decode_payload};
use doan_platform::directory;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::outbox::Outbox;
use doan_platform::service::ServiceContext;
use doan_proto::events::{
    ClusterChanged, EventEnvelope, IdeaAdopted, IntegrationEvent, MemberRated, ParticipationRecorded,
    ProjectInaugurated, TargetMet, UnitRated,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::domain::vietnam_year;
use crate::storage::entities::{achievement, cluster, rating};
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
                ProjectInaugurated::EVENT_TYPE => {
                    let e: ProjectInaugurated = decode_payload(envelope)?;
                    let year = year_of(&e.inaugurated_on)?;
                    let a = achievement::Model {
                        achievement_id: format!("project_inaugurated:{}", e.project_id),
                        kind: "project_inaugurated".into(),
                        subject_id: e.unit_id,
                        unit: true,
                        year,
                        title: e.name,
                        value: e.value_vnd,
                    };
                    standings::add_achievement(txn, a).await?;
                }
                TargetMet::EVENT_TYPE => {
                    let e: TargetMet = decode_payload(envelope)?;
                    let a = achievement::Model {
                        achievement_id: format!("target_met:{}", e.target_id),
                        kind: "target_met".into(),
                        subject_id: e.unit_id,
                        unit: true,
                        year: e.year,
                        title: e.label,
                        value: e.actual,
                    };
                    standings::add_achievement(txn, a).await?;
                }
                IdeaAdopted::EVENT_TYPE => {
                    let e: IdeaAdopted = decode_payload(envelope)?;
                    let year = year_of(&e.adopted_on)?;
                    let a = achievement::Model {
                        achievement_id: format!("idea_adopted:{}", e.idea_id),
                        kind: "idea_adopted".into(),
                        subject_id: e.member_id,
                        unit: false,
                        year,
                        title: e.title,
                        value: 0,
                    };
                    standings::add_achievement(txn, a).await?;
                }
                ClusterChanged::EVENT_TYPE => {
                    let e: ClusterChanged = decode_payload(envelope)?;
                    let at = envelope
                        .occurred_at
                        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
                        .unwrap_or_default();
                    let row = cluster::Model {
                        cluster_id: e.cluster_id,
                        owner_unit_id: e.owner_unit_id,
                        name: e.name,
                        changed_at: at,
                    };
                    crate::storage::decisions::apply_cluster(txn, row).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The year of an event's `YYYY-MM-DD` date; a malformed one can never succeed.
fn year_of(date: &str) -> Result<i32, HandlerError> {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.year())
        .map_err(|_| HandlerError::Poison(format!("not a date: {}", doan_platform::text::quote(date))))
}

/// The event types awards consumes.
pub fn subscriptions() -> Vec<&'static str> {
    let mut event_types = directory::EVENT_TYPES.to_vec();
    event_types.extend([
        ParticipationRecorded::EVENT_TYPE,
        MemberRated::EVENT_TYPE,
        UnitRated::EVENT_TYPE,
        ProjectInaugurated::EVENT_TYPE,
        TargetMet::EVENT_TYPE,
        IdeaAdopted::EVENT_TYPE,
        ClusterChanged::EVENT_TYPE,
    ]);
    event_types
}

/// The awards consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(AwardsHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() }))
}
