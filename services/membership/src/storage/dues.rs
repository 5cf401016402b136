//! Every query and transaction on dues: categories, payments and the months they cover,
//! exemptions, remittances and what a unit has at hand.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{dues_exemption, dues_month, dues_payment, member, remittance};
use super::units::subtree_select;
use crate::domain::dues::{Cover, Month, MonthState};

/// Sets the dues category of `member_id`.
pub async fn set_category(txn: &impl ConnectionTrait, member_id: &str, category: i32) -> Result<(), DbErr> {
    member::Entity::update_many()
        .col_expr(member::Column::DuesCategory, Expr::value(category))
        .filter(member::Column::MemberId.eq(member_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The months of `member_id` from `from` to `to` that are covered (paid, pending, exempt).
pub async fn covers(
    db: &impl ConnectionTrait,
    member_id: &str,
    from: Month,
    to: Month,
) -> Result<std::collections::BTreeMap<Month, Cover>, DbErr> {
    let rows = dues_month::Entity::find()
        .filter(dues_month::Column::MemberId.eq(member_id))
        .filter(dues_month::Column::Month.between(from.to_string(), to.to_string()))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((Month::parse("month", &r.month).ok()?, cover_of(&r)))).collect())
}

/// Covered months of the members of the units in the subtree at `path`, from `from` to `to`.
pub async fn covers_in_subtree(
    db: &impl ConnectionTrait,
    path: &str,
    from: Month,
    to: Month,
) -> Result<Vec<dues_month::Model>, DbErr> {
    use sea_orm::sea_query::Query;
    dues_month::Entity::find()
        .filter(
            Expr::col(dues_month::Column::MemberId).in_subquery(
                Query::select()
                    .column(member::Column::MemberId)
                    .from(member::Entity)
                    .and_where(Expr::col(member::Column::UnitPath).like(format!("{path}%")))
                    .to_owned(),
            ),
        )
        .filter(dues_month::Column::Month.between(from.to_string(), to.to_string()))
        .all(db)
        .await
}

/// Covered months of `member_ids` from `from` to `to`, by member.
pub async fn covers_of_members(
    db: &impl ConnectionTrait,
    member_ids: &[String],
    from: Month,
    to: Month,
) -> Result<std::collections::BTreeMap<String, std::collections::BTreeMap<Month, Cover>>, DbErr> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<Month, Cover>> = Default::default();
    for chunk in member_ids.chunks(1000) {
        let rows = dues_month::Entity::find()
            .filter(dues_month::Column::MemberId.is_in(chunk.iter().cloned()))
            .filter(dues_month::Column::Month.between(from.to_string(), to.to_string()))
            .all(db)
            .await?;
        for r in rows {
            if let Ok(month) = Month::parse("month", &r.month) {
                out.entry(r.member_id.clone()).or_default().insert(month, cover_of(&r));
            }
        }
    }
    Ok(out)
}

/// Months from `from` to `to` covered at units of the subtree at `path` (where the money
/// was collected, or the member was when exempted).
pub async fn months_at_units_of(
    db: &impl ConnectionTrait,
    path: &str,
    from: Month,
    to: Month,
) -> Result<Vec<dues_month::Model>, DbErr> {
    dues_month::Entity::find()
        .filter(Expr::col(dues_month::Column::UnitId).in_subquery(subtree_select(path)))
        .filter(dues_month::Column::Month.between(from.to_string(), to.to_string()))
        .all(db)
        .await
}

/// What a stored month's row says.
pub fn cover_of(r: &dues_month::Model) -> Cover {
    match r.state {
        s if s == MonthState::Paid as i32 => Cover::Paid(r.payment_id.clone(), r.amount_vnd),
        s if s == MonthState::Pending as i32 => Cover::Pending(r.payment_id.clone()),
        _ => Cover::Exempt,
    }
}

/// A payment to store, with the price of each month.
pub struct NewPayment {
    /// The row.
    pub payment: dues_payment::Model,
    /// Each month and its price.
    pub months: Vec<(Month, i64)>,
}

