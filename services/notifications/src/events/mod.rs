//! The events room: consumed integration events keep the directory of units and members and
//! become notices (decoded here, worded by the domain, stored by the storage room); committed notices are handed to this replica's live
//! watchers. Notifications publishes only its acknowledgements of imported member batches.

use std::sync::Arc;

pub mod broadcasts;
pub mod deliver;
pub mod live;

use doan_platform::bus::{Consumer, HandlerError, decode_payload};
use doan_platform::clock::Clock;
use doan_platform::directory;
use doan_platform::inbox::{Transactional, TransactionalHandler};
use doan_platform::service::ServiceContext;
use doan_proto::events::{
    AwardGranted, ClusterChanged, EventEnvelope, HoursApproved, IdeaAdopted, IntegrationEvent, MemberAdmitted,
    MemberRated, MembersAdmitted, ParticipationRecorded, PositionChanged, RegistrationPromoted, ReminderDue,
    TeamChanged,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::domain::{self, Notice};
use crate::storage::entities::position;
use crate::storage::{audiences, notices, notification};

struct InboxWriter {
    db: DatabaseConnection,
    outbox: doan_platform::outbox::Outbox,
    clock: Clock,
    new_notices: Arc<live::Live>,
    lanes: deliver::Lanes,
    wake: Arc<tokio::sync::Notify>,
}

/// When the event happened (the read models keep the latest state by it).
fn occurred(envelope: &EventEnvelope) -> chrono::DateTime<chrono::Utc> {
    envelope
        .occurred_at
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .unwrap_or_default()
}

/// Applies the audiences' read models (positions, clusters, teams).
async fn apply_audiences(txn: &DatabaseTransaction, envelope: &EventEnvelope) -> Result<(), HandlerError> {
    let at = occurred(envelope);
    let event_id = envelope.event_id.clone();
    match envelope.event_type.as_str() {
        PositionChanged::EVENT_TYPE => {
            let e: PositionChanged = decode_payload(envelope)?;
            audiences::apply_position(
                txn,
                position::Model {
                    position_id: e.position_id,
                    unit_id: e.unit_id,
                    account_id: e.account_id,
                    member_id: e.member_id,
                    kind: e.kind,
                    starts_on: e.starts_on,
                    ends_on: e.ends_on,
                    ended_on: e.ended_on,
                    holder_name: e.holder_name,
                    changed_at: at,
                    changed_by_event: event_id,
                },
            )
            .await?;
        }
        ClusterChanged::EVENT_TYPE => {
            let e: ClusterChanged = decode_payload(envelope)?;
            let group = audiences::Group {
                id: e.cluster_id,
                unit_id: e.owner_unit_id,
                name: e.name,
                members: e.unit_ids,
                changed_at: at,
                event_id,
            };
            audiences::apply_group(txn, &audiences::CLUSTERS, group).await?;
        }
        TeamChanged::EVENT_TYPE => {
            let e: TeamChanged = decode_payload(envelope)?;
            let group = audiences::Group {
                id: e.team_id,
                unit_id: e.unit_id,
                name: e.name,
                members: e.member_ids,
                changed_at: at,
                event_id,
            };
            audiences::apply_group(txn, &audiences::TEAMS, group).await?;
        }
        _ => {}
    }
    Ok(())
}

#[async_trait::async_trait]
impl TransactionalHandler for InboxWriter {
    type Committed = Vec<notification::Model>;

    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    fn committed(&self, done: Vec<Vec<notification::Model>>) {
        self.outbox.wake();
        self.wake.notify_one();
        // Watchers on this replica get the notices themselves, without a query.
        for notice in done.into_iter().flatten() {
            self.new_notices.send(Arc::new(notice));
        }
    }

    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        envelope: &EventEnvelope,
    ) -> Result<Vec<notification::Model>, HandlerError> {
        let notices: Vec<Notice> = match envelope.event_type.as_str() {
            MemberAdmitted::EVENT_TYPE => {
                let e: MemberAdmitted = decode_payload(envelope)?;
                vec![domain::welcome(&e.member_id, &e.full_name, &e.admitted_on, &e.member_number)]
            }
            MembersAdmitted::EVENT_TYPE => {
                let e: MembersAdmitted = decode_payload(envelope)?;
                e.members
                    .iter()
                    .map(|m| domain::welcome(&m.member_id, &m.full_name, &m.admitted_on, &m.member_number))
                    .collect()
            }
            ParticipationRecorded::EVENT_TYPE => {
                let e: ParticipationRecorded = decode_payload(envelope)?;
                vec![domain::check_in_confirmed(&e.member_id, &e.activity_title, e.points)]
            }
            RegistrationPromoted::EVENT_TYPE => {
                let e: RegistrationPromoted = decode_payload(envelope)?;
                let opens = e
                    .starts_at
                    .and_then(|t| doan_platform::convert::parse_timestamp("starts_at", Some(t)).ok())
                    .map(doan_platform::clock::vietnam_time)
                    .unwrap_or_default();
                vec![domain::place_offered(&e.member_id, &e.activity_title, &opens)]
            }
            IdeaAdopted::EVENT_TYPE => {
                let e: IdeaAdopted = decode_payload(envelope)?;
                vec![domain::idea_adopted(&e.member_id, &e.title)]
            }
            HoursApproved::EVENT_TYPE => {
                let e: HoursApproved = decode_payload(envelope)?;
                vec![domain::hours_approved(&e.member_id, &e.activity_title, e.minutes)]
            }
            AwardGranted::EVENT_TYPE => {
                let e: AwardGranted = decode_payload(envelope)?;
                domain::award_granted(&domain::AwardNotice {
                    member_id: e.member_id,
                    form: e.form,
                    decision_number: e.decision_number,
                    decision_date: e.decision_date,
                    content: e.content,
                })
                .into_iter()
                .collect()
            }
            MemberRated::EVENT_TYPE => {
                let e: MemberRated = decode_payload(envelope)?;
                vec![domain::rating_confirmed(&e.member_id, e.year, e.rating)]
            }
            ReminderDue::EVENT_TYPE => {
                let e: ReminderDue = decode_payload(envelope)?;
                domain::reminders(&e.kind, &e.member_ids, &e.due_on, &e.detail)
            }
            _ => Vec::new(),
        };
        // Audiences are resolved from the directory of units and members.
        directory::apply_and_acknowledge(txn, envelope, &[], &self.outbox, crate::NAME).await?;
        apply_audiences(txn, envelope).await?;
        let now = self.clock.now();
        let written = notices::insert_all(txn, &notices, &envelope.event_id, &notices::Meta::default(), now).await?;
        // Personal notices are worth pushing for a week.
        deliver::plan(txn, &written, self.lanes, Some(now + chrono::Duration::days(7)), now, None, None).await?;
        Ok(written)
    }
}

