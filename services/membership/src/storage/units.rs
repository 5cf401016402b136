//! Every query on the unit tree.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::unit;
use crate::domain::unit::UnitLevel;

/// The unit `id`.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<unit::Model>, DbErr> {
    unit::Entity::find_by_id(id.to_string()).one(db).await
}

/// The children of `parent_id`, by name.
pub async fn children(db: &impl ConnectionTrait, parent_id: &str) -> Result<Vec<unit::Model>, DbErr> {
    unit::Entity::find().filter(unit::Column::ParentId.eq(parent_id)).order_by_asc(unit::Column::Name).all(db).await
}

/// A unit to create.
pub struct NewUnit {
    /// Its id (chosen first: the path contains it).
    pub unit_id: String,
    /// Parent; `None` for the root.
    pub parent_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: UnitLevel,
    /// Materialised path.
    pub path: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Stores a new unit (version 1) inside `txn`. A second root is a unique violation of
/// `units_one_root`, which the caller maps.
pub async fn insert(txn: &impl ConnectionTrait, new: NewUnit) -> Result<unit::Model, DbErr> {
    let is_root = new.parent_id.is_none().then_some(true);
    unit::ActiveModel {
        unit_id: Set(new.unit_id),
        parent_id: Set(new.parent_id),
        name: Set(new.name),
        level: Set(new.level as i32),
        path: Set(new.path),
        created_at: Set(new.created_at),
        version: Set(1),
        is_root: Set(is_root),
    }
    .insert(txn)
    .await
}