/// Stores a payment and the months it covers. A month already covered is a unique violation
/// (the caller checked first; this is the guard against a concurrent payment).
pub async fn record_payment(txn: &impl ConnectionTrait, new: NewPayment) -> Result<dues_payment::Model, DbErr> {
    let p = new.payment;
    let state = if p.state == 2 { MonthState::Paid } else { MonthState::Pending } as i32;
    let rows = new.months.iter().map(|(m, amount)| dues_month::ActiveModel {
        member_id: Set(p.member_id.clone()),
        month: Set(m.to_string()),
        state: Set(state),
        amount_vnd: Set(*amount),
        unit_id: Set(p.unit_id.clone()),
        payment_id: Set(p.payment_id.clone()),
        exemption_id: Set(String::new()),
    });
    dues_month::Entity::insert_many(rows).exec_without_returning(txn).await?;
    let active: dues_payment::ActiveModel = p.into();
    active.reset_all().insert(txn).await
}

/// The payment `payment_id`.
pub async fn find_payment(db: &impl ConnectionTrait, payment_id: &str) -> Result<Option<dues_payment::Model>, DbErr> {
    dues_payment::Entity::find_by_id(payment_id.to_string()).one(db).await
}

/// Decides a pending payment: confirmed (its months paid) or rejected (its months free
/// again). `false` when it was no longer pending.
pub async fn decide_payment(
    txn: &impl ConnectionTrait,
    payment_id: &str,
    confirm: bool,
    by: &str,
    reason: &str,
) -> Result<bool, DbErr> {
    let state = if confirm { 2 } else { 3 };
    let updated = dues_payment::Entity::update_many()
        .col_expr(dues_payment::Column::State, Expr::value(state))
        .col_expr(dues_payment::Column::DecidedBy, Expr::value(by))
        .col_expr(dues_payment::Column::RejectReason, Expr::value(reason))
        .filter(dues_payment::Column::PaymentId.eq(payment_id))
        .filter(dues_payment::Column::State.eq(1))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    if confirm {
        dues_month::Entity::update_many()
            .col_expr(dues_month::Column::State, Expr::value(MonthState::Paid as i32))
            .filter(dues_month::Column::PaymentId.eq(payment_id))
            .exec(txn)
            .await?;
    } else {
        dues_month::Entity::delete_many().filter(dues_month::Column::PaymentId.eq(payment_id)).exec(txn).await?;
    }
    Ok(true)
}

