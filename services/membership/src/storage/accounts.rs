//! Every query on accounts.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::account;

/// The account logging in as `username`.
pub async fn by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find().filter(account::Column::Username.eq(username)).one(db).await
}

/// The account of member `member_id`, once activated.
pub async fn of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find().filter(account::Column::MemberId.eq(member_id)).one(db).await
}

/// Stores a new account; a username (or member) already taken is a unique violation.
pub async fn insert(db: &impl ConnectionTrait, new: account::ActiveModel) -> Result<account::Model, DbErr> {
    new.insert(db).await
}
