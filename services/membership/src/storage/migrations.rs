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
        all.push(Box::new(TreeChanges));
        all.push(Box::new(Lifecycle));
        all.push(Box::new(SearchKeys));
        all.push(Box::new(Transfers));
        all.push(Box::new(RecordsAndApplications));
        all.push(Box::new(ApplicationDocuments));
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

/// The tree changes safely: unit status (merged, dissolved), holding units, the history of
/// every unit and of every member's placements, reorganisation plans and clusters; prefix
/// indexes for subtree scans on PostgreSQL.
struct TreeChanges;

impl MigrationName for TreeChanges {
    fn name(&self) -> &str {
        "m0004_membership_tree_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TreeChanges {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            integer("status").default(1).to_owned(),
            string_null("merged_into").to_owned(),
            boolean("holding").default(false).to_owned(),
            string_null("holding_parent").to_owned(),
        ] {
            m.alter_table(Table::alter().table("units").add_column(col).to_owned()).await?;
        }
        // One holding unit per parent: the column is the parent's id for holding units only.
        m.create_index(
            Index::create()
                .name("units_one_holding")
                .table("units")
                .col("holding_parent")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("unit_changes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("unit_id"))
                .col(integer("kind"))
                .col(date("effective_on"))
                .col(string("old_parent_id").default(""))
                .col(string("new_parent_id").default(""))
                .col(string("old_name").default(""))
                .col(string("new_name").default(""))
                .col(string("other_unit_id").default(""))
                .col(string("plan_id").default(""))
                .col(timestamp_with_time_zone("recorded_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("unit_changes_unit").table("unit_changes").col("unit_id").if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("member_placements")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("member_id"))
                .col(string("unit_id"))
                .col(date("from_on"))
                .col(date_null("until_on"))
                .col(string("reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("member_placements_member")
                .table("member_placements")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reorg_plans")
                .if_not_exists()
                .col(string("plan_id").primary_key())
                .col(string("unit_id"))
                .col(string("title"))
                .col(date("effective_on"))
                .col(integer("state"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(integer("steps_total"))
                .col(integer("steps_done").default(0))
                .col(big_integer("members_total").default(0))
                .col(big_integer("members_done").default(0))
                .col(string_null("runner"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reorg_steps")
                .if_not_exists()
                .col(string("plan_id"))
                .col(integer("idx"))
                .col(integer("kind"))
                .col(string("unit_id"))
                .col(string("target_unit_id"))
                .col(string("new_name"))
                .col(integer("state"))
                .col(string("error").default(""))
                .col(string("phase").default(""))
                .primary_key(Index::create().col("plan_id").col("idx"))
                .to_owned(),
        )
        .await?;
        // The path rewrites a step's member phase still has to carry out (idempotent).
        m.create_table(
            Table::create()
                .table("reorg_rewrites")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("plan_id"))
                .col(integer("idx"))
                .col(text("old_path"))
                .col(text("new_path"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("clusters")
                .if_not_exists()
                .col(string("cluster_id").primary_key())
                .col(string("unit_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("clusters_owner_name")
                .table("clusters")
                .col("unit_id")
                .col("name")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cluster_units")
                .if_not_exists()
                .col(string("cluster_id"))
                .col(string("unit_id"))
                .primary_key(Index::create().col("cluster_id").col("unit_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("cluster_units_unit").table("cluster_units").col("unit_id").if_not_exists().to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        // History begins with what is already there.
        let created_on = if postgres {
            "(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
        } else {
            "date(created_at, '+7 hours')"
        };
        db.execute_unprepared(&format!(
            "INSERT INTO unit_changes (unit_id, kind, effective_on, new_parent_id, new_name, recorded_at) \
             SELECT unit_id, 1, {created_on}, COALESCE(parent_id, ''), name, created_at FROM units"
        ))
        .await?;
        db.execute_unprepared(
            "INSERT INTO member_placements (member_id, unit_id, from_on, reason) \
             SELECT member_id, unit_id, admitted_on, 'admission' FROM members",
        )
        .await?;
        if postgres {
            // LIKE 'prefix%' uses an index only with the pattern operator class.
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS units_path_prefix ON units (path text_pattern_ops); \
                 CREATE INDEX IF NOT EXISTS members_path_prefix ON members (unit_path text_pattern_ops)",
            )
            .await?;
        } else {
            m.create_index(
                Index::create().name("units_path_prefix").table("units").col("path").if_not_exists().to_owned(),
            )
            .await?;
        }
        m.create_index(Index::create().name("members_unit").table("members").col("unit_id").if_not_exists().to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "cluster_units",
            "clusters",
            "reorg_rewrites",
            "reorg_steps",
            "reorg_plans",
            "member_placements",
            "unit_changes",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("units_one_holding").table("units").to_owned()).await?;
        for c in ["holding_parent", "holding", "merged_into", "status"] {
            m.alter_table(Table::alter().table("units").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}

/// A member's whole life: officers' positions per unit and term (every existing officer gets
/// an open executive-committee position in their unit), status changes and Party admission on
/// the member, disciplinary records, monthly age-out proposals, and per-unit counters for live
/// statistics (filled from the members already there; the ethnicity groups by a pass that can
/// decrypt). Each counter is split in shards, so that admissions to one busy branch do not
/// queue on one row.
struct Lifecycle;

impl MigrationName for Lifecycle {
    fn name(&self) -> &str {
        "m0005_membership_lifecycle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Lifecycle {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("positions")
                .if_not_exists()
                .col(string("position_id").primary_key())
                .col(string("unit_id"))
                .col(string("account_id"))
                .col(string_null("member_id"))
                .col(integer("kind"))
                .col(string("term").default(""))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .col(date_null("ended_on"))
                .col(string("end_reason").default(""))
                .col(string("assigned_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        for (name, col) in
            [("positions_account", "account_id"), ("positions_unit", "unit_id"), ("positions_member", "member_id")]
        {
            m.create_index(Index::create().name(name).table("positions").col(col).if_not_exists().to_owned()).await?;
        }
        for col in [
            date_null("party_admitted_on").to_owned(),
            string("party_decision").default("").to_owned(),
            date_null("status_changed_on").to_owned(),
            string("status_reason").default("").to_owned(),
        ] {
            m.alter_table(Table::alter().table("members").add_column(col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table("disciplinary_records")
                .if_not_exists()
                .col(string("record_id").primary_key())
                .col(string("member_id"))
                .col(integer("kind"))
                .col(string("decision_number"))
                .col(date("decided_on"))
                .col(string("signer"))
                .col(string("reason"))
                .col(string("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("disciplinary_member")
                .table("disciplinary_records")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("age_out_proposals")
                .if_not_exists()
                .col(string("month"))
                .col(string("member_id"))
                .col(big_integer("seq"))
                .col(date("thirtieth_birthday"))
                .col(integer("state"))
                .col(string("note").default(""))
                .col(string("decided_by").default(""))
                .primary_key(Index::create().col("month").col("member_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("members_birth").table("members").col("date_of_birth").if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("unit_counters")
                .if_not_exists()
                .col(string("unit_id"))
                .col(string("metric"))
                .col(string("key"))
                .col(integer("shard").default(0))
                .col(big_integer("count"))
                .primary_key(Index::create().col("unit_id").col("metric").col("key").col("shard"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        let (created_on, year_of) = if postgres {
            ("(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date", "CAST(EXTRACT(YEAR FROM {}) AS INTEGER)")
        } else {
            ("date(created_at, '+7 hours')", "CAST(strftime('%Y', {}) AS INTEGER)")
        };
        let year = |col: &str| year_of.replace("{}", col);
        db.execute_unprepared(&format!(
            "INSERT INTO positions (position_id, unit_id, account_id, kind, starts_on, assigned_by, created_at) \
             SELECT account_id, unit_id, account_id, 4, {created_on}, 'migration', created_at FROM accounts \
             WHERE role = 'officer' AND unit_id IS NOT NULL"
        ))
        .await?;
        db.execute_unprepared("UPDATE members SET status_changed_on = admitted_on WHERE status_changed_on IS NULL")
            .await?;
        for (metric, key, filter) in [
            ("status", "CAST(status AS TEXT)".to_string(), "1 = 1"),
            ("sex", "CAST(sex AS TEXT)".to_string(), "status = 1"),
            ("birth_year", format!("CAST({} AS TEXT)", year("date_of_birth")), "status = 1"),
            ("admitted", format!("CAST({} AS TEXT)", year("admitted_on")), "1 = 1"),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO unit_counters (unit_id, metric, key, count) \
                 SELECT unit_id, '{metric}', {key}, COUNT(*) FROM members WHERE {filter} GROUP BY unit_id, {key}"
            ))
            .await?;
        }
        // Ethnicity is encrypted: the service counts the groups of the rows up to here once,
        // before it serves (`backfill_statistics`).
        db.execute_unprepared(
            "INSERT INTO unit_counters (unit_id, metric, key, count) \
             SELECT '', 'meta', 'ethnicity_cutoff', COALESCE(MAX(seq), 0) FROM members",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["unit_counters", "age_out_proposals", "disciplinary_records", "positions"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for c in ["status_reason", "status_changed_on", "party_decision", "party_admitted_on"] {
            m.alter_table(Table::alter().table("members").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}

/// Search keys: the name without diacritics (`name_key`, for search and duplicate detection)
/// and a keyed blind index of the phone; both filled for earlier members by the service
/// before it serves (the phone is encrypted, and SQL cannot strip diacritics portably).
struct SearchKeys;

impl MigrationName for SearchKeys {
    fn name(&self) -> &str {
        "m0006_membership_search_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SearchKeys {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [string("name_key").default("").to_owned(), string("phone_index").default("").to_owned()] {
            m.alter_table(Table::alter().table("members").add_column(col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("members_name_birth")
                .table("members")
                .col("name_key")
                .col("date_of_birth")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("members_phone").table("members").col("phone_index").if_not_exists().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in ["phone_index", "name_key"] {
            m.alter_table(Table::alter().table("members").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}

/// Transfers (chuyển sinh hoạt): one request, one item per member.
struct Transfers;

impl MigrationName for Transfers {
    fn name(&self) -> &str {
        "m0007_membership_transfers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Transfers {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("transfers")
                .if_not_exists()
                .col(string("transfer_id").primary_key())
                .col(string_null("to_unit_id"))
                .col(integer("external"))
                .col(string("external_name"))
                .col(string("reason"))
                .col(string("initiated_by"))
                .col(string("requested_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("transfers_to").table("transfers").col("to_unit_id").if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("transfer_items")
                .if_not_exists()
                .col(string("transfer_id"))
                .col(string("member_id"))
                .col(string("from_unit_id"))
                .col(integer("state"))
                .col(string("dues_paid_until").default(""))
                .col(string("sender_comment").default(""))
                .col(string("placed_unit_id").default(""))
                .col(string("refusal_reason").default(""))
                .col(string("decided_by").default(""))
                .primary_key(Index::create().col("transfer_id").col("member_id"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [("transfer_items_member", "member_id"), ("transfer_items_from", "from_unit_id")] {
            m.create_index(Index::create().name(name).table("transfer_items").col(col).if_not_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["transfer_items", "transfers"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// The full member record (hometown, residence, levels, occupation), its versioned change
/// history, and applications to join with guardian consent.
struct RecordsAndApplications;

impl MigrationName for RecordsAndApplications {
    fn name(&self) -> &str {
        "m0008_membership_records_and_applications"
    }
}

/// The profile columns of `members`, all text but the issue date.
pub const PROFILE_TEXT: [&str; 9] = [
    "hometown",
    "residence",
    "citizen_id_issued_place",
    "education_level",
    "professional_level",
    "political_theory_level",
    "it_level",
    "language_level",
    "occupation",
];

#[async_trait::async_trait]
impl MigrationTrait for RecordsAndApplications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in PROFILE_TEXT {
            m.alter_table(Table::alter().table("members").add_column(string(col).default("")).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("members").add_column(date_null("citizen_id_issued_on")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("member_changes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("member_id"))
                .col(big_integer("version"))
                .col(string("field"))
                .col(text("before_value"))
                .col(text("after_value"))
                .col(boolean("personal"))
                .col(string("changed_by"))
                .col(timestamp_with_time_zone("changed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("member_changes_member")
                .table("member_changes")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("applications")
                .if_not_exists()
                .col(string("application_id").primary_key())
                .col(string("unit_id"))
                .col(integer("state"))
                .col(string("full_name"))
                .col(date("date_of_birth"))
                .col(integer("sex"))
                .col(text("ethnicity_enc"))
                .col(text("religion_enc"))
                .col(text("citizen_id_enc"))
                .col(string("citizen_id_index"))
                .col(text("phone_enc"))
                .col(text("email_enc"))
                .col(boolean("is_child"))
                .col(string("guardian_name").default(""))
                .col(string("guardian_relation").default(""))
                .col(date_null("guardian_consented_on"))
                .col(string("guardian_document").default(""))
                .col(string("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(text("proposal_note").default(""))
                .col(string("proposed_by").default(""))
                .col(string("resolution_number").default(""))
                .col(date_null("resolution_date"))
                .col(string("signer").default(""))
                .col(string("rejection_reason").default(""))
                .col(string("decided_by").default(""))
                .col(string("member_id").default(""))
                .to_owned(),
        )
        .await?;
        for (name, col) in [("applications_unit", "unit_id"), ("applications_citizen", "citizen_id_index")] {
            m.create_index(Index::create().name(name).table("applications").col(col).if_not_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["applications", "member_changes"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for col in PROFILE_TEXT.iter().chain(["citizen_id_issued_on"].iter()) {
            m.alter_table(Table::alter().table("members").drop_column(*col).to_owned()).await?;
        }
        Ok(())
    }
}

/// The documents an application holds (`kind<TAB>reference` lines).
struct ApplicationDocuments;

impl MigrationName for ApplicationDocuments {
    fn name(&self) -> &str {
        "m0009_membership_application_documents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ApplicationDocuments {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("applications").add_column(text("documents").default("")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("applications").drop_column("documents").to_owned()).await
    }
}
