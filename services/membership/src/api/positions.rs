//! Officers' positions: assigned per unit and term, ended early; the access of an officer
//! derives from the positions in force (see `Login` and `MembershipApi::caller`).

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{format_date, parse_date, parse_id, required_text};
use doan_platform::error::AppResult;
use doan_platform::outbox::Outbox;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::MembershipApi;
use super::units::require_active;
use crate::domain::officer::{PositionKind, Term};
use crate::events::publish;
use crate::storage::entities::position;
use crate::storage::positions::{self, NewPosition};
use crate::storage::{accounts, members};

pub(super) fn position_to_pb(p: position::Model, today: chrono::NaiveDate) -> pb::Position {
    let in_force = positions::term(&p).in_force(today);
    pb::Position {
        position_id: p.position_id,
        unit_id: p.unit_id,
        account_id: p.account_id,
        member_id: p.member_id.unwrap_or_default(),
        kind: p.kind,
        term: p.term,
        starts_on: format_date(p.starts_on),
        ends_on: p.ends_on.map(format_date).unwrap_or_default(),
        ended_on: p.ended_on.map(format_date).unwrap_or_default(),
        end_reason: p.end_reason,
        in_force,
    }
}

/// Publishes `p`'s whole state, with its holder's display name, in `txn`: the transaction that
/// changed it, so the change and its `PositionChanged` commit together.
async fn publish_position(txn: &impl ConnectionTrait, outbox: &Outbox, p: &position::Model) -> AppResult<()> {
    let holder = accounts::find(txn, &p.account_id).await?.map(|a| a.full_name).unwrap_or_default();
    outbox.enqueue(txn, &publish::position_changed(p, &holder)).await?;
    Ok(())
}

/// Stores `new` and its `PositionChanged` in `txn` (AssignPosition, AppointOfficer).
pub(super) async fn assign_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    new: NewPosition,
) -> AppResult<position::Model> {
    let created = positions::insert(txn, new).await?;
    publish_position(txn, outbox, &created).await?;
    Ok(created)
}

/// Ends `p` on `ended_on` for `reason`, with its `PositionChanged`, in `txn` (EndPosition).
async fn end_and_publish(
    txn: &impl ConnectionTrait,
    outbox: &Outbox,
    p: position::Model,
    ended_on: chrono::NaiveDate,
    reason: String,
) -> AppResult<position::Model> {
    let ended = positions::end(txn, p, ended_on, reason).await?;
    publish_position(txn, outbox, &ended).await?;
    Ok(ended)
}

/// A position's request fields, as the RPCs carry them.
pub(super) struct PositionInput<'a> {
    pub kind: i32,
    pub term: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub member_id: &'a str,
}

/// A position's parsed request fields.
pub(super) struct PositionFields {
    pub kind: PositionKind,
    pub term: String,
    pub dates: Term,
    pub member_id: Option<String>,
}

