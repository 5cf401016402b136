//! Every query on accounts.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::account;

/// The account logging in as `username`.
pub async fn by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find().filter(account::Column::Username.eq(username)).one(db).await
}

/// The account of member `member_id`, once activated.
pub async fn of_member(db: &impl ConnectionTrait, member_id: &str) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find().filter(account::Column::MemberId.eq(member_id)).one(db).await
}

/// An account to create.
pub struct NewAccount {
    /// Login name (officers) or member number (members).
    pub username: String,
    /// argon2id PHC hash.
    pub password_hash: String,
    /// Stored role name (`admin`, `officer`, `member`).
    pub role: &'static str,
    /// Scope unit (officers) or branch (members).
    pub unit_id: Option<String>,
    /// The member, for member accounts.
    pub member_id: Option<String>,
    /// Display name.
    pub full_name: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Stores a new account; a username (or member) already taken is a unique violation.
pub async fn insert(db: &impl ConnectionTrait, new: NewAccount) -> Result<account::Model, DbErr> {
    account::ActiveModel {
        account_id: Set(doan_platform::convert::new_id()),
        username: Set(new.username),
        password_hash: Set(new.password_hash),
        role: Set(new.role.to_string()),
        unit_id: Set(new.unit_id),
        member_id: Set(new.member_id),
        full_name: Set(new.full_name),
        created_at: Set(new.created_at),
    }
    .insert(db)
    .await
}

/// The account `account_id`.
pub async fn find(db: &impl ConnectionTrait, account_id: &str) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find_by_id(account_id.to_string()).one(db).await
}

/// Scopes member `member_id`'s account (if activated) to their new branch.
pub async fn move_member(db: &impl ConnectionTrait, member_id: &str, unit_id: &str) -> Result<(), DbErr> {
    account::Entity::update_many()
        .col_expr(account::Column::UnitId, sea_orm::sea_query::Expr::value(unit_id))
        .filter(account::Column::MemberId.eq(member_id))
        .exec(db)
        .await?;
    Ok(())
}
