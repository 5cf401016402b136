//! The directory: a consuming service's own read model of the unit tree and of members,
//! fed by `UnitCreated` and `MemberAdmitted`. Activities and awards keep one each, so scope
//! checks never call membership. The model lags membership by the event delay; lookups of a
//! unit or member not yet seen answer NOT_FOUND with a hint to retry.

use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted, UnitCreated};
use sea_orm::sea_query::{OnConflict, Table};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
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
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The event types the directory consumes.
pub const EVENT_TYPES: [&str; 2] = [UnitCreated::EVENT_TYPE, MemberAdmitted::EVENT_TYPE];

/// An event's entity version (0 from older producers counts as 1).
fn version(v: u64) -> i64 {
    Ord::min(Ord::max(v, 1), i64::MAX as u64) as i64
}

/// Only rows older than the incoming event are overwritten.
fn newer_than_stored(table: &str) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(format!("{table}.version < excluded.version"))
}

/// Applies a directory event inside the handler's transaction. Returns false when the
/// event is not a directory event. Versioned upserts: an event older than (or as old as)
/// the row does nothing, so late, repeated and reordered events converge on the newest.
pub async fn apply(txn: &impl ConnectionTrait, envelope: &EventEnvelope) -> Result<bool, HandlerError> {
    match envelope.event_type.as_str() {
        UnitCreated::EVENT_TYPE => {
            let e: UnitCreated = decode_payload(envelope)?;
            let row = unit::ActiveModel {
                unit_id: Set(e.unit_id),
                parent_id: Set(e.parent_id),
                name: Set(e.name),
                level: Set(e.level),
                path: Set(e.path),
                version: Set(version(e.version)),
            };
            unit::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(unit::Column::UnitId)
                        .update_columns([
                            unit::Column::ParentId,
                            unit::Column::Name,
                            unit::Column::Level,
                            unit::Column::Path,
                            unit::Column::Version,
                        ])
                        .action_and_where(newer_than_stored("directory_units"))
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            Ok(true)
        }
        MemberAdmitted::EVENT_TYPE => {
            let e: MemberAdmitted = decode_payload(envelope)?;
            let row = member::ActiveModel {
                member_id: Set(e.member_id),
                member_number: Set(e.member_number),
                full_name: Set(e.full_name),
                unit_id: Set(e.unit_id),
                unit_path: Set(e.unit_path),
                version: Set(version(e.version)),
            };
            member::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(member::Column::MemberId)
                        .update_columns([
                            member::Column::MemberNumber,
                            member::Column::FullName,
                            member::Column::UnitId,
                            member::Column::UnitPath,
                            member::Column::Version,
                        ])
                        .action_and_where(newer_than_stored("directory_members"))
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
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
    vec![Box::new(CreateDirectory), Box::new(VersionDirectory)]
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
    use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted, UnitCreated};
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
        apply(&db, &envelope(&unit("renamed", 2))).await.unwrap();
        apply(&db, &envelope(&unit("original", 1))).await.unwrap(); // late
        apply(&db, &envelope(&unit("original", 0))).await.unwrap(); // old producer: 1
        let row = unit::Entity::find_by_id("u").one(&db).await.unwrap().unwrap();
        assert_eq!((row.name.as_str(), row.version), ("renamed", 2));
        apply(&db, &envelope(&unit("renamed again", 3))).await.unwrap();
        let row = unit::Entity::find_by_id("u").one(&db).await.unwrap().unwrap();
        assert_eq!((row.name.as_str(), row.version), ("renamed again", 3));

        let member = |unit_id: &str, version| MemberAdmitted {
            member_id: "m".into(),
            unit_id: unit_id.into(),
            unit_path: format!("/{unit_id}/"),
            version,
            ..Default::default()
        };
        apply(&db, &envelope(&member("b2", 2))).await.unwrap();
        apply(&db, &envelope(&member("b1", 1))).await.unwrap();
        apply(&db, &envelope(&member("b2", 2))).await.unwrap(); // repeated
        let row = member::Entity::find_by_id("m").one(&db).await.unwrap().unwrap();
        assert_eq!((row.unit_id.as_str(), row.version), ("b2", 2));
    }
}
