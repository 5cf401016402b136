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
        all.push(Box::new(BroadcastsAndChannels));
        all.push(Box::new(BroadcastChunks));
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

/// Broadcasts and their recipients, the audiences' read models (positions, clusters, teams),
/// devices, preferences and deliveries; notices learn their broadcast, category and urgency.
struct BroadcastsAndChannels;

impl MigrationName for BroadcastsAndChannels {
    fn name(&self) -> &str {
        "m0003_broadcasts_and_channels"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BroadcastsAndChannels {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in
            [string("broadcast_id").default(""), integer("category").default(0), boolean("urgent").default(false)]
        {
            m.alter_table(Table::alter().table("notifications").add_column(col).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("notifications_broadcast")
                .table("notifications")
                .col("broadcast_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("broadcasts")
                .if_not_exists()
                .col(string("broadcast_id").primary_key())
                .col(string("unit_id"))
                .col(string("unit_path"))
                .col(integer("kind"))
                .col(string("title"))
                .col(text("body"))
                .col(integer("audience_kind"))
                .col(string("audience_ref"))
                .col(integer("audience_position_kind"))
                .col(integer("audience_unit_level"))
                .col(boolean("urgent"))
                .col(timestamp_with_time_zone("send_at"))
                .col(timestamp_with_time_zone_null("deadline"))
                .col(boolean("acknowledgement_required"))
                .col(text("documents"))
                .col(timestamp_with_time_zone_null("meeting_starts_at"))
                .col(timestamp_with_time_zone_null("meeting_ends_at"))
                .col(string("meeting_location"))
                .col(integer("status"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string("revoke_reason"))
                .col(integer("remind_hours_before"))
                .col(timestamp_with_time_zone_null("remind_at"))
                .col(timestamp_with_time_zone_null("reminded_at"))
                .col(timestamp_with_time_zone_null("escalated_at"))
                .col(string("request_id"))
                .col(boolean("resolved"))
                .col(string("fanout_cursor"))
                .col(big_integer("recipients"))
                .col(timestamp_with_time_zone("lease_until"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("broadcasts_due", &["status", "send_at"][..]),
            ("broadcasts_unit", &["unit_path", "broadcast_id"][..]),
            ("broadcasts_deadline", &["status", "deadline"][..]),
            ("broadcasts_remind", &["status", "remind_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("broadcasts").if_not_exists();
            for c in cols {
                index.col(*c);
            }
            m.create_index(index.to_owned()).await?;
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS broadcasts_request ON broadcasts (created_by, request_id) WHERE request_id <> ''",
        )
        .await?;
        m.create_table(
            Table::create()
                .table("broadcast_recipients")
                .if_not_exists()
                .col(string("broadcast_id"))
                .col(string("recipient_id"))
                .col(string("name"))
                .col(string("unit_id"))
                .col(string("unit_path"))
                .col(string("notification_id"))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(timestamp_with_time_zone_null("acknowledged_at"))
                .col(integer("meeting_response"))
                .col(boolean("attended"))
                .col(timestamp_with_time_zone_null("reminded_at"))
                .col(timestamp_with_time_zone_null("escalated_at"))
                .primary_key(Index::create().col("broadcast_id").col("recipient_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("positions")
                .if_not_exists()
                .col(string("position_id").primary_key())
                .col(string("unit_id"))
                .col(string("account_id"))
                .col(string("member_id"))
                .col(integer("kind"))
                .col(string("starts_on"))
                .col(string("ends_on"))
                .col(string("ended_on"))
                .col(string("holder_name"))
                .col(timestamp_with_time_zone("changed_at"))
                .col(string("changed_by_event"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("positions_unit")
                .table("positions")
                .col("unit_id")
                .col("kind")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        for (table, key, member, link) in
            [("clusters", "cluster_id", "unit_id", "cluster_units"), ("teams", "team_id", "member_id", "team_members")]
        {
            m.create_table(
                Table::create()
                    .table(table)
                    .if_not_exists()
                    .col(string(key).primary_key())
                    .col(string("unit_id"))
                    .col(string("name"))
                    .col(timestamp_with_time_zone("changed_at"))
                    .col(string("changed_by_event"))
                    .to_owned(),
            )
            .await?;
            m.create_table(
                Table::create()
                    .table(link)
                    .if_not_exists()
                    .col(string(key))
                    .col(string(member))
                    .primary_key(Index::create().col(key).col(member))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("devices")
                .if_not_exists()
                .col(string("device_id").primary_key())
                .col(string("owner_id"))
                .col(integer("platform"))
                .col(text("token"))
                .col(boolean("apns_sandbox"))
                .col(timestamp_with_time_zone("registered_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("devices_owner").table("devices").col("owner_id").if_not_exists().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("preferences")
                .if_not_exists()
                .col(string("owner_id").primary_key())
                .col(string("overrides"))
                .col(string("quiet_hours_start"))
                .col(string("quiet_hours_end"))
                .col(string("time_zone"))
                .col(string("language"))
                .col(string("email"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("deliveries")
                .if_not_exists()
                .col(string("delivery_id").primary_key())
                .col(string("notification_id"))
                .col(string("owner_id"))
                .col(string("broadcast_id"))
                .col(integer("kind"))
                .col(integer("channel"))
                .col(string("device_id"))
                .col(integer("state"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone("lease_until"))
                .col(string("failure_reason"))
                .col(text_null("subject"))
                .col(text_null("text"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(boolean("urgent"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("deliveries_due", &["state", "next_attempt_at"][..]),
            ("deliveries_notice", &["notification_id"][..]),
            ("deliveries_broadcast", &["broadcast_id", "channel", "state"][..]),
            ("deliveries_device", &["device_id", "state"][..]),
            ("deliveries_created", &["created_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("deliveries").if_not_exists();
            for c in cols {
                index.col(*c);
            }
            m.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "deliveries",
            "preferences",
            "devices",
            "team_members",
            "teams",
            "cluster_units",
            "clusters",
            "positions",
            "broadcast_recipients",
            "broadcasts",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        m.drop_index(Index::drop().name("notifications_broadcast").table("notifications").to_owned()).await?;
        for col in ["broadcast_id", "category", "urgent"] {
            m.alter_table(Table::alter().table("notifications").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}

/// A broadcast's recipients split into chunks written independently (several at once, each
/// taken once by a conditional update), instead of one cursor that serialised them.
struct BroadcastChunks;

impl MigrationName for BroadcastChunks {
    fn name(&self) -> &str {
        "m0004_broadcast_chunks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BroadcastChunks {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("broadcast_chunks")
                .if_not_exists()
                .col(string("broadcast_id"))
                .col(big_integer("chunk_no"))
                .col(string("first_recipient"))
                .col(big_integer("size"))
                .col(timestamp_with_time_zone_null("written_at"))
                .primary_key(Index::create().col("broadcast_id").col("chunk_no"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("broadcast_chunks").if_exists().to_owned()).await
    }
}