impl MembershipApi {
    /// Parses the fields every position request shares; the member named must be in the
    /// caller's subtree.
    pub(super) async fn position_fields(
        &self,
        caller: &Caller,
        input: PositionInput<'_>,
        default_kind: Option<PositionKind>,
    ) -> AppResult<PositionFields> {
        let PositionInput { kind, term, starts_on, ends_on, member_id } = input;
        let kind = PositionKind::parse(kind, default_kind)?;
        let term = TextRule::optional_line(50).parse("term", term)?;
        let today = self.ctx.clock.today();
        let starts_on = if starts_on.trim().is_empty() { today } else { parse_date("starts_on", starts_on)? };
        let ends_on = if ends_on.trim().is_empty() { None } else { Some(parse_date("ends_on", ends_on)?) };
        let dates = Term::new(starts_on, ends_on, today)?;
        let member_id = if member_id.trim().is_empty() {
            None
        } else {
            let id = parse_id("member_id", member_id)?;
            let member = members::find(&self.ctx.db, &id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("member {id} (member_id) does not exist")))?;
            caller.require_manages(&member.unit_path, &format!("member {id}"))?;
            Some(id)
        };
        Ok(PositionFields { kind, term, dates, member_id })
    }

    pub(super) async fn assign_position(
        &self,
        caller: &Caller,
        r: pb::AssignPositionRequest,
    ) -> AppResult<pb::AssignPositionResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        require_active(&unit)?;
        let account_id = parse_id("account_id", &r.account_id)?;
        let account = accounts::find(&self.ctx.db, &account_id)
            .await?
            .filter(|a| a.role == "officer")
            .ok_or_else(|| AppError::NotFound(format!("officer account {account_id} (account_id) does not exist")))?;
        let input = PositionInput {
            kind: r.kind,
            term: &r.term,
            starts_on: &r.starts_on,
            ends_on: &r.ends_on,
            member_id: &r.member_id,
        };
        let fields = self.position_fields(caller, input, None).await?;
        let txn = self.ctx.db.begin().await?;
        let created = assign_and_publish(
            &txn,
            &self.ctx.outbox,
            NewPosition {
                unit_id: unit.unit_id.clone(),
                account_id: account.account_id,
                member_id: fields.member_id,
                kind: fields.kind,
                term: fields.term,
                dates: fields.dates,
                assigned_by: caller.account_id.clone(),
                created_at: self.ctx.clock.now(),
            },
        )
        .await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(position_id = %created.position_id, unit_id = %unit.unit_id, by = %caller.account_id, "position assigned");
        Ok(pb::AssignPositionResponse { position: Some(position_to_pb(created, self.ctx.clock.today())) })
    }

    pub(super) async fn end_position(
        &self,
        caller: &Caller,
        r: pb::EndPositionRequest,
    ) -> AppResult<pb::EndPositionResponse> {
        let id = parse_id("position_id", &r.position_id)?;
        let found = positions::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("position {id} does not exist")))?;
        self.managed_unit(caller, "position_id", &found.unit_id).await?;
        let today = self.ctx.clock.today();
        let ended_on = if r.ended_on.trim().is_empty() { today } else { parse_date("ended_on", &r.ended_on)? };
        let reason = required_text("reason", &r.reason, 500)?;
        positions::term(&found).end(ended_on, today)?;
        let txn = self.ctx.db.begin().await?;
        let ended = end_and_publish(&txn, &self.ctx.outbox, found, ended_on, reason).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(position_id = %ended.position_id, by = %caller.account_id, "position ended");
        Ok(pb::EndPositionResponse { position: Some(position_to_pb(ended, today)) })
    }

    pub(super) async fn list_positions(
        &self,
        caller: &Caller,
        r: pb::ListPositionsRequest,
    ) -> AppResult<pb::ListPositionsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let today = self.ctx.clock.today();
        let rows = positions::of_unit(&self.ctx.db, &unit.unit_id, today, r.include_ended).await?;
        Ok(pb::ListPositionsResponse { positions: rows.into_iter().map(|p| position_to_pb(p, today)).collect() })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use doan_proto::events::PositionChanged;
    use sea_orm::TransactionTrait;

    use super::*;
    use crate::events::testing::{database, outbox_rows, published};
    use crate::storage::accounts::NewAccount;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a day")
    }

    #[tokio::test]
    async fn a_position_assigned_or_ended_is_published_in_the_same_transaction() {
        let db = database().await;
        let outbox = Outbox::new(crate::NAME);
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();
        let officer = accounts::insert(
            &db,
            NewAccount {
                username: "bithu.phuong1".into(),
                password_hash: "-".into(),
                role: "officer",
                unit_id: Some("unit-1".into()),
                member_id: None,
                full_name: "Nguyễn Thị Hoa".into(),
                created_at: at,
            },
        )
        .await
        .unwrap();
        let new = |member_id: Option<&str>| NewPosition {
            unit_id: "unit-1".into(),
            account_id: officer.account_id.clone(),
            member_id: member_id.map(str::to_string),
            kind: PositionKind::DeputySecretary,
            term: "2022–2027".into(),
            dates: Term { starts_on: day(2025, 3, 1), ends_on: Some(day(2027, 12, 31)), ended_on: None },
            assigned_by: "admin".into(),
            created_at: at,
        };

        // Rolled back: neither the position nor its event stays.
        let txn = db.begin().await.unwrap();
        let dropped = assign_and_publish(&txn, &outbox, new(None)).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 1, "the event is written in the assignment's transaction");
        txn.rollback().await.unwrap();
        assert!(positions::find(&db, &dropped.position_id).await.unwrap().is_none());
        assert_eq!(outbox_rows(&db).await, 0, "the event went with the rolled-back assignment");

        // Committed: the assignment, then its end, each with its event.
        let txn = db.begin().await.unwrap();
        let assigned = assign_and_publish(&txn, &outbox, new(Some("member-7"))).await.unwrap();
        txn.commit().await.unwrap();
        let txn = db.begin().await.unwrap();
        let ended =
            end_and_publish(&txn, &outbox, assigned.clone(), day(2025, 6, 30), "moved away".into()).await.unwrap();
        assert_eq!(outbox_rows(&txn).await, 2, "the event is written in the end's transaction");
        txn.commit().await.unwrap();
        assert_eq!(ended.ended_on, Some(day(2025, 6, 30)));

        let state = |ended_on: &str| PositionChanged {
            position_id: assigned.position_id.clone(),
            unit_id: "unit-1".into(),
            account_id: officer.account_id.clone(),
            member_id: "member-7".into(),
            kind: PositionKind::DeputySecretary as i32,
            starts_on: "2025-03-01".into(),
            ends_on: "2027-12-31".into(),
            ended_on: ended_on.into(),
            holder_name: "Nguyễn Thị Hoa".into(),
        };
        assert_eq!(published::<PositionChanged>(&db, &outbox).await, vec![state(""), state("2025-06-30")]);
    }
}
