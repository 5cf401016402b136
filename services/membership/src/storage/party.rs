//! Every query and transaction on Party introductions.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{party_introduction, party_introduction_member};
use super::units::subtree_select;

/// Stores an introduction and its members (each PENDING).
pub async fn insert(
    txn: &impl ConnectionTrait,
    intro: party_introduction::Model,
    members: Vec<party_introduction_member::Model>,
) -> Result<(), DbErr> {
    let a: party_introduction::ActiveModel = intro.into();
    a.reset_all().insert(txn).await?;
    let rows = members.into_iter().map(|m| {
        let a: party_introduction_member::ActiveModel = m.into();
        a.reset_all()
    });
    party_introduction_member::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// The introduction `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<party_introduction::Model>, DbErr> {
    party_introduction::Entity::find_by_id(id.to_string()).one(db).await
}

/// The members of introduction `id`.
pub async fn members(db: &impl ConnectionTrait, id: &str) -> Result<Vec<party_introduction_member::Model>, DbErr> {
    party_introduction_member::Entity::find()
        .filter(party_introduction_member::Column::IntroductionId.eq(id))
        .all(db)
        .await
}

/// Members of introductions of `member_ids` (pending ones decide eligibility).
pub async fn of_members(
    db: &impl ConnectionTrait,
    member_ids: &[String],
) -> Result<Vec<party_introduction_member::Model>, DbErr> {
    party_introduction_member::Entity::find()
        .filter(party_introduction_member::Column::MemberId.is_in(member_ids.iter().cloned()))
        .all(db)
        .await
}

/// Marks a PROPOSED introduction sent; `false` when it was not PROPOSED any more.
pub async fn send(
    txn: &impl ConnectionTrait,
    id: &str,
    committee: &str,
    on: NaiveDate,
    by: &str,
) -> Result<bool, DbErr> {
    let updated = party_introduction::Entity::update_many()
        .col_expr(party_introduction::Column::State, Expr::value(2))
        .col_expr(party_introduction::Column::PartyCommittee, Expr::value(committee))
        .col_expr(party_introduction::Column::SentOn, Expr::value(on))
        .col_expr(party_introduction::Column::SentBy, Expr::value(by))
        .filter(party_introduction::Column::IntroductionId.eq(id))
        .filter(party_introduction::Column::State.eq(1))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Records a PENDING member's outcome; `false` when it was not PENDING any more.
pub async fn record_outcome(txn: &impl ConnectionTrait, m: &party_introduction_member::Model) -> Result<bool, DbErr> {
    let updated = party_introduction_member::Entity::update_many()
        .col_expr(party_introduction_member::Column::Outcome, Expr::value(m.outcome))
        .col_expr(party_introduction_member::Column::AdmittedOn, Expr::value(m.admitted_on))
        .col_expr(party_introduction_member::Column::DecisionNumber, Expr::value(m.decision_number.clone()))
        .col_expr(party_introduction_member::Column::Note, Expr::value(m.note.clone()))
        .filter(party_introduction_member::Column::IntroductionId.eq(&m.introduction_id))
        .filter(party_introduction_member::Column::MemberId.eq(&m.member_id))
        .filter(party_introduction_member::Column::Outcome.eq(1))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Introductions of branches in the subtree at `path` with a resolution from `from` to `to`,
/// newest first.
pub async fn in_subtree(
    db: &impl ConnectionTrait,
    path: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<party_introduction::Model>, DbErr> {
    party_introduction::Entity::find()
        .filter(Expr::col(party_introduction::Column::UnitId).in_subquery(subtree_select(path)))
        .filter(party_introduction::Column::ResolutionDate.between(from, to))
        .order_by_desc(party_introduction::Column::ResolutionDate)
        .order_by_desc(party_introduction::Column::CreatedAt)
        .all(db)
        .await
}

/// Members of introductions `ids`.
pub async fn members_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<party_introduction_member::Model>, DbErr> {
    party_introduction_member::Entity::find()
        .filter(party_introduction_member::Column::IntroductionId.is_in(ids.iter().cloned()))
        .all(db)
        .await
}
