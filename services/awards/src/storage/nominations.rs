//! Nominations (đề nghị khen thưởng): their candidates and the council's reviews; every query
//! and transaction on them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// `nominations`.
pub mod nomination {
    use sea_orm::entity::prelude::*;

    /// A nomination.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nominations")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub nomination_id: String,
        /// The unit proposing.
        pub proposing_unit_id: String,
        /// Its path.
        pub proposing_path: String,
        /// The unit asked to decide (its council reviews).
        pub issuing_unit_id: String,
        /// Its path.
        pub issuing_path: String,
        /// Catalogue kind code.
        pub kind: String,
        /// The year the achievements belong to.
        pub year: i32,
        /// Title.
        pub title: String,
        /// `NominationStatus` number.
        pub status: i32,
        /// The council's outcome note.
        pub outcome_note: String,
        /// The decision that granted it; empty until then.
        pub decision_id: String,
        /// Who proposed it (account).
        pub proposed_by: String,
        /// When.
        pub proposed_at: DateTimeUtc,
        /// When the review closed.
        pub closed_at: Option<DateTimeUtc>,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `nomination_candidates`.
pub mod candidate {
    use sea_orm::entity::prelude::*;

    /// A candidate with the evidence attached when proposed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nomination_candidates")]
    pub struct Model {
        /// Nomination.
        #[sea_orm(primary_key, auto_increment = false)]
        pub nomination_id: String,
        /// Position in it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        /// A member.
        pub member_id: Option<String>,
        /// A unit.
        pub unit_id: Option<String>,
        /// A cluster.
        pub cluster_id: Option<String>,
        /// Name when proposed.
        pub name: String,
        /// What the proposing unit says they achieved.
        pub achievements: String,
        /// Emulation points of the year when proposed.
        pub points: i64,
        /// Yearly rating number of the year (0: none).
        pub rating: i32,
        /// Awards in force held when proposed.
        pub prior_awards: i32,
        /// Approved by the council.
        pub approved: bool,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `nomination_reviews`: one per council member (their latest vote and comment).
pub mod review {
    use sea_orm::entity::prelude::*;

    /// A review.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "nomination_reviews")]
    pub struct Model {
        /// Nomination.
        #[sea_orm(primary_key, auto_increment = false)]
        pub nomination_id: String,
        /// The reviewer's account.
        #[sea_orm(primary_key, auto_increment = false)]
        pub reviewer: String,
        /// Their name.
        pub reviewer_name: String,
        /// `Vote` number.
        pub vote: i32,
        /// Comment.
        pub comment: String,
        /// When.
        pub reviewed_at: DateTimeUtc,
    }

