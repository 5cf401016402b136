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
        all.push(Box::new(Catalogue));
        all.push(Box::new(Scoring));
        all.push(Box::new(Nominations));
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

/// The catalogue and credentials: kinds, clusters, revocation, issuer keys, status lists.
struct Catalogue;

impl MigrationName for Catalogue {
    fn name(&self) -> &str {
        "m0005_awards_catalogue_credentials"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Catalogue {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column a statement.
        for col in [
            string("kind").default("").to_owned(),
            integer("issuing_level").default(0).to_owned(),
            string("ceremony_date").default("").to_owned(),
        ] {
            m.alter_table(Table::alter().table("award_decisions").add_column(col).to_owned()).await?;
        }
        for col in [
            string("award_id").default("").to_owned(),
            string_null("cluster_id").to_owned(),
            string("recipient_name").default("").to_owned(),
            text("recipient_path").default("").to_owned(),
            integer("status").default(1).to_owned(),
            timestamp_with_time_zone_null("revoked_at").to_owned(),
            text("revocation_reason").default("").to_owned(),
            text("revocation_legal_basis").default("").to_owned(),
            string("status_list_id").default("").to_owned(),
            big_integer("status_index").default(0).to_owned(),
            text("credential").default("").to_owned(),
        ] {
            m.alter_table(Table::alter().table("award_recipients").add_column(col).to_owned()).await?;
        }
        // Decisions recorded before: their form's own kind, and an id for each award.
        let db = m.get_connection();
        for (form, kind) in [(1, "emulation_flag"), (2, "certificate_of_merit"), (3, "certificate_of_commendation")] {
            db.execute_unprepared(&format!(
                "UPDATE award_decisions SET kind = '{kind}' WHERE form = {form} AND kind = ''"
            ))
            .await?;
        }
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT decision_id, position FROM award_recipients WHERE award_id = ''",
            ))
            .await?;
        for row in rows {
            let decision_id: String = row.try_get("", "decision_id")?;
            let position: i32 = row.try_get("", "position")?;
            db.execute_raw(sea_orm::Statement::from_sql_and_values(
                db.get_database_backend(),
                match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        "UPDATE award_recipients SET award_id = $1 WHERE decision_id = $2 AND position = $3"
                    }
                    _ => "UPDATE award_recipients SET award_id = ? WHERE decision_id = ? AND position = ?",
                },
                [doan_platform::convert::new_id().into(), decision_id.into(), position.into()],
            ))
            .await?;
        }
        for (name, cols, unique) in [
            ("award_recipients_award", &["award_id"][..], true),
            ("award_recipients_member", &["member_id"][..], false),
            ("award_recipients_unit", &["unit_id"][..], false),
            ("award_recipients_path", &["recipient_path"][..], false),
            ("award_decisions_path", &["issuing_unit_path"][..], false),
        ] {
            let table = if name.starts_with("award_decisions") { "award_decisions" } else { "award_recipients" };
            let mut index = Index::create().name(name).table(table).if_not_exists().to_owned();
            for c in cols {
                index.col(*c);
            }
            if unique {
                index.unique();
            }
            m.create_index(index).await?;
        }
        m.create_table(
            Table::create()
                .table("once_awards")
                .if_not_exists()
                .col(string("kind"))
                .col(string("member_id"))
                .col(string("award_id"))
                .primary_key(Index::create().col("kind").col("member_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("award_clusters")
                .if_not_exists()
                .col(string("cluster_id").primary_key())
                .col(string("owner_unit_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("changed_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("issuer_keys")
                .if_not_exists()
                .col(string("unit_id"))
                .col(string("key_id"))
                .col(string("public_key"))
                .col(text("secret"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("unit_id").col("key_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("status_lists")
                .if_not_exists()
                .col(string("list_id").primary_key())
                .col(string("unit_id"))
                .col(big_integer("next_index"))
                .col(blob("bits"))
                .col(text("credential"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("status_lists_unit").table("status_lists").col("unit_id").if_not_exists().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["status_lists", "issuer_keys", "award_clusters", "once_awards"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

/// Emulation scoring: facts, units' own weights, clusters' units.
struct Scoring;

impl MigrationName for Scoring {
    fn name(&self) -> &str {
        "m0006_awards_scoring"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Scoring {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("score_facts")
                .if_not_exists()
                .col(string("fact_id").primary_key())
                .col(string("subject_id"))
                .col(boolean("unit"))
                .col(integer("year"))
                .col(integer("month"))
                .col(integer("kind"))
                .col(big_integer("quantity"))
                .col(boolean("approved"))
                .col(text("title"))
                .col(string("occurred_on"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("score_facts_subject_year")
                .table("score_facts")
                .col("subject_id")
                .col("year")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("scoring_rules")
                .if_not_exists()
                .col(string("unit_id"))
                .col(integer("year"))
                .col(text("weights"))
                .col(string("set_by"))
                .col(timestamp_with_time_zone("set_at"))
                .primary_key(Index::create().col("unit_id").col("year"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("award_cluster_units")
                .if_not_exists()
                .col(string("cluster_id"))
                .col(string("unit_id"))
                .primary_key(Index::create().col("cluster_id").col("unit_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["award_cluster_units", "scoring_rules", "score_facts"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

/// Nominations, their candidates and the council's reviews.
struct Nominations;

impl MigrationName for Nominations {
    fn name(&self) -> &str {
        "m0007_awards_nominations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Nominations {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("nominations")
                .if_not_exists()
                .col(string("nomination_id").primary_key())
                .col(string("proposing_unit_id"))
                .col(text("proposing_path"))
                .col(string("issuing_unit_id"))
                .col(text("issuing_path"))
                .col(string("kind"))
                .col(integer("year"))
                .col(text("title"))
                .col(integer("status"))
                .col(text("outcome_note"))
                .col(string("decision_id"))
                .col(string("proposed_by"))
                .col(timestamp_with_time_zone("proposed_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [("nominations_proposing", "proposing_path"), ("nominations_issuing", "issuing_path")] {
            m.create_index(Index::create().name(name).table("nominations").col(col).if_not_exists().to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table("nomination_candidates")
                .if_not_exists()
                .col(string("nomination_id"))
                .col(integer("position"))
                .col(string_null("member_id"))
                .col(string_null("unit_id"))
                .col(string_null("cluster_id"))
                .col(string("name"))
                .col(text("achievements"))
                .col(big_integer("points"))
                .col(integer("rating"))
                .col(integer("prior_awards"))
                .col(boolean("approved"))
                .primary_key(Index::create().col("nomination_id").col("position"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("nomination_reviews")
                .if_not_exists()
                .col(string("nomination_id"))
                .col(string("reviewer"))
                .col(string("reviewer_name"))
                .col(integer("vote"))
                .col(text("comment"))
                .col(timestamp_with_time_zone("reviewed_at"))
                .primary_key(Index::create().col("nomination_id").col("reviewer"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["nomination_reviews", "nomination_candidates", "nominations"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
