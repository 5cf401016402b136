//! Notifications migrations: the platform's tables, the directory, then ours.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The notifications database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = doan_platform::inbox::platform_migrations();
        all.extend(doan_platform::directory::migrations());
        all.push(Box::new(CreateNotifications));
        all.push(Box::new(InboxSequence));
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

/// Each member's inbox positions (`notifications.seq`, `inbox_counters`), numbered for the
/// notices already there in the order of their ids.
struct InboxSequence;

impl MigrationName for InboxSequence {
    fn name(&self) -> &str {
        "m0002_notifications_inbox_sequence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InboxSequence {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("notifications").add_column(big_integer("seq").default(0)).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("inbox_counters")
                .if_not_exists()
                .col(string("member_id").primary_key())
                .col(big_integer("last_seq"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE notifications SET seq = (SELECT COUNT(*) FROM notifications n2 \
             WHERE n2.member_id = notifications.member_id AND n2.notification_id <= notifications.notification_id)",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO inbox_counters (member_id, last_seq) SELECT member_id, MAX(seq) FROM notifications GROUP BY member_id",
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_inbox_seq")
                .table("notifications")
                .col("member_id")
                .col("seq")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("notifications_inbox_seq").table("notifications").to_owned()).await?;
        m.drop_table(Table::drop().table("inbox_counters").to_owned()).await?;
        m.alter_table(Table::alter().table("notifications").drop_column("seq").to_owned()).await
    }
}
