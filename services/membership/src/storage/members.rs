//! Every query and transaction on member records.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::member;

/// Stores an admitted member (its personal data already encrypted) inside `txn`. A citizen
/// ID already on file is a unique violation of the blind index, which the caller maps.
pub async fn admit(txn: &impl ConnectionTrait, new: member::ActiveModel) -> Result<member::Model, DbErr> {
    new.insert(txn).await
}

/// The member `member_id`.
pub async fn find(db: &impl ConnectionTrait, member_id: &str) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find().filter(member::Column::MemberId.eq(member_id)).one(db).await
}

/// The member whose number is `DV` + `seq`.
pub async fn find_by_seq(db: &impl ConnectionTrait, seq: i64) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find_by_id(seq).one(db).await
}

/// Up to `limit` members in the subtree at `path`, by member number, after number `after`.
pub async fn page_in_subtree(
    db: &impl ConnectionTrait,
    path: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<member::Model>, DbErr> {
    member::Entity::find()
        .filter(member::Column::UnitPath.starts_with(path))
        .filter(member::Column::Seq.gt(after))
        .order_by_asc(member::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}
