//! Every query on the ideas bank.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::idea;

/// Stores an idea.
pub async fn insert(db: &impl ConnectionTrait, row: idea::Model) -> Result<idea::Model, DbErr> {
    idea::ActiveModel::from(row).insert(db).await
}

/// The idea `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<idea::Model>, DbErr> {
    idea::Entity::find_by_id(id.to_string()).one(db).await
}

/// Whose ideas a page lists.
pub enum Owner {
    /// One member's.
    Member(String),
    /// The members' of a subtree (by their branch when submitting).
    Subtree(String),
}

/// A page of ideas, newest first.
pub async fn page(
    db: &impl ConnectionTrait,
    owner: Owner,
    state: Option<i32>,
    offset: u64,
    limit: u64,
) -> Result<Vec<idea::Model>, DbErr> {
    let mut query = match owner {
        Owner::Member(id) => idea::Entity::find().filter(idea::Column::MemberId.eq(id)),
        Owner::Subtree(path) => idea::Entity::find().filter(idea::Column::UnitPath.starts_with(&path)),
    };
    if let Some(state) = state {
        query = query.filter(idea::Column::State.eq(state));
    }
    query
        .order_by_desc(idea::Column::SubmittedAt)
        .order_by_asc(idea::Column::IdeaId)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// Moves an idea from the state read to `to`; false when it changed meanwhile.
pub async fn decide(
    txn: &impl ConnectionTrait,
    row: &idea::Model,
    to: i32,
    by: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changed = idea::Entity::update_many()
        .col_expr(idea::Column::State, Expr::value(to))
        .col_expr(idea::Column::ReviewedBy, Expr::value(by))
        .col_expr(idea::Column::ReviewNote, Expr::value(note))
        .col_expr(idea::Column::UpdatedAt, Expr::value(at))
        .filter(idea::Column::IdeaId.eq(&row.idea_id))
        .filter(idea::Column::State.eq(row.state))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Records the award decision that rewarded an idea.
pub async fn link_award(
    db: &impl ConnectionTrait,
    row: idea::Model,
    decision_id: &str,
    at: DateTime<Utc>,
) -> Result<idea::Model, DbErr> {
    let mut changed: idea::ActiveModel = row.into();
    changed.award_decision_id = sea_orm::Set(Some(decision_id.to_string()));
    changed.updated_at = sea_orm::Set(at);
    changed.update(db).await
}
