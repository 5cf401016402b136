//! Every query on reorganisation plans: drafts, steps, the lease of the process applying a
//! plan, progress, and the path rewrites a step still owes.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::{reorg_plan, reorg_rewrite, reorg_step};
use crate::domain::reorg::{PlanState, Step};

/// A plan to store.
pub struct NewPlan {
    /// Id.
    pub plan_id: String,
    /// The unit whose subtree it changes.
    pub unit_id: String,
    /// Title.
    pub title: String,
    /// Effective Vietnam date.
    pub effective_on: NaiveDate,
    /// Creator.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Stores a draft and its steps.
pub async fn insert(txn: &impl ConnectionTrait, new: NewPlan, steps: &[Step]) -> Result<(), DbErr> {
    reorg_plan::ActiveModel {
        plan_id: Set(new.plan_id.clone()),
        unit_id: Set(new.unit_id),
        title: Set(new.title),
        effective_on: Set(new.effective_on),
        state: Set(PlanState::Draft as i32),
        created_by: Set(new.created_by),
        created_at: Set(new.created_at),
        steps_total: Set(steps.len() as i32),
        steps_done: Set(0),
        members_total: Set(0),
        members_done: Set(0),
        runner: Set(None),
        lease_until: Set(None),
    }
    .insert(txn)
    .await?;
    for chunk in steps.chunks(500).enumerate() {
        let (n, chunk) = chunk;
        let rows = chunk.iter().enumerate().map(|(i, s)| reorg_step::ActiveModel {
            plan_id: Set(new.plan_id.clone()),
            idx: Set((n * 500 + i) as i32),
            kind: Set(s.kind as i32),
            unit_id: Set(s.unit_id.clone()),
            target_unit_id: Set(s.target_unit_id.clone()),
            new_name: Set(s.new_name.clone()),
            state: Set(PlanState::Draft as i32),
            error: Set(String::new()),
            phase: Set(String::new()),
        });
        reorg_step::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// The plan `plan_id`.
pub async fn find(db: &impl ConnectionTrait, plan_id: &str) -> Result<Option<reorg_plan::Model>, DbErr> {
    reorg_plan::Entity::find_by_id(plan_id.to_string()).one(db).await
}

/// The steps of `plan_id`, in order.
pub async fn steps(db: &impl ConnectionTrait, plan_id: &str) -> Result<Vec<reorg_step::Model>, DbErr> {
    reorg_step::Entity::find()
        .filter(reorg_step::Column::PlanId.eq(plan_id))
        .order_by_asc(reorg_step::Column::Idx)
        .all(db)
        .await
}

/// Step `idx` of plan `plan_id`.
pub async fn step(db: &impl ConnectionTrait, plan_id: &str, idx: i32) -> Result<Option<reorg_step::Model>, DbErr> {
    reorg_step::Entity::find()
        .filter(reorg_step::Column::PlanId.eq(plan_id))
        .filter(reorg_step::Column::Idx.eq(idx))
        .one(db)
        .await
}

/// Ids of plans being applied, oldest first.
pub async fn applying(db: &impl ConnectionTrait) -> Result<Vec<reorg_plan::Model>, DbErr> {
    reorg_plan::Entity::find()
        .filter(reorg_plan::Column::State.eq(PlanState::Applying as i32))
        .order_by_asc(reorg_plan::Column::CreatedAt)
        .all(db)
        .await
}

/// Marks a draft or failed plan applying, with `members_total` to rewrite; a failed step
/// goes back to draft. False when the plan was not in a state to start.
pub async fn start(txn: &impl ConnectionTrait, plan_id: &str, members_total: u64) -> Result<bool, DbErr> {
    let started = reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::State, Expr::value(PlanState::Applying as i32))
        .col_expr(reorg_plan::Column::MembersTotal, Expr::value(members_total as i64))
        .col_expr(reorg_plan::Column::MembersDone, Expr::value(0i64))
        .filter(reorg_plan::Column::PlanId.eq(plan_id))
        .filter(reorg_plan::Column::State.is_in([PlanState::Draft as i32, PlanState::Failed as i32]))
        .exec(txn)
        .await?;
    reorg_step::Entity::update_many()
        .col_expr(reorg_step::Column::State, Expr::value(PlanState::Draft as i32))
        .col_expr(reorg_step::Column::Error, Expr::value(""))
        .filter(reorg_step::Column::PlanId.eq(plan_id))
        .filter(reorg_step::Column::State.eq(PlanState::Failed as i32))
        .exec(txn)
        .await?;
    Ok(started.rows_affected == 1)
}

/// Takes (or renews) the right to apply `plan_id` until `until`, unless another runner holds
/// an unexpired lease. True when `runner` holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    plan_id: &str,
    runner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::Runner, Expr::value(runner))
        .col_expr(reorg_plan::Column::LeaseUntil, Expr::value(until))
        .filter(reorg_plan::Column::PlanId.eq(plan_id))
        .filter(reorg_plan::Column::State.eq(PlanState::Applying as i32))
        .filter(
            Condition::any()
                .add(reorg_plan::Column::Runner.eq(runner))
                .add(reorg_plan::Column::LeaseUntil.is_null())
                .add(reorg_plan::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Gives the plan up (a stopping process), so another takes it at once.
pub async fn release(db: &impl ConnectionTrait, plan_id: &str, runner: &str) -> Result<(), DbErr> {
    reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(reorg_plan::Column::PlanId.eq(plan_id))
        .filter(reorg_plan::Column::Runner.eq(runner))
        .exec(db)
        .await?;
    Ok(())
}

/// Enters a step's member phase, with the path rewrites it owes.
pub async fn begin_members(
    txn: &impl ConnectionTrait,
    plan_id: &str,
    idx: i32,
    rewrites: &[(String, String)],
) -> Result<(), DbErr> {
    set_step(txn, plan_id, idx, |s| s.phase = Set("members".into())).await?;
    if !rewrites.is_empty() {
        let rows = rewrites.iter().map(|(old, new)| reorg_rewrite::ActiveModel {
            plan_id: Set(plan_id.to_string()),
            idx: Set(idx),
            old_path: Set(old.clone()),
            new_path: Set(new.clone()),
            ..Default::default()
        });
        reorg_rewrite::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// The path rewrites step `idx` owes.
pub async fn rewrites(db: &impl ConnectionTrait, plan_id: &str, idx: i32) -> Result<Vec<(String, String)>, DbErr> {
    Ok(reorg_rewrite::Entity::find()
        .filter(reorg_rewrite::Column::PlanId.eq(plan_id))
        .filter(reorg_rewrite::Column::Idx.eq(idx))
        .order_by_asc(reorg_rewrite::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.old_path, r.new_path))
        .collect())
}

async fn set_step(
    txn: &impl ConnectionTrait,
    plan_id: &str,
    idx: i32,
    f: impl FnOnce(&mut reorg_step::ActiveModel),
) -> Result<(), DbErr> {
    let mut step = reorg_step::ActiveModel {
        plan_id: sea_orm::Unchanged(plan_id.to_string()),
        idx: sea_orm::Unchanged(idx),
        ..Default::default()
    };
    f(&mut step);
    step.update(txn).await?;
    Ok(())
}

/// Counts `n` more members rewritten.
pub async fn add_members_done(txn: &impl ConnectionTrait, plan_id: &str, n: u64) -> Result<(), DbErr> {
    reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::MembersDone, Expr::col(reorg_plan::Column::MembersDone).add(n as i64))
        .filter(reorg_plan::Column::PlanId.eq(plan_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Marks step `idx` applied, and the plan done when it was the last.
pub async fn step_done(txn: &impl ConnectionTrait, plan: &reorg_plan::Model, idx: i32) -> Result<(), DbErr> {
    set_step(txn, &plan.plan_id, idx, |s| {
        s.state = Set(PlanState::Done as i32);
        s.phase = Set("done".into());
    })
    .await?;
    let last = idx + 1 >= plan.steps_total;
    let mut update = reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::StepsDone, Expr::value(idx + 1))
        .filter(reorg_plan::Column::PlanId.eq(plan.plan_id.clone()));
    if last {
        update = update
            .col_expr(reorg_plan::Column::State, Expr::value(PlanState::Done as i32))
            .col_expr(reorg_plan::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None));
    }
    update.exec(txn).await?;
    Ok(())
}

/// Marks step `idx` and the plan failed with `error`.
pub async fn step_failed(txn: &impl ConnectionTrait, plan_id: &str, idx: i32, error: &str) -> Result<(), DbErr> {
    set_step(txn, plan_id, idx, |s| {
        s.state = Set(PlanState::Failed as i32);
        s.error = Set(error.chars().take(500).collect());
    })
    .await?;
    reorg_plan::Entity::update_many()
        .col_expr(reorg_plan::Column::State, Expr::value(PlanState::Failed as i32))
        .col_expr(reorg_plan::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(reorg_plan::Column::PlanId.eq(plan_id))
        .exec(txn)
        .await?;
    Ok(())
}