/// The event types notifications consumes.
pub fn subscriptions() -> Vec<&'static str> {
    let mut event_types = directory::EVENT_TYPES.to_vec();
    event_types.extend([
        ParticipationRecorded::EVENT_TYPE,
        RegistrationPromoted::EVENT_TYPE,
        HoursApproved::EVENT_TYPE,
        IdeaAdopted::EVENT_TYPE,
        AwardGranted::EVENT_TYPE,
        MemberRated::EVENT_TYPE,
        ReminderDue::EVENT_TYPE,
        PositionChanged::EVENT_TYPE,
        ClusterChanged::EVENT_TYPE,
        TeamChanged::EVENT_TYPE,
    ]);
    event_types
}

/// The notifications consumer; `new_notices` carries each notice once it committed, `wake`
/// starts the dispatcher on the deliveries written with them.
pub fn consumer(
    ctx: &ServiceContext,
    new_notices: Arc<live::Live>,
    lanes: deliver::Lanes,
    wake: Arc<tokio::sync::Notify>,
) -> Consumer {
    ctx.consumer(
        subscriptions(),
        Transactional(InboxWriter {
            db: ctx.db.clone(),
            outbox: ctx.outbox.clone(),
            clock: ctx.clock.clone(),
            new_notices,
            lanes,
            wake,
        }),
    )
}
