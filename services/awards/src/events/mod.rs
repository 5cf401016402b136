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
    ClusterChanged, DuesPaid, EventEnvelope, HoursApproved, IdeaAdopted, IntegrationEvent, MemberRated,
    ParticipationRecorded, ProjectInaugurated, TargetMet, UnitRated,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::domain::vietnam_year;
use chrono::Datelike;

use crate::domain::scoring::{self, ScoreKind};
use crate::storage::entities::{achievement, cluster, rating, score_fact};
use crate::storage::scores;
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
                    let day = doan_platform::clock::vietnam_date(at);
                    let fact = |id: String, kind: ScoreKind, quantity: i64| score_fact::Model {
                        fact_id: id,
                        subject_id: e.member_id.clone(),
                        unit: false,
                        year: day.year(),
                        month: day.month() as i32,
                        kind: kind as i32,
                        quantity,
                        approved: false,
                        title: e.activity_title.clone(),
                        occurred_on: day.to_string(),
                    };
                    scores::record(
                        txn,
                        fact(format!("participation:{}", e.participation_id), ScoreKind::Participation, 1),
                    )
                    .await?;
                    scores::record(
                        txn,
                        fact(format!("hours:{}", e.participation_id), ScoreKind::VolunteerHours, i64::from(e.minutes)),
                    )
                    .await?;
                }
                HoursApproved::EVENT_TYPE => {
                    // Counted in the participation's month when that is known; otherwise in the
                    // month approved, until the participation arrives.
                    let e: HoursApproved = decode_payload(envelope)?;
                    let at = doan_platform::convert::parse_timestamp("approved_at", e.approved_at)
                        .map_err(|err| HandlerError::Poison(err.to_string()))?;
                    let id = format!("hours:{}", e.participation_id);
                    let (year, month, on) = match scores::find(txn, &id).await? {
                        Some(kept) => (kept.year, kept.month, kept.occurred_on),
                        None => {
                            let day = doan_platform::clock::vietnam_date(at);
                            (day.year(), day.month() as i32, day.to_string())
                        }
                    };
                    let fact = score_fact::Model {
                        fact_id: id,
                        subject_id: e.member_id,
                        unit: false,
                        year,
                        month,
                        kind: ScoreKind::VolunteerHours as i32,
                        quantity: i64::from(e.minutes),
                        approved: true,
                        title: e.activity_title,
                        occurred_on: on,
                    };
                    scores::record(txn, fact).await?;
                }
                MemberRated::EVENT_TYPE => {
                    let e: MemberRated = decode_payload(envelope)?;
                    let fact = year_end_fact(
                        format!("rating:{}:{}", e.period_id, e.member_id),
                        &e.member_id,
                        false,
                        e.year,
                        ScoreKind::MemberRating,
                        e.rating,
                    );
                    scores::record(txn, fact).await?;
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
                    let fact = year_end_fact(
                        format!("unit_rating:{}:{}", e.period_id, e.unit_id),
                        &e.unit_id,
                        true,
                        e.year,
                        ScoreKind::UnitRating,
                        e.rating,
                    );
                    scores::record(txn, fact).await?;
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
                    scores::record(txn, dated_fact(&a, ScoreKind::Project, &e.inaugurated_on)?).await?;
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
                    scores::record(
                        txn,
                        year_end_fact(a.achievement_id.clone(), &a.subject_id, true, a.year, ScoreKind::TargetMet, 1),
                    )
                    .await?;
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
                    scores::record(txn, dated_fact(&a, ScoreKind::IdeaAdopted, &e.adopted_on)?).await?;
                    standings::add_achievement(txn, a).await?;
                }
                DuesPaid::EVENT_TYPE => {
                    let e: DuesPaid = decode_payload(envelope)?;
                    let paid_on = chrono::NaiveDate::parse_from_str(&e.paid_on, "%Y-%m-%d").map_err(|_| {
                        HandlerError::Poison(format!(
                            "paid_on is not a date: {}",
                            doan_platform::text::quote(&e.paid_on)
                        ))
                    })?;
                    let first = chrono::NaiveDate::parse_from_str(&format!("{}-01", e.first_month), "%Y-%m-%d")
                        .map_err(|_| {
                            HandlerError::Poison(format!(
                                "first_month is not a month: {}",
                                doan_platform::text::quote(&e.first_month)
                            ))
                        })?;
                    for i in 0..e.months.clamp(0, 120) as u32 {
                        let Some(month) = first.checked_add_months(chrono::Months::new(i)) else { break };
                        if !scoring::on_time(month.year(), month.month(), paid_on) {
                            continue;
                        }
                        let label = month.format("%Y-%m").to_string();
                        let fact = score_fact::Model {
                            fact_id: format!("dues:{}:{label}", e.member_id),
                            subject_id: e.member_id.clone(),
                            unit: false,
                            year: month.year(),
                            month: month.month() as i32,
                            kind: ScoreKind::DuesOnTime as i32,
                            quantity: 1,
                            approved: true,
                            title: format!("Đoàn phí tháng {}", month.format("%m/%Y")),
                            occurred_on: e.paid_on.clone(),
                        };
                        scores::record(txn, fact).await?;
                    }
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
                    let kept = crate::storage::decisions::cluster(txn, &row.cluster_id).await?;
                    if kept.is_none_or(|k| k.changed_at <= row.changed_at) {
                        scores::set_cluster_units(txn, &row.cluster_id, &e.unit_ids).await?;
                    }
                    crate::storage::decisions::apply_cluster(txn, row).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A fact of a year's end (ratings, targets): counted in December.
fn year_end_fact(
    id: String,
    subject: &str,
    unit: bool,
    year: i32,
    kind: ScoreKind,
    quantity: i32,
) -> score_fact::Model {
    score_fact::Model {
        fact_id: id,
        subject_id: subject.to_string(),
        unit,
        year,
        month: 12,
        kind: kind as i32,
        quantity: i64::from(quantity),
        approved: true,
        title: String::new(),
        occurred_on: format!("{year:04}-12-31"),
    }
}

/// The fact of an achievement dated `on` (`YYYY-MM-DD`).
fn dated_fact(a: &achievement::Model, kind: ScoreKind, on: &str) -> Result<score_fact::Model, HandlerError> {
    let day = chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d")
        .map_err(|_| HandlerError::Poison(format!("not a date: {}", doan_platform::text::quote(on))))?;
    Ok(score_fact::Model {
        fact_id: a.achievement_id.clone(),
        subject_id: a.subject_id.clone(),
        unit: a.unit,
        year: day.year(),
        month: day.month() as i32,
        kind: kind as i32,
        quantity: 1,
        approved: true,
        title: a.title.clone(),
        occurred_on: day.to_string(),
    })
}

/// The year of an event's `YYYY-MM-DD` date; a malformed one can never succeed.
fn year_of(date: &str) -> Result<i32, HandlerError> {
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
        HoursApproved::EVENT_TYPE,
        DuesPaid::EVENT_TYPE,
    ]);
    event_types
}

/// The awards consumer.
pub fn consumer(ctx: &ServiceContext) -> Consumer {
    ctx.consumer(subscriptions(), Transactional(AwardsHandler { db: ctx.db.clone(), outbox: ctx.outbox.clone() }))
}
