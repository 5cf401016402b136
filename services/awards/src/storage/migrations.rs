//! Awards migrations: the platform's tables, the directory, then ours.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The awards database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = doan_platform::inbox::platform_migrations();
        all.extend(doan_platform::directory::migrations());
        all.push(Box::new(CreateAwards));
        all.push(Box::new(AwardRuleVersion));
        all.push(Box::new(Ratings));
        all.push(Box::new(Achievements));
        all
    }
}

struct CreateAwards;

impl MigrationName for CreateAwards {
    fn name(&self) -> &str {
        "m0001_awards"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAwards {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("award_decisions")
                .if_not_exists()
                .col(string("decision_id").primary_key())
                .col(string("decision_number"))
                .col(date("decision_date"))
                .col(string("issuing_unit_id"))
                .col(text("issuing_unit_path"))
                .col(integer("form"))
                .col(string("signer"))
                .col(text("content"))
                .col(string("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("award_decisions_number")
                .table("award_decisions")
                .col("issuing_unit_id")
                .col("decision_number")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("award_recipients")
                .if_not_exists()
                .col(string("decision_id"))
                .col(integer("position"))
                .col(string_null("member_id"))
                .col(string_null("unit_id"))
                .primary_key(Index::create().col("decision_id").col("position"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("standings")
                .if_not_exists()
                .col(string("member_id"))
                .col(integer("year"))
                .col(big_integer("points"))
                .col(big_integer("participations"))
                .primary_key(Index::create().col("member_id").col("year"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["standings", "award_recipients", "award_decisions"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// The award rule version each decision was checked by.
struct AwardRuleVersion;

impl MigrationName for AwardRuleVersion {
    fn name(&self) -> &str {
        "m0002_awards_rule_version"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AwardRuleVersion {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("award_decisions").add_column(string("award_rule").default("")).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("award_decisions").drop_column("award_rule").to_owned()).await
    }
}

/// Yearly ratings of members and units reported by membership (`MemberRated`, `UnitRated`):
/// evidence for emulation and nominations.
struct Ratings;

impl MigrationName for Ratings {
    fn name(&self) -> &str {
        "m0003_awards_ratings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Ratings {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("ratings")
                .if_not_exists()
                .col(string("subject_id"))
                .col(string("period_id"))
                .col(boolean("unit"))
                .col(integer("year"))
                .col(integer("rating"))
                .primary_key(Index::create().col("subject_id").col("period_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ratings_subject_year")
                .table("ratings")
                .col("subject_id")
                .col("year")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("ratings").to_owned()).await
    }
}

/// Achievements reported by activities (projects inaugurated, targets met, ideas adopted).
struct Achievements;

impl MigrationName for Achievements {
    fn name(&self) -> &str {
        "m0004_achievements"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Achievements {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("achievements")
                .if_not_exists()
                .col(string("achievement_id").primary_key())
                .col(string("kind"))
                .col(string("subject_id"))
                .col(boolean("unit"))
                .col(integer("year"))
                .col(text("title"))
                .col(big_integer("value"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("achievements_subject")
                .table("achievements")
                .col("subject_id")
                .col("year")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("achievements").to_owned()).await
    }
}