/// Payments of `member_id`, oldest first.
pub async fn payments_of(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<dues_payment::Model>, DbErr> {
    dues_payment::Entity::find()
        .filter(dues_payment::Column::MemberId.eq(member_id))
        .order_by_asc(dues_payment::Column::FirstMonth)
        .order_by_asc(dues_payment::Column::RecordedAt)
        .all(db)
        .await
}

/// Stores an exemption and the months it covers (unique violation on a covered month).
pub async fn grant_exemption(
    txn: &impl ConnectionTrait,
    e: dues_exemption::Model,
    unit_id: &str,
    months: &[Month],
) -> Result<dues_exemption::Model, DbErr> {
    let rows = months.iter().map(|m| dues_month::ActiveModel {
        member_id: Set(e.member_id.clone()),
        month: Set(m.to_string()),
        state: Set(MonthState::Exempt as i32),
        amount_vnd: Set(0),
        unit_id: Set(unit_id.to_string()),
        payment_id: Set(String::new()),
        exemption_id: Set(e.exemption_id.clone()),
    });
    dues_month::Entity::insert_many(rows).exec_without_returning(txn).await?;
    let active: dues_exemption::ActiveModel = e.into();
    active.reset_all().insert(txn).await
}

/// Exemptions of `member_id`, oldest first.
pub async fn exemptions_of(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<dues_exemption::Model>, DbErr> {
    dues_exemption::Entity::find()
        .filter(dues_exemption::Column::MemberId.eq(member_id))
        .order_by_asc(dues_exemption::Column::FirstMonth)
        .all(db)
        .await
}

#[derive(Debug, FromQueryResult)]
struct Total {
    total: Option<i64>,
}

async fn sum(db: &impl ConnectionTrait, select: sea_orm::Select<impl EntityTrait>, col: &str) -> Result<i64, DbErr> {
    Ok(select
        .select_only()
        .column_as(Expr::cust(format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT)")), "total")
        .into_model::<Total>()
        .one(db)
        .await?
        .and_then(|t| t.total)
        .unwrap_or(0))
}

/// Confirmed payments no remittance of their collecting unit has included yet.
fn unremitted() -> Condition {
    Condition::all().add(dues_payment::Column::State.eq(2)).add(dues_payment::Column::RemittanceId.is_null())
}

/// Confirmed remittances their receiving unit has not forwarded yet.
fn unforwarded() -> Condition {
    Condition::all().add(remittance::Column::State.eq(2)).add(remittance::Column::ForwardedIn.is_null())
}

/// What `unit_id` holds now and has not remitted: confirmed payments it collected, and
/// confirmed remittances it received (collected, received).
pub async fn at_hand(db: &impl ConnectionTrait, unit_id: &str) -> Result<(i64, i64), DbErr> {
    let collected = sum(
        db,
        dues_payment::Entity::find().filter(dues_payment::Column::UnitId.eq(unit_id)).filter(unremitted()),
        "amount_vnd",
    )
    .await?;
    let received = sum(
        db,
        remittance::Entity::find().filter(remittance::Column::ToUnitId.eq(unit_id)).filter(unforwarded()),
        "amount_vnd",
    )
    .await?;
    Ok((collected, received))
}

/// Claims everything `unit_id` holds for remittance `remittance_id` (marks the payments and
/// received remittances as included) and returns (collected, received). Claiming updates the
/// rows first, so two remittances at once never include the same row.
pub async fn claim_at_hand(
    txn: &impl ConnectionTrait,
    unit_id: &str,
    remittance_id: &str,
) -> Result<(i64, i64), DbErr> {
    dues_payment::Entity::update_many()
        .col_expr(dues_payment::Column::RemittanceId, Expr::value(remittance_id))
        .filter(dues_payment::Column::UnitId.eq(unit_id))
        .filter(unremitted())
        .exec(txn)
        .await?;
    remittance::Entity::update_many()
        .col_expr(remittance::Column::ForwardedIn, Expr::value(remittance_id))
        .filter(remittance::Column::ToUnitId.eq(unit_id))
        .filter(unforwarded())
        .exec(txn)
        .await?;
    let collected = sum(
        txn,
        dues_payment::Entity::find().filter(dues_payment::Column::RemittanceId.eq(remittance_id)),
        "amount_vnd",
    )
    .await?;
    let received =
        sum(txn, remittance::Entity::find().filter(remittance::Column::ForwardedIn.eq(remittance_id)), "amount_vnd")
            .await?;
    Ok((collected, received))
}

/// Stores a remittance.
pub async fn insert_remittance(txn: &impl ConnectionTrait, r: remittance::Model) -> Result<remittance::Model, DbErr> {
    let active: remittance::ActiveModel = r.into();
    active.reset_all().insert(txn).await
}

/// The remittance `remittance_id`.
pub async fn find_remittance(db: &impl ConnectionTrait, id: &str) -> Result<Option<remittance::Model>, DbErr> {
    remittance::Entity::find_by_id(id.to_string()).one(db).await
}

/// The remittance of `unit_id` for `period`.
pub async fn remittance_for(
    db: &impl ConnectionTrait,
    unit_id: &str,
    period: &str,
) -> Result<Option<remittance::Model>, DbErr> {
    remittance::Entity::find()
        .filter(remittance::Column::FromUnitId.eq(unit_id))
        .filter(remittance::Column::Period.eq(period))
        .one(db)
        .await
}

/// Confirms a sent remittance; `false` when it was not SENT any more.
pub async fn confirm_remittance(
    txn: &impl ConnectionTrait,
    id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = remittance::Entity::update_many()
        .col_expr(remittance::Column::State, Expr::value(2))
        .col_expr(remittance::Column::ConfirmedBy, Expr::value(by))
        .col_expr(remittance::Column::ConfirmedAt, Expr::value(at))
        .filter(remittance::Column::RemittanceId.eq(id))
        .filter(remittance::Column::State.eq(1))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Remittances of periods of `year` sent by (`outgoing`) or to `unit_id`, oldest first.
pub async fn remittances_of(
    db: &impl ConnectionTrait,
    unit_id: &str,
    year: i32,
    outgoing: bool,
) -> Result<Vec<remittance::Model>, DbErr> {
    let column = if outgoing { remittance::Column::FromUnitId } else { remittance::Column::ToUnitId };
    remittance::Entity::find()
        .filter(column.eq(unit_id))
        .filter(remittance::Column::Period.starts_with(format!("{year:04}")))
        .order_by_asc(remittance::Column::CreatedAt)
        .all(db)
        .await
}

/// A subtree's dues flows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flows {
    /// Remitted by the unit itself, in the window.
    pub remitted: i64,
    /// Received (confirmed) by the unit itself, in the window.
    pub received: i64,
    /// Kept by units of the subtree, in the window.
    pub kept: i64,
    /// At hand in the subtree now.
    pub at_hand: i64,
    /// Sent between units of the subtree, not confirmed.
    pub in_transit: i64,
}

/// The flows of the unit `unit_id` at `path`, remittances created from `from` to `to`.
pub async fn flows(
    db: &impl ConnectionTrait,
    unit_id: &str,
    path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Flows, DbErr> {
    let window = || remittance::Entity::find().filter(remittance::Column::CreatedAt.between(from, to));
    let remitted = sum(db, window().filter(remittance::Column::FromUnitId.eq(unit_id)), "amount_vnd").await?;
    let received = sum(
        db,
        window().filter(remittance::Column::ToUnitId.eq(unit_id)).filter(remittance::Column::State.eq(2)),
        "amount_vnd",
    )
    .await?;
    let kept = sum(
        db,
        window().filter(Expr::col(remittance::Column::FromUnitId).in_subquery(subtree_select(path))),
        "kept_vnd",
    )
    .await?;
    let collected_at_hand = sum(
        db,
        dues_payment::Entity::find()
            .filter(Expr::col(dues_payment::Column::UnitId).in_subquery(subtree_select(path)))
            .filter(unremitted()),
        "amount_vnd",
    )
    .await?;
    let received_at_hand = sum(
        db,
        remittance::Entity::find()
            .filter(Expr::col(remittance::Column::ToUnitId).in_subquery(subtree_select(path)))
            .filter(unforwarded()),
        "amount_vnd",
    )
    .await?;
    let in_transit = sum(
        db,
        remittance::Entity::find()
            .filter(Expr::col(remittance::Column::ToUnitId).in_subquery(subtree_select(path)))
            .filter(remittance::Column::State.eq(1)),
        "amount_vnd",
    )
    .await?;
    Ok(Flows { remitted, received, kept, at_hand: collected_at_hand + received_at_hand, in_transit })
}

/// Units holding money not yet remitted (confirmed payments they collected, or confirmed
/// remittances they received).
pub async fn units_holding_money(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut ids: Vec<String> = dues_payment::Entity::find()
        .select_only()
        .column(dues_payment::Column::UnitId)
        .filter(unremitted())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let received: Vec<String> = remittance::Entity::find()
        .select_only()
        .column(remittance::Column::ToUnitId)
        .filter(unforwarded())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(received);
    ids.sort();
    ids.dedup();
    Ok(ids)
}
