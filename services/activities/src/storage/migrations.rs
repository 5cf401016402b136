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
