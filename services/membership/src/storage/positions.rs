//! Every query on officers' positions.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::position;
use crate::domain::officer::{PositionKind, Term};

/// A position to store.
pub struct NewPosition {
    /// Unit.
    pub unit_id: String,
    /// Officer account.
    pub account_id: String,
    /// The officer's member record.
    pub member_id: Option<String>,
    /// Kind.
    pub kind: PositionKind,
    /// Term label.
    pub term: String,
    /// Dates.
    pub dates: Term,
    /// Who assigned it.
    pub assigned_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Stores a position.
pub async fn insert(txn: &impl ConnectionTrait, new: NewPosition) -> Result<position::Model, DbErr> {
    position::ActiveModel {
        position_id: Set(doan_platform::convert::new_id()),
        unit_id: Set(new.unit_id),
        account_id: Set(new.account_id),
        member_id: Set(new.member_id),
        kind: Set(new.kind as i32),
        term: Set(new.term),
        starts_on: Set(new.dates.starts_on),
        ends_on: Set(new.dates.ends_on),
        ended_on: Set(None),
        end_reason: Set(String::new()),
        assigned_by: Set(new.assigned_by),
        created_at: Set(new.created_at),
    }
    .insert(txn)
    .await
}

/// The position `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<position::Model>, DbErr> {
    position::Entity::find_by_id(id.to_string()).one(db).await
}

/// A stored position's dates.
pub fn term(p: &position::Model) -> Term {
    Term { starts_on: p.starts_on, ends_on: p.ends_on, ended_on: p.ended_on }
}

/// Positions in force on `day`: started, and neither past the term nor ended.
fn in_force_on(day: NaiveDate) -> Condition {
    Condition::all()
        .add(position::Column::StartsOn.lte(day))
        .add(Condition::any().add(position::Column::EndsOn.is_null()).add(position::Column::EndsOn.gte(day)))
        .add(Condition::any().add(position::Column::EndedOn.is_null()).add(position::Column::EndedOn.gte(day)))
}

/// The positions `account_id` holds on `day`.
pub async fn in_force_for(
    db: &impl ConnectionTrait,
    account_id: &str,
    day: NaiveDate,
) -> Result<Vec<position::Model>, DbErr> {
    position::Entity::find()
        .filter(position::Column::AccountId.eq(account_id))
        .filter(in_force_on(day))
        .order_by_asc(position::Column::Kind)
        .all(db)
        .await
}

/// A position `account_id` holds in `unit_id` on `day`, if any.
pub async fn in_force_at(
    db: &impl ConnectionTrait,
    account_id: &str,
    unit_id: &str,
    day: NaiveDate,
) -> Result<Option<position::Model>, DbErr> {
    position::Entity::find()
        .filter(position::Column::AccountId.eq(account_id))
        .filter(position::Column::UnitId.eq(unit_id))
        .filter(in_force_on(day))
        .one(db)
        .await
}

/// The positions of `unit_id`, those in force on `day` first; ended ones only with `all`.
pub async fn of_unit(
    db: &impl ConnectionTrait,
    unit_id: &str,
    day: NaiveDate,
    all: bool,
) -> Result<Vec<position::Model>, DbErr> {
    let mut query = position::Entity::find().filter(position::Column::UnitId.eq(unit_id));
    if !all {
        query = query.filter(in_force_on(day));
    }
    let mut rows = query.order_by_asc(position::Column::Kind).order_by_asc(position::Column::StartsOn).all(db).await?;
    rows.sort_by_key(|p| !term(p).in_force(day));
    Ok(rows)
}

/// Ends `p` after `ended_on`, for `reason`.
pub async fn end(
    txn: &impl ConnectionTrait,
    p: position::Model,
    ended_on: NaiveDate,
    reason: String,
) -> Result<position::Model, DbErr> {
    let mut active: position::ActiveModel = p.into();
    active.ended_on = Set(Some(ended_on));
    active.end_reason = Set(reason);
    active.update(txn).await
}

/// Of `member_ids`, those holding a position in force on `day`.
pub async fn members_in_post(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    day: NaiveDate,
) -> Result<BTreeSet<String>, DbErr> {
    Ok(position::Entity::find()
        .filter(position::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(in_force_on(day))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.member_id)
        .collect())
}

/// The positions member `member_id` holds or held, newest first.
pub async fn of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<position::Model>, DbErr> {
    position::Entity::find()
        .filter(position::Column::MemberId.eq(member_id))
        .order_by_desc(position::Column::StartsOn)
        .all(db)
        .await
}
