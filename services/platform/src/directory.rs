//! The directory: a consuming service's own read model of the unit tree and of members,
//! fed by membership's unit and member events. Activities, awards and notifications keep one
//! each, so scope checks never call membership. The model lags membership by the event
//! delay; lookups of a unit or member not yet seen answer NOT_FOUND with a hint to retry.
//!
//! The tree changes (moves, merges) arrive as one event per moved unit, not per descendant,
//! and in any order. A unit's path is derived from its parent's path as the directory holds
//! it (the event's path only when the parent is unknown), a move rewrites every stored path
//! under the unit's old path (the service's own path columns included), and a member's path is
//! its unit's path, following merges: so events applied in any order converge on membership's
//! tree.

use doan_proto::events::{
    EventEnvelope, IntegrationEvent, MemberAdmitted, MemberImportBatchApplied, MemberStatusChanged, MemberTransferred,
    MemberUpdated, MembersAdmitted, UnitCreated, UnitMerged, UnitMoved, UnitUpdated,
};
use sea_orm::sea_query::{OnConflict, Table};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::bus::{HandlerError, decode_payload};
use crate::error::{AppError, AppResult};

/// `directory_units`: every unit, with its materialised path.
pub mod unit {
    use sea_orm::entity::prelude::*;

    /// A unit as this service knows it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "directory_units")]
    pub struct Model {
        /// Unit id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: String,
        /// Parent id; empty for the root.
        pub parent_id: String,
        /// Display name.
        pub name: String,
        /// Level number (doan.membership.v1.UnitLevel).
        pub level: i32,
        /// Materialised path `/root/…/self/`.
        pub path: String,
        /// The producer's version of the unit this row reflects.
        pub version: i64,
        /// Status number (doan.membership.v1.UnitStatus; 1 active).
        pub status: i32,
        /// The unit it was merged into; empty otherwise.
        pub merged_into: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `directory_members`: every admitted member, without personal data.
pub mod member {
    use sea_orm::entity::prelude::*;

