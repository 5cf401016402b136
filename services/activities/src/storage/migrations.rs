//! Activities migrations: the platform's tables, the directory, then ours.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The activities database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = doan_platform::inbox::platform_migrations();
        all.extend(doan_platform::directory::migrations());
        all.push(Box::new(CreateActivities));
        all.push(Box::new(Places));
        all.push(Box::new(Attendance));
        all.push(Box::new(Programmes));
        all.push(Box::new(Targets));
        all.push(Box::new(Reports));
        all.push(Box::new(Ideas));
        all
    }
}

struct CreateActivities;

impl MigrationName for CreateActivities {
    fn name(&self) -> &str {
        "m0001_activities"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateActivities {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("activities")
                .if_not_exists()
                .col(string("activity_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("title"))
                .col(text("description"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(integer("points"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("activities_unit").table("activities").col("unit_id").if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("participations")
                .if_not_exists()
                .col(string("participation_id").primary_key())
                .col(string("activity_id"))
                .col(string("member_id"))
                .col(integer("state"))
                .col(timestamp_with_time_zone("registered_at"))
                .col(timestamp_with_time_zone_null("checked_in_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("participations_activity_member")
                .table("participations")
                .col("activity_id")
                .col("member_id")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("participations").to_owned()).await?;
        m.drop_table(Table::drop().table("activities").to_owned()).await
    }
}

/// Places: an activity's capacity and the places taken, a participation's cancellation, and
/// the waiting line's order.
struct Places;

impl MigrationName for Places {
    fn name(&self) -> &str {
        "m0002_activity_places"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Places {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("activities").add_column(integer("capacity").default(0)).to_owned()).await?;
        m.alter_table(Table::alter().table("activities").add_column(integer("places_taken").default(0)).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table("participations").add_column(timestamp_with_time_zone_null("cancelled_at")).to_owned(),
        )
        .await?;
        // Every registration so far holds a place.
        m.get_connection()
            .execute_unprepared(
                "UPDATE activities SET places_taken = (SELECT COUNT(*) FROM participations p \
                 WHERE p.activity_id = activities.activity_id AND p.state IN (1, 2))",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("participations_line")
                .table("participations")
                .col("activity_id")
                .col("state")
                .col("registered_at")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("participations").drop_column("cancelled_at").to_owned()).await?;
        m.alter_table(Table::alter().table("activities").drop_column("places_taken").to_owned()).await?;
        m.alter_table(Table::alter().table("activities").drop_column("capacity").to_owned()).await
    }
}

/// Proof of attendance: activities' check-in mode and venue; participations' check-out, review
/// and withheld points; devices, records of attendance and anti-cheating flags.
struct Attendance;

impl MigrationName for Attendance {
    fn name(&self) -> &str {
        "m0003_attendance"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Attendance {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Activities created before modes existed keep the member's word (SELF = 1).
        let columns = [
            ("activities", integer("check_in_mode").default(1).to_owned()),
            ("activities", double_null("venue_latitude")),
            ("activities", double_null("venue_longitude")),
            ("activities", integer_null("venue_radius_m")),
            ("participations", timestamp_with_time_zone_null("checked_out_at")),
            ("participations", integer_null("minutes")),
            // Nothing to review (NOT_NEEDED = 1) for every participation so far.
            ("participations", integer("review_state").default(1).to_owned()),
            ("participations", string_null("reviewed_by")),
            ("participations", timestamp_with_time_zone_null("reviewed_at")),
            ("participations", text_null("review_note")),
            ("participations", boolean("withheld").default(false).to_owned()),
            ("participations", boolean("offline").default(false).to_owned()),
            // Whether HoursApproved went out for the participation's hours.
            ("participations", boolean("hours_approved").default(false).to_owned()),
        ];
        for (table, mut column) in columns {
            m.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("participations_member")
                .table("participations")
                .col("member_id")
                .col("checked_in_at")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("attendance_devices")
                .if_not_exists()
                .col(string("device_id"))
                .col(string("member_id"))
                .col(text("public_key"))
                .col(string("label"))
                .col(timestamp_with_time_zone("registered_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .primary_key(Index::create().col("device_id").col("member_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("attendance_devices_member")
                .table("attendance_devices")
                .col("member_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("attendance_records")
                .if_not_exists()
                .col(string("record_key").primary_key())
                .col(string("member_id"))
                .col(string("activity_id"))
                .col(string_null("participation_id"))
                .col(integer("kind"))
                .col(string_null("device_id"))
                .col(string_null("record_id"))
                .col(big_integer_null("code_step"))
                .col(timestamp_with_time_zone("at"))
                .col(double_null("latitude"))
                .col(double_null("longitude"))
                .col(boolean("offline"))
                .col(integer("outcome"))
                .col(integer("reason"))
                .col(text("detail"))
                .col(timestamp_with_time_zone("received_at"))
                .to_owned(),
        )
        .await?;
        let indexes = [
            // Offline syncs are idempotent per device and record.
            Index::create()
                .name("attendance_records_offline")
                .table("attendance_records")
                .col("device_id")
                .col("record_id")
                .unique()
                .if_not_exists()
                .to_owned(),
            // A member's located attendance in time (impossible travel).
            Index::create()
                .name("attendance_records_member")
                .table("attendance_records")
                .col("member_id")
                .col("at")
                .if_not_exists()
                .to_owned(),
            // Devices at an activity (shared devices, code reuse).
            Index::create()
                .name("attendance_records_activity_device")
                .table("attendance_records")
                .col("activity_id")
                .col("device_id")
                .if_not_exists()
                .to_owned(),
        ];
        for index in indexes {
            m.create_index(index).await?;
        }
        m.create_table(
            Table::create()
                .table("attendance_flags")
                .if_not_exists()
                .col(string("flag_id").primary_key())
                .col(string("participation_id"))
                .col(string("activity_id"))
                .col(integer("kind"))
                .col(text("detail"))
                .col(timestamp_with_time_zone("raised_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("attendance_flags_participation")
                .table("attendance_flags")
                .col("participation_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["attendance_flags", "attendance_records", "attendance_devices"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("participations_member").table("participations").to_owned()).await?;
        for column in [
            "hours_approved",
            "offline",
            "withheld",
            "review_note",
            "reviewed_at",
            "reviewed_by",
            "review_state",
            "minutes",
            "checked_out_at",
        ] {
            m.alter_table(Table::alter().table("participations").drop_column(column).to_owned()).await?;
        }
        for column in ["venue_radius_m", "venue_longitude", "venue_latitude", "check_in_mode"] {
            m.alter_table(Table::alter().table("activities").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Programmes: movements, campaigns and their phases, teams and their members, youth projects,
/// versions of activities' outputs; an activity's kind, campaign and team.
struct Programmes;

impl MigrationName for Programmes {
    fn name(&self) -> &str {
        "m0004_programmes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Programmes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Activities so far are GENERAL (1), outside any campaign.
        let columns = [integer("kind").default(1).to_owned(), string_null("campaign_id"), string_null("team_id")];
        for mut column in columns {
            m.alter_table(Table::alter().table("activities").add_column(&mut column).to_owned()).await?;
        }
        let tables = [
            Table::create()
                .table("movements")
                .if_not_exists()
                .col(string("movement_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("name"))
                .col(text("description"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("campaigns")
                .if_not_exists()
                .col(string("campaign_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("movement_id"))
                .col(string_null("parent_campaign_id"))
                .col(string("name"))
                .col(integer("year"))
                .col(text("theme"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("campaign_phases")
                .if_not_exists()
                .col(string("phase_id").primary_key())
                .col(string("campaign_id"))
                .col(string("name"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .to_owned(),
            Table::create()
                .table("teams")
                .if_not_exists()
                .col(string("team_id").primary_key())
                .col(string("campaign_id"))
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("name"))
                .col(string("leader_member_id"))
                .col(date("formed_on"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("team_members")
                .if_not_exists()
                .col(string("team_id"))
                .col(string("member_id"))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().col("team_id").col("member_id"))
                .to_owned(),
            Table::create()
                .table("youth_projects")
                .if_not_exists()
                .col(string("project_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string_null("campaign_id"))
                .col(integer("kind"))
                .col(string("name"))
                .col(big_integer("value_vnd"))
                .col(integer("status"))
                .col(date("started_on"))
                .col(date_null("inaugurated_on"))
                .col(text("description"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table("activity_outputs")
                .if_not_exists()
                .col(string("output_id").primary_key())
                .col(string("activity_id"))
                .col(integer("version"))
                .col(big_integer("extra_participations"))
                .col(big_integer("blood_units"))
                .col(big_integer("trees_planted"))
                .col(big_integer("gift_packages"))
                .col(big_integer("beneficiaries"))
                .col(big_integer("vnd_mobilised"))
                .col(text("evidence"))
                .col(text("note"))
                .col(string("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(integer("state"))
                .col(string_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(text_null("review_note"))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        let indexes = [
            Index::create().name("campaigns_unit").table("campaigns").col("unit_id").if_not_exists().to_owned(),
            Index::create()
                .name("campaign_phases_campaign")
                .table("campaign_phases")
                .col("campaign_id")
                .if_not_exists()
                .to_owned(),
            Index::create().name("teams_campaign").table("teams").col("campaign_id").if_not_exists().to_owned(),
            Index::create()
                .name("youth_projects_started")
                .table("youth_projects")
                .col("started_on")
                .if_not_exists()
                .to_owned(),
            // One row per version.
            Index::create()
                .name("activity_outputs_version")
                .table("activity_outputs")
                .col("activity_id")
                .col("version")
                .unique()
                .if_not_exists()
                .to_owned(),
            Index::create().name("activities_starts").table("activities").col("starts_at").if_not_exists().to_owned(),
        ];
        for index in indexes {
            m.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in
            ["activity_outputs", "youth_projects", "team_members", "teams", "campaign_phases", "campaigns", "movements"]
        {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("activities_starts").table("activities").to_owned()).await?;
        for column in ["team_id", "campaign_id", "kind"] {
            m.alter_table(Table::alter().table("activities").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

/// Targets: yearly targets of units, and the admissions they are measured against.
struct Targets;

impl MigrationName for Targets {
    fn name(&self) -> &str {
        "m0005_targets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Targets {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("targets")
                .if_not_exists()
                .col(string("target_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(integer("year"))
                .col(integer("metric"))
                .col(big_integer("value"))
                .col(string("set_by_unit_id"))
                .col(string("set_by"))
                .col(timestamp_with_time_zone("set_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("targets_unit_year_metric")
                .table("targets")
                .col("unit_id")
                .col("year")
                .col("metric")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("targets_setter")
                .table("targets")
                .col("set_by_unit_id")
                .col("year")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("admissions")
                .if_not_exists()
                .col(string("member_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(date("admitted_on"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("admissions_on").table("admissions").col("admitted_on").if_not_exists().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("admissions").to_owned()).await?;
        m.drop_table(Table::drop().table("targets").to_owned()).await
    }
}

/// Report requests: requests, each unit's report under them, and every submission.
struct Reports;

impl MigrationName for Reports {
    fn name(&self) -> &str {
        "m0006_reports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Reports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("report_requests")
                .if_not_exists()
                .col(string("request_id").primary_key())
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("title"))
                .col(integer("kind"))
                .col(string_null("campaign_id"))
                .col(string_null("phase_id"))
                .col(date("from_date"))
                .col(date("to_date"))
                .col(date("deadline"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("report_assignments")
                .if_not_exists()
                .col(string("request_id"))
                .col(string("unit_id"))
                .col(string("unit_name"))
                .col(text("unit_path"))
                .col(integer("state"))
                .col(integer("versions"))
                .col(text("review_note"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("request_id").col("unit_id"))
                .to_owned(),
            Table::create()
                .table("report_submissions")
                .if_not_exists()
                .col(string("submission_id").primary_key())
                .col(string("request_id"))
                .col(string("unit_id"))
                .col(integer("version"))
                .col(text("figures"))
                .col(text("narrative"))
                .col(text("evidence"))
                .col(string("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .to_owned(),
        ];
        for table in tables {
            m.create_table(table).await?;
        }
        let indexes = [
            Index::create()
                .name("report_requests_unit")
                .table("report_requests")
                .col("unit_id")
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("report_assignments_unit")
                .table("report_assignments")
                .col("unit_id")
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("report_submissions_version")
                .table("report_submissions")
                .col("request_id")
                .col("unit_id")
                .col("version")
                .unique()
                .if_not_exists()
                .to_owned(),
        ];
        for index in indexes {
            m.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["report_submissions", "report_assignments", "report_requests"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The ideas bank, and when each target was first found met.
struct Ideas;

impl MigrationName for Ideas {
    fn name(&self) -> &str {
        "m0007_ideas"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Ideas {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("targets").add_column(timestamp_with_time_zone_null("met_at")).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("ideas")
                .if_not_exists()
                .col(string("idea_id").primary_key())
                .col(string("member_id"))
                .col(string("unit_id"))
                .col(text("unit_path"))
                .col(string("title"))
                .col(text("description"))
                .col(string("field"))
                .col(integer("state"))
                .col(text("review_note"))
                .col(string("reviewed_by"))
                .col(string_null("award_decision_id"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ideas_member").table("ideas").col("member_id").if_not_exists().to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("ideas").to_owned()).await?;
        m.alter_table(Table::alter().table("targets").drop_column("met_at").to_owned()).await
    }
}
