//! Membership migrations: the platform's tables, then ours.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The membership database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = doan_platform::inbox::platform_migrations();
        all.push(Box::new(CreateMembership));
        all.push(Box::new(EntityVersions));
        all.push(Box::new(RulesAndAudit));
        all
    }
}

struct CreateMembership;

impl MigrationName for CreateMembership {
    fn name(&self) -> &str {
        "m0001_membership"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateMembership {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("units")
                .if_not_exists()
                .col(string("unit_id").primary_key())
                .col(string_null("parent_id"))
                .col(string("name"))
                .col(integer("level"))
                .col(text("path"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("units_parent").table("units").col("parent_id").if_not_exists().to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("accounts")
                .if_not_exists()
                .col(string("account_id").primary_key())
                .col(string_uniq("username"))
                .col(string("password_hash"))
                .col(string("role"))
                .col(string_null("unit_id"))
                .col(string_null("member_id").unique_key())
                .col(string("full_name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("members")
                .if_not_exists()
                .col(big_pk_auto("seq"))
                .col(string_uniq("member_id"))
                .col(string("full_name"))
                .col(date("date_of_birth"))
                .col(integer("sex"))
                .col(text("ethnicity_enc"))
                .col(text("religion_enc"))
                .col(text("citizen_id_enc"))
                .col(string_uniq("citizen_id_index"))
                .col(text("phone_enc"))
                .col(string("email"))
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(date("admitted_on"))
                .col(string("resolution_number"))
                .col(integer("status"))
                .col(boolean("guardian_consent"))
                .col(string("admitted_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        // Subtree listing: path prefix, in member-number order.
        m.create_index(
            Index::create()
                .name("members_unit_path")
                .table("members")
                .col("unit_path")
                .col("seq")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pii_access_log")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("accessor_account_id"))
                .col(string("member_id"))
                .col(string("purpose"))
                .col(timestamp_with_time_zone("accessed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("pii_access_member")
                .table("pii_access_log")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["pii_access_log", "members", "accounts", "units"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// Entity versions of units and members, carried by their events.
struct EntityVersions;

impl MigrationName for EntityVersions {
    fn name(&self) -> &str {
        "m0002_membership_entity_versions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for EntityVersions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["units", "members"] {
            m.alter_table(Table::alter().table(t).add_column(big_integer("version").default(1)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["units", "members"] {
            m.alter_table(Table::alter().table(t).drop_column("version").to_owned()).await?;
        }
        Ok(())
    }
}

/// The admission rule a member was admitted by, the RPC of each personal-data access, one
/// root unit at most (a unique index, not a count), and failed logins per username.
struct RulesAndAudit;

impl MigrationName for RulesAndAudit {
    fn name(&self) -> &str {
        "m0003_membership_rules_and_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RulesAndAudit {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("members").add_column(string("admission_rule").default("")).to_owned())
            .await?;
        m.alter_table(Table::alter().table("pii_access_log").add_column(string("rpc").default("GetMember")).to_owned())
            .await?;
        m.alter_table(Table::alter().table("units").add_column(boolean_null("is_root")).to_owned()).await?;
        m.get_connection().execute_unprepared("UPDATE units SET is_root = TRUE WHERE parent_id IS NULL").await?;
        m.create_index(
            Index::create().name("units_one_root").table("units").col("is_root").unique().if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("login_throttle")
                .if_not_exists()
                .col(string("username").primary_key())
                .col(timestamp_with_time_zone("window_start"))
                .col(integer("failures"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("login_throttle").to_owned()).await?;
        m.drop_index(Index::drop().name("units_one_root").table("units").to_owned()).await?;
        m.alter_table(Table::alter().table("units").drop_column("is_root").to_owned()).await?;
        m.alter_table(Table::alter().table("pii_access_log").drop_column("rpc").to_owned()).await?;
        m.alter_table(Table::alter().table("members").drop_column("admission_rule").to_owned()).await
    }
}
