//! Every query on applications to join and on the member record's change history.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{application, member_change};

/// Stores a new application.
pub async fn insert(txn: &impl ConnectionTrait, row: application::ActiveModel) -> Result<application::Model, DbErr> {
    row.insert(txn).await
}

/// Stores a changed application.
pub async fn update(txn: &impl ConnectionTrait, row: application::ActiveModel) -> Result<application::Model, DbErr> {
    row.update(txn).await
}

/// The application `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find_by_id(id.to_string()).one(db).await
}

/// An open (submitted or proposed) application with this citizen ID blind index.
pub async fn open_with_citizen(db: &impl ConnectionTrait, index: &str) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find()
        .filter(application::Column::CitizenIdIndex.eq(index))
        .filter(application::Column::State.is_in([1, 2]))
        .one(db)
        .await
}

/// Applications to the units `unit_ids`, newest first, in `state` if given.
pub async fn of_units(
    db: &impl ConnectionTrait,
    unit_ids: Vec<String>,
    state: Option<i32>,
    limit: u64,
) -> Result<Vec<application::Model>, DbErr> {
    let mut q = application::Entity::find().filter(application::Column::UnitId.is_in(unit_ids));
    if let Some(state) = state {
        q = q.filter(application::Column::State.eq(state));
    }
    q.order_by_desc(application::Column::SubmittedAt).limit(limit).all(db).await
}

/// Appends field changes to a member's history.
pub async fn record_changes(txn: &impl ConnectionTrait, rows: Vec<member_change::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    member_change::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// Where the protected `column` of application `id` lives (bound into its ciphertext).
pub fn protected<'a>(column: &'static str, id: &'a str) -> doan_platform::crypto::Field<'a> {
    doan_platform::crypto::Field::new("applications", column, id)
}

/// Where the `side` (`before_value` or `after_value`) of a personal change lives: the change
/// of `field` that made `member_id`'s `version`.
pub fn change_field(
    side: &'static str,
    member_id: &str,
    version: i64,
    field: &str,
) -> doan_platform::crypto::Field<'static> {
    doan_platform::crypto::Field::new("member_changes", side, format!("{member_id}/{version}/{field}"))
}

/// A member's history, newest first.
pub async fn changes_of(db: &impl ConnectionTrait, member_id: &str) -> Result<Vec<member_change::Model>, DbErr> {
    member_change::Entity::find()
        .filter(member_change::Column::MemberId.eq(member_id))
        .order_by_desc(member_change::Column::Id)
        .all(db)
        .await
}

/// Documents as stored: `kind<TAB>reference` per line (kinds have no tab, references no
/// control characters).
pub fn encode_documents(docs: &[(String, String)]) -> String {
    docs.iter().map(|(k, r)| format!("{k}\t{r}")).collect::<Vec<_>>().join("\n")
}

/// Stored documents as `(kind, reference)`.
pub fn decode_documents(stored: &str) -> Vec<(String, String)> {
    stored.lines().filter_map(|l| l.split_once('\t')).map(|(k, r)| (k.to_string(), r.to_string())).collect()
}
