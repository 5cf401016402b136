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
        all.push(Box::new(TheYear));
        all.push(Box::new(Bulk));
        all.push(Box::new(NameSearch));
        all.push(Box::new(KnownLoginAddresses));
        all.push(Box::new(Anonymised));
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

/// The Union's year: dues (payments, months covered, exemptions, remittances), the training
/// programme, evaluation periods and ratings, Party introductions, the evidence read models
/// fed by activities' and awards' events, and reminders sent.
struct TheYear;

impl MigrationName for TheYear {
    fn name(&self) -> &str {
        "m0010_membership_the_year"
    }
}

/// The tables of [`TheYear`], in creation order.
const YEAR_TABLES: [&str; 15] = [
    "dues_payments",
    "dues_months",
    "dues_exemptions",
    "remittances",
    "training_programmes",
    "training_criteria",
    "training_registrations",
    "training_evidence",
    "training_verdicts",
    "member_participations",
    "member_awards",
    "evaluation_periods",
    "member_ratings",
    "unit_ratings",
    "party_introductions",
];

#[async_trait::async_trait]
impl MigrationTrait for TheYear {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("members").add_column(integer("dues_category").default(3)).to_owned())
            .await?;
        let tables = [
            Table::create()
                .table("dues_payments")
                .if_not_exists()
                .col(string("payment_id").primary_key())
                .col(string("member_id"))
                .col(string("unit_id"))
                .col(string("first_month"))
                .col(integer("months"))
                .col(big_integer("amount_vnd"))
                .col(integer("method"))
                .col(string("reference"))
                .col(integer("state"))
                .col(date("paid_on"))
                .col(string("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(string("decided_by").default(""))
                .col(string("reject_reason").default(""))
                .col(string_null("remittance_id"))
                .col(string("rule_id"))
                .col(integer("category"))
                .to_owned(),
            Table::create()
                .table("dues_months")
                .if_not_exists()
                .col(string("member_id"))
                .col(string("month"))
                .col(integer("state"))
                .col(big_integer("amount_vnd"))
                .col(string("unit_id"))
                .col(string("payment_id").default(""))
                .col(string("exemption_id").default(""))
                .primary_key(Index::create().col("member_id").col("month"))
                .to_owned(),
            Table::create()
                .table("dues_exemptions")
                .if_not_exists()
                .col(string("exemption_id").primary_key())
                .col(string("member_id"))
                .col(string("first_month"))
                .col(integer("months"))
                .col(string("reason"))
                .col(string("granted_by"))
                .col(timestamp_with_time_zone("granted_at"))
                .to_owned(),
            Table::create()
                .table("remittances")
                .if_not_exists()
                .col(string("remittance_id").primary_key())
                .col(string("from_unit_id"))
                .col(string("to_unit_id"))
                .col(string("period"))
                .col(big_integer("collected_vnd"))
                .col(big_integer("received_vnd"))
                .col(big_integer("pool_vnd"))
                .col(big_integer("kept_vnd"))
                .col(big_integer("amount_vnd"))
                .col(integer("state"))
                .col(date("due_on"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("confirmed_by").default(""))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(string("rule_id"))
                .col(string_null("forwarded_in"))
                .to_owned(),
            Table::create()
                .table("training_programmes")
                .if_not_exists()
                .col(string("programme_id").primary_key())
                .col(string("unit_id"))
                .col(integer("year"))
                .col(string("title"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("training_criteria")
                .if_not_exists()
                .col(string("criterion_id").primary_key())
                .col(string("programme_id"))
                .col(integer("position"))
                .col(string("title"))
                .col(text("description"))
                .col(integer("kind"))
                .col(integer("target"))
                .col(boolean("required"))
                .to_owned(),
            Table::create()
                .table("training_registrations")
                .if_not_exists()
                .col(string("member_id"))
                .col(integer("year"))
                .col(string("programme_id"))
                .col(integer("state"))
                .col(text("self_assessment").default(""))
                .col(integer("result").default(0))
                .col(text("comment").default(""))
                .col(string("registered_by"))
                .col(timestamp_with_time_zone("registered_at"))
                .col(string("evaluated_by").default(""))
                .col(timestamp_with_time_zone_null("evaluated_at"))
                .primary_key(Index::create().col("member_id").col("year"))
                .to_owned(),
            Table::create()
                .table("training_evidence")
                .if_not_exists()
                .col(string("evidence_id").primary_key())
                .col(string("member_id"))
                .col(integer("year"))
                .col(string("criterion_id"))
                .col(integer("kind"))
                .col(string("participation_id").default(""))
                .col(string("activity_title").default(""))
                .col(string("reference").default(""))
                .col(string("description").default(""))
                .col(string("added_by"))
                .col(timestamp_with_time_zone("added_at"))
                .to_owned(),
            Table::create()
                .table("training_verdicts")
                .if_not_exists()
                .col(string("member_id"))
                .col(integer("year"))
                .col(string("criterion_id"))
                .col(boolean("met"))
                .col(string("officer_note"))
                .primary_key(Index::create().col("member_id").col("year").col("criterion_id"))
                .to_owned(),
            Table::create()
                .table("member_participations")
                .if_not_exists()
                .col(string("participation_id").primary_key())
                .col(string("member_id"))
                .col(string("activity_id"))
                .col(string("activity_title"))
                .col(timestamp_with_time_zone("checked_in_at"))
                .col(date("on_day"))
                .col(integer("minutes"))
                .to_owned(),
            Table::create()
                .table("member_awards")
                .if_not_exists()
                .col(string("decision_id"))
                .col(string("member_id"))
                .col(integer("form"))
                .col(string("decision_number"))
                .col(date("decision_date"))
                .col(text("content"))
                .primary_key(Index::create().col("decision_id").col("member_id"))
                .to_owned(),
            Table::create()
                .table("evaluation_periods")
                .if_not_exists()
                .col(string("period_id").primary_key())
                .col(string("unit_id"))
                .col(integer("year"))
                .col(integer("sector"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(date("proposal_deadline"))
                .col(date("confirmation_deadline"))
                .col(string("rule_id"))
                .col(integer("excellent_max_percent"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("member_ratings")
                .if_not_exists()
                .col(string("period_id"))
                .col(string("member_id"))
                .col(string("unit_id"))
                .col(integer("rating"))
                .col(integer("state"))
                .col(string("note"))
                .col(string("proposed_by"))
                .col(timestamp_with_time_zone("proposed_at"))
                .col(string("confirmed_by").default(""))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(date("period_ends_on"))
                .col(integer("participations").default(0))
                .col(big_integer("volunteer_minutes").default(0))
                .col(integer("dues_months_due").default(0))
                .col(integer("dues_months_paid").default(0))
                .col(integer("dues_months_exempt").default(0))
                .col(integer("dues_arrears_months").default(0))
                .col(integer("training_state").default(0))
                .col(integer("training_result").default(0))
                .col(integer("awards").default(0))
                .col(integer("disciplinary_records").default(0))
                .primary_key(Index::create().col("period_id").col("member_id"))
                .to_owned(),
            Table::create()
                .table("unit_ratings")
                .if_not_exists()
                .col(string("period_id"))
                .col(string("unit_id"))
                .col(integer("rating"))
                .col(integer("members_rated"))
                .col(integer("excellent"))
                .col(integer("good"))
                .col(integer("completed"))
                .col(integer("not_completed"))
                .col(integer("targets_met"))
                .col(integer("targets_total"))
                .col(text("note"))
                .col(string("rated_by"))
                .col(timestamp_with_time_zone("rated_at"))
                .col(string("rule_id"))
                .primary_key(Index::create().col("period_id").col("unit_id"))
                .to_owned(),
            Table::create()
                .table("party_introductions")
                .if_not_exists()
                .col(string("introduction_id").primary_key())
                .col(string("unit_id"))
                .col(string("resolution_number"))
                .col(date("resolution_date"))
                .col(integer("state"))
                .col(string("party_committee").default(""))
                .col(date_null("sent_on"))
                .col(string("sent_by").default(""))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        m.create_table(
            Table::create()
                .table("party_introduction_members")
                .if_not_exists()
                .col(string("introduction_id"))
                .col(string("member_id"))
                .col(integer("rating"))
                .col(integer("rating_year"))
                .col(integer("outcome"))
                .col(date_null("admitted_on"))
                .col(string("decision_number").default(""))
                .col(string("note").default(""))
                .primary_key(Index::create().col("introduction_id").col("member_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reminders_sent")
                .if_not_exists()
                .col(string("reminder_key").primary_key())
                .col(date("sent_on"))
                .to_owned(),
        )
        .await?;
        let indexes: [(&str, &str, &[&str], bool); 14] = [
            ("dues_payments_member", "dues_payments", &["member_id"], false),
            ("dues_payments_unit", "dues_payments", &["unit_id", "remittance_id"], false),
            ("dues_months_unit", "dues_months", &["unit_id", "month"], false),
            ("dues_exemptions_member", "dues_exemptions", &["member_id"], false),
            ("remittances_period", "remittances", &["from_unit_id", "period"], true),
            ("remittances_to", "remittances", &["to_unit_id"], false),
            ("training_programmes_unit_year", "training_programmes", &["unit_id", "year"], true),
            ("training_criteria_programme", "training_criteria", &["programme_id"], false),
            ("training_evidence_member", "training_evidence", &["member_id", "year"], false),
            ("member_participations_member", "member_participations", &["member_id", "on_day"], false),
            ("member_awards_member", "member_awards", &["member_id"], false),
            ("evaluation_periods_unit_year", "evaluation_periods", &["unit_id", "year"], true),
            ("member_ratings_unit", "member_ratings", &["unit_id", "period_id"], false),
            ("party_introduction_members_member", "party_introduction_members", &["member_id"], false),
        ];
        for (name, table, cols, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table(table).if_not_exists();
            for col in cols {
                index.col(*col);
            }
            if unique {
                index.unique();
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("member_ratings_member")
                .table("member_ratings")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("party_introductions_unit")
                .table("party_introductions")
                .col("unit_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        // A participation backs a criterion once; a member is pending in one introduction at a
        // time (partial unique indexes: the same SQL on PostgreSQL and SQLite).
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS training_evidence_once ON training_evidence \
             (member_id, year, criterion_id, participation_id) WHERE participation_id <> ''",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS party_pending_once ON party_introduction_members (member_id) \
             WHERE outcome = 1",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in YEAR_TABLES.iter().rev().chain(["party_introduction_members", "reminders_sent"].iter()) {
            m.drop_table(Table::drop().table(*t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("members").drop_column("dues_category").to_owned()).await
    }
}

/// Member imports (sessions, uploaded chunks, rejected rows, event batches and their
/// acknowledgements by the read models), the import a member came from, and subtree totals
/// of the counters.
struct Bulk;

impl MigrationName for Bulk {
    fn name(&self) -> &str {
        "m0011_membership_bulk"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Bulk {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("members").add_column(string("import_id").default("")).to_owned()).await?;
        let tables = [
            Table::create()
                .table("member_imports")
                .if_not_exists()
                .col(string("import_id").primary_key())
                .col(string("unit_id"))
                .col(string("unit_path"))
                .col(string("created_by"))
                .col(string("caller_unit_id").default(""))
                .col(boolean("caller_admin"))
                .col(string("file_name"))
                .col(integer("format"))
                .col(integer("mode"))
                .col(integer("state"))
                .col(big_integer("size_bytes"))
                .col(big_integer("received_bytes"))
                .col(string("sha256").default(""))
                .col(text("header").default(""))
                .col(integer("rows_total").default(0))
                .col(integer("rows_read").default(0))
                .col(integer("rows_valid").default(0))
                .col(integer("rows_rejected").default(0))
                .col(integer("rows_present").default(0))
                .col(integer("rows_written").default(0))
                .col(integer("events_total").default(0))
                .col(text("error").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(string_null("runner"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .to_owned(),
            Table::create()
                .table("member_import_chunks")
                .if_not_exists()
                .col(string("import_id"))
                .col(big_integer("offset"))
                .col(blob("data"))
                .primary_key(Index::create().col("import_id").col("offset"))
                .to_owned(),
            Table::create()
                .table("member_import_rejects")
                .if_not_exists()
                .col(string("import_id"))
                .col(integer("line"))
                .col(text("cells"))
                .col(text("problems"))
                .primary_key(Index::create().col("import_id").col("line"))
                .to_owned(),
            Table::create()
                .table("member_import_batches")
                .if_not_exists()
                .col(string("import_id"))
                .col(integer("batch"))
                .col(string("event_id"))
                .col(integer("members"))
                .primary_key(Index::create().col("import_id").col("batch"))
                .to_owned(),
            Table::create()
                .table("member_import_acks")
                .if_not_exists()
                .col(string("import_id"))
                .col(integer("batch"))
                .col(string("service"))
                .primary_key(Index::create().col("import_id").col("batch").col("service"))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        // Subtree totals (filled at start from the units' own counters, once).
        m.create_table(
            Table::create()
                .table("subtree_counters")
                .if_not_exists()
                .col(string("unit_id"))
                .col(string("metric"))
                .col(string("key"))
                .col(integer("shard"))
                .col(big_integer("count"))
                .primary_key(Index::create().col("unit_id").col("metric").col("key").col("shard"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("member_imports_state")
                .table("member_imports")
                .col("state")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "subtree_counters",
            "member_import_acks",
            "member_import_batches",
            "member_import_rejects",
            "member_import_chunks",
            "member_imports",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("members").drop_column("import_id").to_owned()).await
    }
}

/// Name search at national size (PostgreSQL): a GIN index over each member's search tokens,
/// computed from the row by `member_search_tokens` (the same tokens as
/// `domain::member::search_tokens`): `u:<unit id>` for every unit on the member's path, every
/// word of the name key followed by a space, and every beginning of every word. A search in a
/// province asks for the province's token and the typed words at once, so the index answers
/// with the few rows that have all of them instead of every member with a common surname.
/// SQLite (small deployments) scans the subtree.
struct NameSearch;

impl MigrationName for NameSearch {
    fn name(&self) -> &str {
        "m0012_membership_name_search"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NameSearch {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION member_search_tokens(path text, name text) RETURNS text[] \
             LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ \
               SELECT coalesce(array_agg(DISTINCT t), '{}') FROM ( \
                 SELECT 'u:' || s FROM unnest(string_to_array(path, '/')) s WHERE s <> '' \
                 UNION ALL SELECT w || ' ' FROM unnest(string_to_array(name, ' ')) w WHERE w <> '' \
                 UNION ALL SELECT left(w, n) FROM unnest(string_to_array(name, ' ')) w, \
                   generate_series(1, length(w)) n \
               ) q(t) $$; \
             CREATE INDEX IF NOT EXISTS members_search ON members \
               USING gin (member_search_tokens(unit_path, name_key))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(
                "DROP INDEX IF EXISTS members_search; DROP FUNCTION IF EXISTS member_search_tokens(text, text)",
            )
            .await?;
        }
        Ok(())
    }
}

/// The client addresses each username last logged in from: a username locked by failed guesses
/// stays open to the addresses its owner used.
struct KnownLoginAddresses;

impl MigrationName for KnownLoginAddresses {
    fn name(&self) -> &str {
        "m0013_membership_known_login_addresses"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for KnownLoginAddresses {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("login_addresses")
                .if_not_exists()
                .col(string("username"))
                .col(string("address"))
                .col(timestamp_with_time_zone("last_success_at"))
                .primary_key(Index::create().col("username").col("address"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("login_addresses").if_exists().to_owned()).await
    }
}

/// When a member's personal data was anonymised after the retention period.
struct Anonymised;

impl MigrationName for Anonymised {
    fn name(&self) -> &str {
        "m0014_membership_anonymised"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Anonymised {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("members").add_column(timestamp_with_time_zone_null("anonymised_at")).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("members").drop_column("anonymised_at").to_owned()).await
    }
}
