//! Every query on the unit tree.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{member, unit, unit_change};
use crate::domain::member::MemberStatus;
use crate::domain::reorg::SketchUnit;
use crate::domain::unit::{UnitChangeKind, UnitLevel, UnitStatus};

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
    /// The parent's holding unit.
    pub holding: bool,
    /// Vietnam date of creation, for the unit's history.
    pub created_on: NaiveDate,
}

/// Stores a new unit (version 1) and its first history entry inside `txn`. A second root is a
/// unique violation of `units_one_root`, a second holding unit of `units_one_holding`; the
/// caller maps them.
pub async fn insert(txn: &impl ConnectionTrait, new: NewUnit) -> Result<unit::Model, DbErr> {
    let is_root = new.parent_id.is_none().then_some(true);
    let created = unit::ActiveModel {
        unit_id: Set(new.unit_id),
        parent_id: Set(new.parent_id.clone()),
        name: Set(new.name.clone()),
        level: Set(new.level as i32),
        path: Set(new.path),
        created_at: Set(new.created_at),
        version: Set(1),
        is_root: Set(is_root),
        status: Set(UnitStatus::Active as i32),
        merged_into: Set(None),
        holding: Set(new.holding),
        holding_parent: Set(if new.holding { new.parent_id.clone() } else { None }),
    }
    .insert(txn)
    .await?;
    let change = Change {
        new_parent_id: new.parent_id.unwrap_or_default(),
        new_name: new.name,
        ..Change::new(UnitChangeKind::Created, new.created_on, new.created_at)
    };
    record_change(txn, &created.unit_id, change).await?;
    Ok(created)
}

/// One history entry, before it is stored.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happened.
    pub kind: UnitChangeKind,
    /// Vietnam date it took effect.
    pub effective_on: NaiveDate,
    /// Previous parent.
    pub old_parent_id: String,
    /// New parent.
    pub new_parent_id: String,
    /// Previous name.
    pub old_name: String,
    /// New name.
    pub new_name: String,
    /// The other unit of a merge.
    pub other_unit_id: String,
    /// The plan that made it.
    pub plan_id: String,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
}

impl Change {
    /// An entry of `kind` with nothing else set.
    pub fn new(kind: UnitChangeKind, effective_on: NaiveDate, recorded_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            effective_on,
            old_parent_id: String::new(),
            new_parent_id: String::new(),
            old_name: String::new(),
            new_name: String::new(),
            other_unit_id: String::new(),
            plan_id: String::new(),
            recorded_at,
        }
    }
}

