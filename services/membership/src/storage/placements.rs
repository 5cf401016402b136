//! Every query on members' placements: which unit a member belonged to, from when to when.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::member_placement;

/// Opens `member_id`'s first placement (on admission).
pub async fn open(
    txn: &impl ConnectionTrait,
    member_id: &str,
    unit_id: &str,
    from_on: NaiveDate,
    reason: &str,
) -> Result<(), DbErr> {
    member_placement::ActiveModel {
        member_id: Set(member_id.to_string()),
        unit_id: Set(unit_id.to_string()),
        from_on: Set(from_on),
        until_on: Set(None),
        reason: Set(reason.to_string()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Opens the first placements of many members (`member_id`, `unit_id`, from) for `reason`.
pub async fn open_many(
    txn: &impl ConnectionTrait,
    rows: &[(&str, &str, NaiveDate)],
    reason: &str,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(1_000) {
        let models = chunk.iter().map(|(member_id, unit_id, from_on)| member_placement::ActiveModel {
            member_id: Set(member_id.to_string()),
            unit_id: Set(unit_id.to_string()),
            from_on: Set(*from_on),
            until_on: Set(None),
            reason: Set(reason.to_string()),
            ..Default::default()
        });
        member_placement::Entity::insert_many(models).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Ends the current placements of `member_ids` on `on` and opens new ones in `unit_id` from
/// `on`. A placement that began after `on` (a member admitted after a back-dated change) ends
/// the day it began, and the new one begins that day: no period ends before it starts.
pub async fn change(
    txn: &impl ConnectionTrait,
    member_ids: &[String],
    unit_id: &str,
    on: NaiveDate,
    reason: &str,
) -> Result<(), DbErr> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let current = member_placement::Entity::find()
        .filter(member_placement::Column::MemberId.is_in(member_ids.iter().cloned()))
        .filter(member_placement::Column::UntilOn.is_null())
        .all(txn)
        .await?;
    let ids: Vec<i64> = current.iter().map(|p| p.id).collect();
    let later: Vec<i64> = current.iter().filter(|p| p.from_on > on).map(|p| p.id).collect();
    let ending = |ids: Vec<i64>, value: sea_orm::sea_query::Expr| {
        member_placement::Entity::update_many()
            .col_expr(member_placement::Column::UntilOn, value)
            .filter(member_placement::Column::Id.is_in(ids))
    };
    ending(later.clone(), sea_orm::sea_query::Expr::col(member_placement::Column::FromOn)).exec(txn).await?;
    let rest: Vec<i64> = ids.into_iter().filter(|id| !later.contains(id)).collect();
    ending(rest, sea_orm::sea_query::Expr::value(on)).exec(txn).await?;
    let rows = member_ids.iter().map(|m| {
        let began = current.iter().find(|p| &p.member_id == m).map_or(on, |p| p.from_on.max(on));
        member_placement::ActiveModel {
            member_id: Set(m.clone()),
            unit_id: Set(unit_id.to_string()),
            from_on: Set(began),
            until_on: Set(None),
            reason: Set(reason.to_string()),
            ..Default::default()
        }
    });
    member_placement::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// `member_id`'s placements, oldest first.
pub async fn of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<member_placement::Model>, DbErr> {
    member_placement::Entity::find()
        .filter(member_placement::Column::MemberId.eq(member_id))
        .order_by_asc(member_placement::Column::Id)
        .all(db)
        .await
}