    /// No relations are navigated.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A nomination with its candidates and reviews.
pub type Full = (nomination::Model, Vec<candidate::Model>, Vec<review::Model>);

/// Stores a nomination and its candidates.
pub async fn insert(
    txn: &impl ConnectionTrait,
    n: nomination::Model,
    candidates: Vec<candidate::Model>,
) -> Result<(), DbErr> {
    nomination::ActiveModel::from(n).insert(txn).await?;
    for chunk in candidates.chunks(500) {
        candidate::Entity::insert_many(chunk.iter().cloned().map(candidate::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Nomination `id` with its candidates (in order) and reviews (oldest first).
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Full>, DbErr> {
    let Some(n) = nomination::Entity::find_by_id(id.to_string()).one(db).await? else { return Ok(None) };
    let candidates = candidate::Entity::find()
        .filter(candidate::Column::NominationId.eq(id))
        .order_by_asc(candidate::Column::Position)
        .all(db)
        .await?;
    let reviews = review::Entity::find()
        .filter(review::Column::NominationId.eq(id))
        .order_by_asc(review::Column::ReviewedAt)
        .all(db)
        .await?;
    Ok(Some((n, candidates, reviews)))
}

/// Records (or replaces) a council member's vote and comment while the nomination is under
/// review (the update of the nomination comes first: on SQLite it takes the write lock);
/// false when the review is closed.
pub async fn review(txn: &impl ConnectionTrait, r: review::Model, under_review: i32) -> Result<bool, DbErr> {
    let open = nomination::Entity::update_many()
        .col_expr(nomination::Column::Status, Expr::value(under_review))
        .filter(nomination::Column::NominationId.eq(r.nomination_id.clone()))
        .filter(nomination::Column::Status.eq(under_review))
        .exec(txn)
        .await?;
    if open.rows_affected != 1 {
        return Ok(false);
    }
    match review::Entity::find_by_id((r.nomination_id.clone(), r.reviewer.clone())).one(txn).await? {
        None => review::ActiveModel::from(r).insert(txn).await.map(|_| ())?,
        Some(_) => review::ActiveModel::from(r).reset_all().update(txn).await.map(|_| ())?,
    }
    Ok(true)
}

/// Closes the review of nomination `id` (still `from`) as `to`, approving the candidates at
/// `approved`; false when it was no longer under review.
pub async fn close(
    txn: &impl ConnectionTrait,
    id: &str,
    from: i32,
    to: i32,
    approved: &[i32],
    note: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = nomination::Entity::update_many()
        .col_expr(nomination::Column::Status, Expr::value(to))
        .col_expr(nomination::Column::OutcomeNote, Expr::value(note))
        .col_expr(nomination::Column::ClosedAt, Expr::value(at))
        .filter(nomination::Column::NominationId.eq(id))
        .filter(nomination::Column::Status.eq(from))
        .exec(txn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    if !approved.is_empty() {
        candidate::Entity::update_many()
            .col_expr(candidate::Column::Approved, Expr::value(true))
            .filter(candidate::Column::NominationId.eq(id))
            .filter(candidate::Column::Position.is_in(approved.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(true)
}

/// Marks nomination `id` (still `from`) decided by `decision_id`; false when it was not.
pub async fn decided(
    txn: &impl ConnectionTrait,
    id: &str,
    from: i32,
    to: i32,
    decision_id: &str,
) -> Result<bool, DbErr> {
    let done = nomination::Entity::update_many()
        .col_expr(nomination::Column::Status, Expr::value(to))
        .col_expr(nomination::Column::DecisionId, Expr::value(decision_id))
        .filter(nomination::Column::NominationId.eq(id))
        .filter(nomination::Column::Status.eq(from))
        .exec(txn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A page of the nominations proposed or to be decided under `path`, newest first, after
/// nomination `after`; `status` 0 for any.
pub async fn list(
    db: &impl ConnectionTrait,
    path: &str,
    status: i32,
    after: Option<String>,
    limit: u64,
) -> Result<Vec<nomination::Model>, DbErr> {
    let mut q = nomination::Entity::find().filter(
        sea_orm::Condition::any()
            .add(nomination::Column::ProposingPath.starts_with(path))
            .add(nomination::Column::IssuingPath.starts_with(path)),
    );
    if status != 0 {
        q = q.filter(nomination::Column::Status.eq(status));
    }
    if let Some(a) = after {
        q = q.filter(nomination::Column::NominationId.lt(a));
    }
    q.order_by_desc(nomination::Column::NominationId).limit(limit).all(db).await
}

/// Sets the ceremony date of decision `id`.
pub async fn set_ceremony(txn: &impl ConnectionTrait, decision_id: &str, date: &str) -> Result<(), DbErr> {
    use super::entities::decision;
    decision::Entity::update_many()
        .col_expr(decision::Column::CeremonyDate, Expr::value(date))
        .filter(decision::Column::DecisionId.eq(decision_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// How many awards in force `subject` holds (member or unit).
pub async fn awards_held(db: &impl ConnectionTrait, member: Option<&str>, unit: Option<&str>) -> Result<i32, DbErr> {
    use super::entities::recipient;
    let mut q = recipient::Entity::find().filter(recipient::Column::Status.eq(1));
    q = match (member, unit) {
        (Some(m), _) => q.filter(recipient::Column::MemberId.eq(m)),
        (_, Some(u)) => q.filter(recipient::Column::UnitId.eq(u)),
        _ => return Ok(0),
    };
    let n: i64 =
        q.select_only().column_as(recipient::Column::AwardId.count(), "n").into_tuple().one(db).await?.unwrap_or(0);
    Ok(n as i32)
}