/// Appends an entry to `unit_id`'s history.
pub async fn record_change(txn: &impl ConnectionTrait, unit_id: &str, c: Change) -> Result<(), DbErr> {
    unit_change::ActiveModel {
        unit_id: Set(unit_id.to_string()),
        kind: Set(c.kind as i32),
        effective_on: Set(c.effective_on),
        old_parent_id: Set(c.old_parent_id),
        new_parent_id: Set(c.new_parent_id),
        old_name: Set(c.old_name),
        new_name: Set(c.new_name),
        other_unit_id: Set(c.other_unit_id),
        plan_id: Set(c.plan_id),
        recorded_at: Set(c.recorded_at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// `unit_id`'s history, oldest first.
pub async fn history(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<unit_change::Model>, DbErr> {
    unit_change::Entity::find()
        .filter(unit_change::Column::UnitId.eq(unit_id))
        .order_by_asc(unit_change::Column::Id)
        .all(db)
        .await
}

/// Sets `u`'s name (version + 1) and records the rename.
pub async fn rename(
    txn: &impl ConnectionTrait,
    u: unit::Model,
    name: String,
    mut change: Change,
) -> Result<unit::Model, DbErr> {
    change.old_name = u.name.clone();
    change.new_name = name.clone();
    let unit_id = u.unit_id.clone();
    let version = u.version + 1;
    let mut active: unit::ActiveModel = u.into();
    active.name = Set(name);
    active.version = Set(version);
    let updated = active.update(txn).await?;
    record_change(txn, &unit_id, change).await?;
    Ok(updated)
}

/// Marks `u` dissolved (version + 1) and records it.
pub async fn dissolve(txn: &impl ConnectionTrait, u: unit::Model, change: Change) -> Result<unit::Model, DbErr> {
    let unit_id = u.unit_id.clone();
    let version = u.version + 1;
    let mut active: unit::ActiveModel = u.into();
    active.status = Set(UnitStatus::Dissolved as i32);
    active.version = Set(version);
    let updated = active.update(txn).await?;
    record_change(txn, &unit_id, change).await?;
    Ok(updated)
}

/// Marks `u` merged into `target` (version + 1) and records it on both units.
pub async fn mark_merged(
    txn: &impl ConnectionTrait,
    u: unit::Model,
    target: &str,
    change: Change,
) -> Result<unit::Model, DbErr> {
    let unit_id = u.unit_id.clone();
    let version = u.version + 1;
    let mut active: unit::ActiveModel = u.into();
    active.status = Set(UnitStatus::Merged as i32);
    active.merged_into = Set(Some(target.to_string()));
    active.holding_parent = Set(None);
    active.version = Set(version);
    let updated = active.update(txn).await?;
    let merged = Change { kind: UnitChangeKind::Merged, other_unit_id: target.to_string(), ..change.clone() };
    record_change(txn, &unit_id, merged).await?;
    let absorbed = Change { kind: UnitChangeKind::Absorbed, other_unit_id: unit_id, ..change };
    record_change(txn, target, absorbed).await?;
    Ok(updated)
}

/// Moves `u` and its subtree under `parent` (versions of `u` + 1; descendants' paths
/// rewritten) and records the move. Returns the moved unit and its old path.
pub async fn move_subtree(
    txn: &impl ConnectionTrait,
    u: unit::Model,
    parent: &unit::Model,
    mut change: Change,
) -> Result<(unit::Model, String), DbErr> {
    let old_path = u.path.clone();
    let new_path = crate::domain::unit::child_path(Some(&parent.path), &u.unit_id);
    change.old_parent_id = u.parent_id.clone().unwrap_or_default();
    change.new_parent_id = parent.unit_id.clone();
    unit::Entity::update_many()
        .col_expr(unit::Column::Path, doan_platform::db::path_rewritten(unit::Column::Path, &old_path, &new_path))
        .filter(unit::Column::Path.starts_with(&old_path))
        .filter(unit::Column::UnitId.ne(u.unit_id.clone()))
        .exec(txn)
        .await?;
    let unit_id = u.unit_id.clone();
    let version = u.version + 1;
    let was_holding = u.holding;
    let mut active: unit::ActiveModel = u.into();
    active.parent_id = Set(Some(parent.unit_id.clone()));
    active.path = Set(new_path);
    active.version = Set(version);
    if was_holding {
        active.holding_parent = Set(Some(parent.unit_id.clone()));
    }
    let moved = active.update(txn).await?;
    record_change(txn, &unit_id, change).await?;
    Ok((moved, old_path))
}

/// The active children of `unit_id`.
pub async fn active_children(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<unit::Model>, DbErr> {
    unit::Entity::find()
        .filter(unit::Column::ParentId.eq(unit_id))
        .filter(unit::Column::Status.eq(UnitStatus::Active as i32))
        .order_by_asc(unit::Column::Name)
        .all(db)
        .await
}

/// The units `ids`.
pub async fn find_many(db: &impl ConnectionTrait, ids: &BTreeSet<String>) -> Result<Vec<unit::Model>, DbErr> {
    unit::Entity::find().filter(unit::Column::UnitId.is_in(ids.iter().cloned())).all(db).await
}

#[derive(FromQueryResult)]
struct LevelCount {
    parent_id: Option<String>,
    level: i32,
    n: i64,
}

#[derive(FromQueryResult)]
struct UnitCount {
    unit_id: String,
    n: i64,
}

/// A sketch of the tree for a plan: every unit in `ids` and their ancestors, with active
/// children by level, active members, and subtree sizes; `scope_path` marks what is in the
/// plan's subtree. Units that do not exist are absent.
pub async fn sketch(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<String>,
    scope_path: &str,
) -> Result<HashMap<String, SketchUnit>, DbErr> {
    let involved = find_many(db, ids).await?;
    let mut all: BTreeSet<String> = ids.clone();
    for u in &involved {
        all.extend(u.path.split('/').filter(|s| !s.is_empty()).map(str::to_string));
    }
    let rows = find_many(db, &all).await?;
    let mut tree = HashMap::new();
    let active = UnitStatus::Active as i32;
    let children: Vec<LevelCount> = unit::Entity::find()
        .select_only()
        .column(unit::Column::ParentId)
        .column(unit::Column::Level)
        .column_as(unit::Column::UnitId.count(), "n")
        .filter(unit::Column::ParentId.is_in(all.iter().cloned()))
        .filter(unit::Column::Status.eq(active))
        .group_by(unit::Column::ParentId)
        .group_by(unit::Column::Level)
        .into_model()
        .all(db)
        .await?;
    let members: Vec<UnitCount> = member::Entity::find()
        .select_only()
        .column(member::Column::UnitId)
        .column_as(member::Column::Seq.count(), "n")
        .filter(member::Column::UnitId.is_in(all.iter().cloned()))
        .filter(member::Column::Status.eq(MemberStatus::Active as i32))
        .group_by(member::Column::UnitId)
        .into_model()
        .all(db)
        .await?;
    for u in rows {
        let Some(level) = UnitLevel::from_stored(u.level) else { continue };
        let (subtree_units, subtree_members) = if ids.contains(&u.unit_id) {
            (subtree_units(db, &u.path).await?, super::statistics::active_in_subtree(db, &u.unit_id).await?)
        } else {
            (0, 0)
        };
        tree.insert(
            u.unit_id.clone(),
            SketchUnit {
                parent_id: u.parent_id.clone(),
                level,
                status: UnitStatus::from_stored(u.status),
                children: children
                    .iter()
                    .filter(|c| c.parent_id.as_deref() == Some(u.unit_id.as_str()))
                    .filter_map(|c| Some((UnitLevel::from_stored(c.level)?, c.n as u64)))
                    .collect(),
                members: members.iter().find(|m| m.unit_id == u.unit_id).map_or(0, |m| m.n as u64),
                subtree_units,
                subtree_members,
                in_scope: u.path.starts_with(scope_path),
                is_scope: u.path == scope_path,
            },
        );
    }
    Ok(tree)
}

/// Units in the subtree at `path`, itself included.
pub async fn subtree_units(db: &impl ConnectionTrait, path: &str) -> Result<u64, DbErr> {
    unit::Entity::find().filter(unit::Column::Path.starts_with(path)).count(db).await
}

/// Ids of the units in the subtree at `path`.
pub async fn subtree_ids(db: &impl ConnectionTrait, path: &str) -> Result<Vec<String>, DbErr> {
    unit::Entity::find()
        .select_only()
        .column(unit::Column::UnitId)
        .filter(unit::Column::Path.starts_with(path))
        .into_tuple()
        .all(db)
        .await
}

/// `SELECT unit_id FROM units WHERE path LIKE '<path>%'`: the subtree, for `IN (…)`.
pub fn subtree_select(path: &str) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Query::select()
        .column(unit::Column::UnitId)
        .from(unit::Entity)
        .and_where(Expr::col(unit::Column::Path).like(format!("{path}%")))
        .to_owned()
}

/// Active units members belong to (branches and chi đoàn cơ sở) in the subtree at `path`, by
/// path, at most `limit`.
pub async fn member_units_under(db: &impl ConnectionTrait, path: &str, limit: u64) -> Result<Vec<unit::Model>, DbErr> {
    use doan_platform::units::UnitLevel;
    unit::Entity::find()
        .filter(unit::Column::Path.starts_with(path))
        .filter(unit::Column::Status.eq(1))
        .filter(unit::Column::Level.is_in([UnitLevel::Branch as i32, UnitLevel::GrassrootsBranch as i32]))
        .order_by_asc(unit::Column::Path)
        .limit(limit)
        .all(db)
        .await
}

/// Every unit in the subtree at `path` (id and name), by path, for exports.
pub async fn names_under(db: &impl ConnectionTrait, path: &str) -> Result<Vec<(String, String)>, DbErr> {
    unit::Entity::find()
        .select_only()
        .column(unit::Column::UnitId)
        .column(unit::Column::Name)
        .filter(unit::Column::Path.starts_with(path))
        .order_by_asc(unit::Column::Path)
        .into_tuple()
        .all(db)
        .await
}
