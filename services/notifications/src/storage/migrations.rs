//! Notifications migrations: the platform's tables, then ours.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The notifications database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = doan_platform::inbox::platform_migrations();
        all.push(Box::new(CreateNotifications));
        all
    }
}

struct CreateNotifications;

impl MigrationName for CreateNotifications {
    fn name(&self) -> &str {
        "m0001_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNotifications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notifications")
                .if_not_exists()
                .col(string("notification_id").primary_key())
                .col(string("member_id"))
                .col(integer("kind"))
                .col(string("title"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(string("source_event_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_inbox")
                .table("notifications")
                .col("member_id")
                .col("notification_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notifications").to_owned()).await
    }
}
