//! The notifications service: each member's inbox of notices, fed by integration events,
//! read, marked and watched live by the mobile app.
//!
//! # Layout
//! - `domain/`: what each event says to the member (Vietnamese texts).
//! - `storage/`: entities and migrations (notifications).
//! - `api/`: the `doan.notifications.v1.NotificationsService` implementation.
//! - `events/`: the consumer turning `MemberAdmitted`, `ParticipationRecorded`,
//!   `AwardGranted`, `MemberRated` and `ReminderDue` into notices.
//!
//! Publishes nothing.

pub mod api;
pub mod channels;
pub mod domain;
pub mod events;
pub mod storage;

use std::sync::Arc;

use doan_platform::retention::{self, RetentionRule};
use doan_platform::service::{Service, ServiceContext};
use doan_proto::notifications::notifications_service_server::NotificationsServiceServer;

/// How often one replica compares its watched owners' inbox counters with what their watches
/// sent (notices committed on another replica reach a watch within this).
const WATCH_SWEEP: std::time::Duration = std::time::Duration::from_secs(2);

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "notifications";

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// Builds the service from its context.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    let new_notices = Arc::new(events::live::Live::default());
    let channels = Arc::new(channels::Channels::from_settings(&ctx.settings.channels, ctx.clock.clone())?);
    let lanes = events::deliver::Lanes::of(&channels);
    let wake = Arc::new(tokio::sync::Notify::new());
    let dispatcher = Arc::new(events::deliver::Dispatcher::new(
        ctx.db.clone(),
        ctx.clock.clone(),
        channels,
        ctx.settings.channels.clone(),
        wake.clone(),
    ));
    let handoff = dispatcher.handoff();
    dispatcher.spawn(ctx.shutdown.clone());
    let broadcaster = Arc::new(events::broadcasts::Broadcaster {
        db: ctx.db.clone(),
        clock: ctx.clock.clone(),
        lanes,
        chunk: ctx.settings.broadcasts.fanout_chunk.max(1),
        parallel: match ctx.db.get_database_backend() {
            // At most half the pool: the API and the dispatcher need connections too.
            sea_orm::DbBackend::Postgres => ctx
                .settings
                .broadcasts
                .fanout_parallel
                .clamp(1, 16)
                .min(u64::from(ctx.settings.notifications.max_db_connections / 2).max(1)),
            _ => 1,
        },
        lease: chrono::Duration::seconds(ctx.settings.jobs.lease_secs.max(1) as i64),
        new_notices: new_notices.clone(),
        wake: wake.clone(),
        handoff,
    });
    // Notices committed on other replicas reach this replica's watches by one sweep of the
    // watched owners' inbox counters, never by a poll per watch.
    let (live, db) = (new_notices.clone(), ctx.db.clone());
    doan_platform::jobs::every(ctx.shutdown.clone(), WATCH_SWEEP, "live watches behind", move || {
        let (live, db) = (live.clone(), db.clone());
        async move { live.sweep(&db).await }
    });
    let look = broadcaster.clone();
    doan_platform::jobs::every(
        ctx.shutdown.clone(),
        std::time::Duration::from_secs(ctx.settings.broadcasts.watch_every_secs.max(1)),
        "broadcasts, reminders, escalations and digests",
        move || {
            let look = look.clone();
            async move { look.look().await }
        },
    );
    Ok(Service {
        grpc_name: "doan.notifications.v1.NotificationsService",
        routes: tonic::service::Routes::new(NotificationsServiceServer::new(api::NotificationsApi::new(
            ctx.clone(),
            new_notices.clone(),
            broadcaster,
        ))),
        consumer: Some(events::consumer(ctx, new_notices, lanes, wake)),
        retention: vec![
            RetentionRule {
                table: "notifications",
                column: "read_at",
                keep: retention::hours(ctx.settings.retention.read_notices_hours),
            },
            // Delivery records (of read and unread notices alike) live as long as read notices.
            RetentionRule {
                table: "deliveries",
                column: "created_at",
                keep: retention::hours(ctx.settings.retention.read_notices_hours),
            },
            // FCM expires a token after 270 days without a connection; so do we.
            RetentionRule { table: "devices", column: "last_seen_at", keep: retention::hours(270 * 24) },
        ],
        consumes: false,
        policies: api::POLICIES,
    })
}