    /// A member as this service knows them.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "directory_members")]
    pub struct Model {
        /// Member id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        /// Member number.
        pub member_number: String,
        /// Full name.
        pub full_name: String,
        /// Branch.
        pub unit_id: String,
        /// Path of the branch.
        pub unit_path: String,
        /// The producer's version of the member this row reflects.
        pub version: i64,
        /// Status number (doan.membership.v1.MemberStatus; 1 active).
        pub status: i32,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The event types the directory consumes.
pub const EVENT_TYPES: [&str; 9] = [
    UnitCreated::EVENT_TYPE,
    UnitUpdated::EVENT_TYPE,
    UnitMoved::EVENT_TYPE,
    UnitMerged::EVENT_TYPE,
    MemberAdmitted::EVENT_TYPE,
    MemberStatusChanged::EVENT_TYPE,
    MemberTransferred::EVENT_TYPE,
    MemberUpdated::EVENT_TYPE,
    MembersAdmitted::EVENT_TYPE,
];

/// A consuming service's own columns holding unit paths (`table`, `column`), rewritten with
/// the directory's when a subtree moves.
pub type PathColumns = &'static [(&'static str, &'static str)];

/// An event's entity version (0 from older producers counts as 1).
fn version(v: u64) -> i64 {
    Ord::min(Ord::max(v, 1), i64::MAX as u64) as i64
}

/// Only rows older than the incoming event are overwritten.
fn newer_than_stored(table: &str) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(format!("{table}.version < excluded.version"))
}

/// The path of `unit_id` under `parent_id` as this directory holds the parent, or `fallback`
/// (the event's) when the parent is unknown.
async fn derived_path(
    txn: &impl ConnectionTrait,
    parent_id: &str,
    unit_id: &str,
    fallback: &str,
) -> Result<String, sea_orm::DbErr> {
    if parent_id.is_empty() {
        return Ok(fallback.to_string());
    }
    Ok(match unit::Entity::find_by_id(parent_id.to_string()).one(txn).await? {
        Some(parent) => format!("{}{unit_id}/", parent.path),
        None => fallback.to_string(),
    })
}

/// The unit a member of `unit_id` belongs to now (following merges) and its path, or the
/// event's `fallback` path when the unit is unknown.
async fn current_unit(
    txn: &impl ConnectionTrait,
    unit_id: &str,
    fallback: &str,
) -> Result<(String, String), sea_orm::DbErr> {
    let mut id = unit_id.to_string();
    let mut path = fallback.to_string();
    for _ in 0..64 {
        let Some(u) = unit::Entity::find_by_id(id.clone()).one(txn).await? else { break };
        path = u.path.clone();
        if u.merged_into.is_empty() {
            break;
        }
        id = u.merged_into;
    }
    Ok((id, path))
}

/// Stores a unit's whole state if the event is newer than the row.
async fn upsert_unit(txn: &impl ConnectionTrait, row: unit::ActiveModel) -> Result<(), sea_orm::DbErr> {
    unit::Entity::insert(row)
        .on_conflict(
            OnConflict::column(unit::Column::UnitId)
                .update_columns([
                    unit::Column::ParentId,
                    unit::Column::Name,
                    unit::Column::Level,
                    unit::Column::Path,
                    unit::Column::Version,
                    unit::Column::Status,
                    unit::Column::MergedInto,
                ])
                .action_and_where(newer_than_stored("directory_units"))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A unit's whole state as UnitCreated and UnitUpdated carry it: id, parent, name, level,
/// path, version, status, merged into.
type UnitState = (String, String, String, i32, String, u64, i32, String);

/// Stores a unit's state (its path derived from the parent held here) if newer than the row.
async fn upsert_unit_state(txn: &impl ConnectionTrait, state: UnitState) -> Result<(), sea_orm::DbErr> {
    let (unit_id, parent_id, name, level, event_path, event_version, status, merged_into) = state;
    let path = derived_path(txn, &parent_id, &unit_id, &event_path).await?;
    let row = unit::ActiveModel {
        unit_id: Set(unit_id),
        parent_id: Set(parent_id),
        name: Set(name),
        level: Set(level),
        path: Set(path),
        version: Set(version(event_version)),
        status: Set(status),
        merged_into: Set(merged_into),
    };
    upsert_unit(txn, row).await
}

/// A member's state as an event carries it.
struct MemberState {
    member_id: String,
    member_number: String,
    full_name: String,
    unit_id: String,
    unit_path: String,
    version: u64,
    status: i32,
}

/// Stores a member's state if the event is newer than the row. An active member belongs to
/// the unit their unit was merged into, if it was; one who left stays where they left from.
async fn upsert_member(txn: &impl ConnectionTrait, e: MemberState) -> Result<(), sea_orm::DbErr> {
    upsert_members(txn, vec![e]).await
}

/// Stores members' states (each only over an older row), a few hundred per statement; each
/// distinct unit is looked up once.
async fn upsert_members(txn: &impl ConnectionTrait, states: Vec<MemberState>) -> Result<(), sea_orm::DbErr> {
    // The units named, read in one query; a merged unit's members follow the merge (rare: one
    // lookup per merge step).
    let ids: std::collections::BTreeSet<String> = states.iter().map(|e| e.unit_id.clone()).collect();
    let held: std::collections::HashMap<String, unit::Model> = unit::Entity::find()
        .filter(unit::Column::UnitId.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.unit_id.clone(), u))
        .collect();
    let mut units: std::collections::HashMap<(String, bool), (String, String)> = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(states.len());
    for e in states {
        let active = e.status == 1;
        let key = (e.unit_id.clone(), active);
        let (unit_id, unit_path) = match units.get(&key) {
            Some(found) => found.clone(),
            None => {
                let found = match held.get(&e.unit_id) {
                    Some(u) if active && !u.merged_into.is_empty() => {
                        current_unit(txn, &e.unit_id, &e.unit_path).await?
                    }
                    Some(u) => (e.unit_id.clone(), u.path.clone()),
                    None => (e.unit_id.clone(), e.unit_path.clone()),
                };
                units.insert(key, found.clone());
                found
            }
        };
        rows.push(member::ActiveModel {
            member_id: Set(e.member_id),
            member_number: Set(e.member_number),
            full_name: Set(e.full_name),
            unit_id: Set(unit_id),
            unit_path: Set(unit_path),
            version: Set(version(e.version)),
            status: Set(e.status),
        });
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<member::ActiveModel> = rows.by_ref().take(1_000).collect();
        member::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(member::Column::MemberId)
                    .update_columns([
                        member::Column::MemberNumber,
                        member::Column::FullName,
                        member::Column::UnitId,
                        member::Column::UnitPath,
                        member::Column::Version,
                        member::Column::Status,
                    ])
                    .action_and_where(newer_than_stored("directory_members"))
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// [`apply`], and for a batch of imported members also the service's acknowledgement
/// (`MemberImportBatchApplied`), enqueued on `outbox` inside `txn`: membership learns that
/// `service`'s read models hold the batch exactly when they do.
pub async fn apply_and_acknowledge(
    txn: &impl ConnectionTrait,
    envelope: &EventEnvelope,
    paths: PathColumns,
    outbox: &crate::outbox::Outbox,
    service: &str,
) -> Result<bool, HandlerError> {
    let applied = apply(txn, envelope, paths).await?;
    if let Some(ack) = import_acknowledgement(envelope, service)? {
        outbox.enqueue(txn, &ack).await?;
    }
    Ok(applied)
}

/// The acknowledgement a consuming service publishes (through its outbox, in the transaction
/// that applied the event) when `envelope` is a batch of imported members.
pub fn import_acknowledgement(
    envelope: &EventEnvelope,
    service: &str,
) -> Result<Option<MemberImportBatchApplied>, HandlerError> {
    if envelope.event_type != MembersAdmitted::EVENT_TYPE {
        return Ok(None);
    }
    let e: MembersAdmitted = decode_payload(envelope)?;
    Ok(Some(MemberImportBatchApplied {
        import_id: e.import_id,
        batch: e.batch,
        service: service.to_string(),
        members: e.members.len() as u32,
    }))
}

/// Rewrites every stored path under `old` to lie under `new`: units, members and the
/// service's own `paths`.
async fn rewrite_subtree(
    txn: &impl ConnectionTrait,
    old: &str,
    new: &str,
    paths: PathColumns,
) -> Result<(), sea_orm::DbErr> {
    let own = [("directory_units", "path"), ("directory_members", "unit_path")];
    for (table, column) in own.iter().chain(paths.iter()) {
        crate::db::rewrite_path_prefix(txn, table, column, old, new).await?;
    }
    Ok(())
}

/// Applies a directory event inside the handler's transaction, rewriting the service's own
/// path columns `paths` on moves. Returns false when the event is not a directory event.
/// Versioned upserts: an event older than (or as old as) the row does nothing, so late,
/// repeated and reordered events converge on the newest.
pub async fn apply(
    txn: &impl ConnectionTrait,
    envelope: &EventEnvelope,
    paths: PathColumns,
) -> Result<bool, HandlerError> {
    match envelope.event_type.as_str() {
        UnitCreated::EVENT_TYPE => {
            let e: UnitCreated = decode_payload(envelope)?;
            let state = (e.unit_id, e.parent_id, e.name, e.level, e.path, e.version, 1, String::new());
            upsert_unit_state(txn, state).await?;
            Ok(true)
        }
        UnitUpdated::EVENT_TYPE => {
            let e: UnitUpdated = decode_payload(envelope)?;
            let state = (e.unit_id, e.parent_id, e.name, e.level, e.path, e.version, e.status, e.merged_into);
            upsert_unit_state(txn, state).await?;
            Ok(true)
        }
        UnitMoved::EVENT_TYPE => {
            let e: UnitMoved = decode_payload(envelope)?;
            let stored = unit::Entity::find_by_id(e.unit_id.clone()).one(txn).await?;
            if stored.as_ref().is_some_and(|u| u.version >= version(e.version)) {
                return Ok(true);
            }
            let old_path = stored.as_ref().map_or(e.old_path.clone(), |u| u.path.clone());
            let new_path = derived_path(txn, &e.new_parent_id, &e.unit_id, &e.new_path).await?;
            let (status, merged_into) = stored.map_or((1, String::new()), |u| (u.status, u.merged_into));
            rewrite_subtree(txn, &old_path, &new_path, paths).await?;
            let row = unit::ActiveModel {
                unit_id: Set(e.unit_id),
                parent_id: Set(e.new_parent_id),
                name: Set(e.name),
                level: Set(e.level),
                path: Set(new_path),
                version: Set(version(e.version)),
                status: Set(status),
                merged_into: Set(merged_into),
            };
            upsert_unit(txn, row).await?;
            Ok(true)
        }
        UnitMerged::EVENT_TYPE => {
            let e: UnitMerged = decode_payload(envelope)?;
            let stored = unit::Entity::find_by_id(e.unit_id.clone()).one(txn).await?;
            if let Some(u) = stored.filter(|u| u.version < version(e.version)) {
                let mut row: unit::ActiveModel = u.into();
                row.status = Set(2);
                row.merged_into = Set(e.target_unit_id.clone());
                row.version = Set(version(e.version));
                sea_orm::ActiveModelTrait::update(row, txn).await?;
            }
            let (target, target_path) = current_unit(txn, &e.target_unit_id, &e.target_path).await?;
            // Active members follow; those who left stay where they left from.
            member::Entity::update_many()
                .col_expr(member::Column::UnitId, sea_orm::sea_query::Expr::value(target))
                .col_expr(member::Column::UnitPath, sea_orm::sea_query::Expr::value(target_path))
                .filter(member::Column::UnitId.eq(e.unit_id))
                .filter(member::Column::Status.eq(1))
                .exec(txn)
                .await?;
            Ok(true)
        }
        MemberAdmitted::EVENT_TYPE => {
            let e: MemberAdmitted = decode_payload(envelope)?;
            let state = MemberState {
                member_id: e.member_id,
                member_number: e.member_number,
                full_name: e.full_name,
                unit_id: e.unit_id,
                unit_path: e.unit_path,
                version: e.version,
                status: 1,
            };
            upsert_member(txn, state).await?;
            Ok(true)
        }
        MembersAdmitted::EVENT_TYPE => {
            let e: MembersAdmitted = decode_payload(envelope)?;
            let states = e
                .members
                .into_iter()
                .map(|m| MemberState {
                    member_id: m.member_id,
                    member_number: m.member_number,
                    full_name: m.full_name,
                    unit_id: m.unit_id,
                    unit_path: m.unit_path,
                    version: m.version,
                    status: 1,
                })
                .collect();
            upsert_members(txn, states).await?;
            Ok(true)
        }
        MemberTransferred::EVENT_TYPE => {
            let e: MemberTransferred = decode_payload(envelope)?;
            let state = MemberState {
                member_id: e.member_id,
                member_number: e.member_number,
                full_name: e.full_name,
                unit_id: e.unit_id,
                unit_path: e.unit_path,
                version: e.version,
                status: 1,
            };
            upsert_member(txn, state).await?;
            Ok(true)
        }
        MemberUpdated::EVENT_TYPE => {
            let e: MemberUpdated = decode_payload(envelope)?;
            let state = MemberState {
                member_id: e.member_id,
                member_number: e.member_number,
                full_name: e.full_name,
                unit_id: e.unit_id,
                unit_path: e.unit_path,
                version: e.version,
                status: e.status,
            };
            upsert_member(txn, state).await?;
            Ok(true)
        }
        MemberStatusChanged::EVENT_TYPE => {
            let e: MemberStatusChanged = decode_payload(envelope)?;
            let state = MemberState {
                member_id: e.member_id,
                member_number: e.member_number,
                full_name: e.full_name,
                unit_id: e.unit_id,
                unit_path: e.unit_path,
                version: e.version,
                status: e.status,
            };
            upsert_member(txn, state).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The unit `unit_id`, or NOT_FOUND naming `field`.
pub async fn unit(db: &impl ConnectionTrait, field: &'static str, unit_id: &str) -> AppResult<unit::Model> {
    let unit_id = crate::convert::parse_id(field, unit_id)?;
    unit::Entity::find_by_id(unit_id.clone()).one(db).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "unit {unit_id} ({field}) not found; a unit created moments ago may take a second to appear"
        ))
    })
}

/// The member `member_id`, or NOT_FOUND naming `field`.
pub async fn member(db: &impl ConnectionTrait, field: &'static str, member_id: &str) -> AppResult<member::Model> {
    let member_id = crate::convert::parse_id(field, member_id)?;
    member::Entity::find_by_id(member_id.clone()).one(db).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "member {member_id} ({field}) not found; a member admitted moments ago may take a second to appear"
        ))
    })
}

/// The directory's migrations, which a consuming service's migrator lists after the
/// platform's.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(CreateDirectory), Box::new(VersionDirectory), Box::new(UnitStatuses)]
}

