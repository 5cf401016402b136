//! Every query on issuers' keys and status lists.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{issuer_key, status_list};

/// Every key of issuing unit `unit_id`, oldest first (the last one signs).
pub async fn keys(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<issuer_key::Model>, DbErr> {
    issuer_key::Entity::find()
        .filter(issuer_key::Column::UnitId.eq(unit_id))
        .order_by_asc(issuer_key::Column::CreatedAt)
        .order_by_asc(issuer_key::Column::KeyId)
        .all(db)
        .await
}

/// Stores a new key; a key id already taken (another replica created the unit's first key at
/// the same time) is a unique violation.
pub async fn insert_key(txn: &impl ConnectionTrait, key: issuer_key::Model) -> Result<(), DbErr> {
    issuer_key::ActiveModel::from(key).insert(txn).await.map(|_| ())
}

/// The list of `unit_id` that still has `room` free bits, locked for this transaction.
pub async fn open_list(
    txn: &impl ConnectionTrait,
    unit_id: &str,
    room: i64,
    bits: i64,
) -> Result<Option<status_list::Model>, DbErr> {
    status_list::Entity::find()
        .filter(status_list::Column::UnitId.eq(unit_id))
        .filter(status_list::Column::NextIndex.lte(bits - room))
        .order_by_asc(status_list::Column::NextIndex)
        .lock_exclusive()
        .one(txn)
        .await
}

/// Stores a new list.
pub async fn insert_list(txn: &impl ConnectionTrait, list: status_list::Model) -> Result<(), DbErr> {
    status_list::ActiveModel::from(list).insert(txn).await.map(|_| ())
}

/// Takes `n` indexes of list `list_id` from `from` (the list's `next_index` as read locked).
pub async fn take(txn: &impl ConnectionTrait, list_id: &str, from: i64, n: i64) -> Result<(), DbErr> {
    let done = status_list::Entity::update_many()
        .col_expr(status_list::Column::NextIndex, Expr::value(from + n))
        .filter(status_list::Column::ListId.eq(list_id))
        .filter(status_list::Column::NextIndex.eq(from))
        .exec(txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(DbErr::Custom(format!("status list {list_id} changed while its indexes were taken")));
    }
    Ok(())
}

/// List `list_id`, locked for this transaction when `lock`.
pub async fn list(db: &impl ConnectionTrait, list_id: &str, lock: bool) -> Result<Option<status_list::Model>, DbErr> {
    let q = status_list::Entity::find_by_id(list_id.to_string());
    if lock { q.lock_exclusive().one(db).await } else { q.one(db).await }
}

/// Stores a list's bits and its re-signed credential.
pub async fn save_list(
    txn: &impl ConnectionTrait,
    list_id: &str,
    bits: Vec<u8>,
    credential: String,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    status_list::Entity::update_many()
        .col_expr(status_list::Column::Bits, Expr::value(bits))
        .col_expr(status_list::Column::Credential, Expr::value(credential))
        .col_expr(status_list::Column::UpdatedAt, Expr::value(at))
        .filter(status_list::Column::ListId.eq(list_id))
        .exec(txn)
        .await?;
    Ok(())
}