/// Adds unit status and merges, and member status.
pub struct UnitStatuses;

impl MigrationName for UnitStatuses {
    fn name(&self) -> &str {
        "m0002_platform_directory_unit_status"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UnitStatuses {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [integer("status").default(1).to_owned(), string("merged_into").default("").to_owned()] {
            manager.alter_table(Table::alter().table("directory_units").add_column(col).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table("directory_members").add_column(integer("status").default(1)).to_owned())
            .await?;
        if manager.get_connection().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS directory_units_path ON directory_units (path text_pattern_ops); \
                     CREATE INDEX IF NOT EXISTS directory_members_path ON directory_members (unit_path text_pattern_ops); \
                     CREATE INDEX IF NOT EXISTS directory_members_unit ON directory_members (unit_id)",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in ["merged_into", "status"] {
            manager.alter_table(Table::alter().table("directory_units").drop_column(col).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table("directory_members").drop_column("status").to_owned()).await?;
        Ok(())
    }
}

/// Adds the entity versions.
pub struct VersionDirectory;

impl MigrationName for VersionDirectory {
    fn name(&self) -> &str {
        "m0001_platform_directory_versions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for VersionDirectory {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["directory_units", "directory_members"] {
            manager
                .alter_table(Table::alter().table(table).add_column(big_integer("version").default(1)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["directory_units", "directory_members"] {
            manager.alter_table(Table::alter().table(table).drop_column("version").to_owned()).await?;
        }
        Ok(())
    }
}

/// Creates the directory tables.
pub struct CreateDirectory;

impl MigrationName for CreateDirectory {
    fn name(&self) -> &str {
        "m0000_platform_directory"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateDirectory {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("directory_units")
                    .if_not_exists()
                    .col(string("unit_id").primary_key())
                    .col(string("parent_id"))
                    .col(string("name"))
                    .col(integer("level"))
                    .col(text("path"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("directory_members")
                    .if_not_exists()
                    .col(string("member_id").primary_key())
                    .col(string("member_number"))
                    .col(string("full_name"))
                    .col(string("unit_id"))
                    .col(text("unit_path"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("directory_members").to_owned()).await?;
        manager.drop_table(Table::drop().table("directory_units").to_owned()).await
    }
}

#[cfg(test)]
mod tests {
    use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted, UnitCreated, UnitMerged, UnitMoved};
    use sea_orm::EntityTrait;
    use sea_orm_migration::prelude::*;

    use super::*;

    struct TestMigrator;

    impl MigratorTrait for TestMigrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            let mut all = crate::inbox::platform_migrations();
            all.extend(migrations());
            all
        }
    }

    fn envelope<E: IntegrationEvent>(event: &E) -> EventEnvelope {
        EventEnvelope {
            event_id: crate::convert::new_id(),
            event_type: E::EVENT_TYPE.into(),
            payload: event.encode_to_vec(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn only_newer_versions_are_applied() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate::<TestMigrator>(&db).await.unwrap();
        let unit = |name: &str, version| UnitCreated {
            unit_id: "u".into(),
            name: name.into(),
            level: 5,
            path: "/u/".into(),
            version,
            ..Default::default()
        };
        apply(&db, &envelope(&unit("renamed", 2)), &[]).await.unwrap();
        apply(&db, &envelope(&unit("original", 1)), &[]).await.unwrap(); // late
        apply(&db, &envelope(&unit("original", 0)), &[]).await.unwrap(); // old producer: 1
        let row = unit::Entity::find_by_id("u").one(&db).await.unwrap().unwrap();
        assert_eq!((row.name.as_str(), row.version), ("renamed", 2));
        apply(&db, &envelope(&unit("renamed again", 3)), &[]).await.unwrap();
        let row = unit::Entity::find_by_id("u").one(&db).await.unwrap().unwrap();
        assert_eq!((row.name.as_str(), row.version), ("renamed again", 3));

        let member = |unit_id: &str, version| MemberAdmitted {
            member_id: "m".into(),
            unit_id: unit_id.into(),
            unit_path: format!("/{unit_id}/"),
            version,
            ..Default::default()
        };
        apply(&db, &envelope(&member("b2", 2)), &[]).await.unwrap();
        apply(&db, &envelope(&member("b1", 1)), &[]).await.unwrap();
        apply(&db, &envelope(&member("b2", 2)), &[]).await.unwrap(); // repeated
        let row = member::Entity::find_by_id("m").one(&db).await.unwrap().unwrap();
        assert_eq!((row.unit_id.as_str(), row.version), ("b2", 2));
    }

    /// Province P holds district D (grassroots G, branch B with member m); province Q is empty.
    /// D moves under Q, then G moves back under P, then B merges into branch C under Q: every
    /// order of those three events leaves the same tree.
    #[tokio::test]
    async fn moves_and_merges_converge_in_any_order() {
        let created = |id: &str, parent: &str, path: &str, level| UnitCreated {
            unit_id: id.into(),
            parent_id: parent.into(),
            name: id.into(),
            level,
            path: path.into(),
            version: 1,
        };
        let setup = vec![
            envelope(&created("r", "", "/r/", 1)),
            envelope(&created("P", "r", "/r/P/", 2)),
            envelope(&created("Q", "r", "/r/Q/", 2)),
            envelope(&created("D", "P", "/r/P/D/", 3)),
            envelope(&created("G", "D", "/r/P/D/G/", 4)),
            envelope(&created("B", "G", "/r/P/D/G/B/", 5)),
            envelope(&created("C", "Q", "/r/Q/C/", 5)),
            envelope(&MemberAdmitted {
                member_id: "m".into(),
                unit_id: "B".into(),
                unit_path: "/r/P/D/G/B/".into(),
                version: 1,
                ..Default::default()
            }),
        ];
        let moved = |id: &str, from: &str, to: &str, old: &str, new: &str, level| UnitMoved {
            unit_id: id.into(),
            old_parent_id: from.into(),
            new_parent_id: to.into(),
            old_path: old.into(),
            new_path: new.into(),
            version: 2,
            name: id.into(),
            level,
            plan_id: "plan".into(),
        };
        let changes = [
            envelope(&moved("D", "P", "Q", "/r/P/D/", "/r/Q/D/", 3)),
            envelope(&moved("G", "D", "P", "/r/Q/D/G/", "/r/P/G/", 4)),
            envelope(&UnitMerged {
                unit_id: "B".into(),
                target_unit_id: "C".into(),
                target_path: "/r/Q/C/".into(),
                version: 2,
                path: "/r/P/G/B/".into(),
                plan_id: "plan".into(),
            }),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0], [0, 2, 1], [2, 0, 1]] {
            let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
            crate::db::migrate::<TestMigrator>(&db).await.unwrap();
            for e in &setup {
                apply(&db, e, &[]).await.unwrap();
            }
            for i in order {
                apply(&db, &changes[i], &[]).await.unwrap();
                apply(&db, &changes[i], &[]).await.unwrap(); // redelivered
            }
            let path = |id: &'static str| {
                let db = db.clone();
                async move { unit::Entity::find_by_id(id).one(&db).await.unwrap().unwrap().path }
            };
            assert_eq!(path("D").await, "/r/Q/D/", "{order:?}");
            assert_eq!(path("G").await, "/r/P/G/", "{order:?}");
            assert_eq!(path("B").await, "/r/P/G/B/", "{order:?}");
            let b = unit::Entity::find_by_id("B").one(&db).await.unwrap().unwrap();
            assert_eq!((b.status, b.merged_into.as_str()), (2, "C"), "{order:?}");
            let m = member::Entity::find_by_id("m").one(&db).await.unwrap().unwrap();
            assert_eq!((m.unit_id.as_str(), m.unit_path.as_str()), ("C", "/r/Q/C/"), "{order:?}");
        }
        // A member admitted to a merged unit, learnt of late, lands in the target.
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate::<TestMigrator>(&db).await.unwrap();
        for e in setup.iter().take(7).chain(changes.iter()).chain(setup.iter().skip(7)) {
            apply(&db, e, &[]).await.unwrap();
        }
        let m = member::Entity::find_by_id("m").one(&db).await.unwrap().unwrap();
        assert_eq!(m.unit_id, "C");
    }
}
