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
pub mod domain;
pub mod events;
pub mod storage;

use doan_platform::retention::{self, RetentionRule};
use doan_platform::service::{Service, ServiceContext};
use doan_proto::notifications::notifications_service_server::NotificationsServiceServer;

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "notifications";

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// Builds the service from its context.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    let (new_notices, _) = tokio::sync::broadcast::channel(4096);
    Ok(Service {
        grpc_name: "doan.notifications.v1.NotificationsService",
        routes: tonic::service::Routes::new(NotificationsServiceServer::new(api::NotificationsApi::new(
            ctx.clone(),
            new_notices.clone(),
        ))),
        consumer: Some(events::consumer(ctx, new_notices)),
        retention: vec![RetentionRule {
            table: "notifications",
            column: "read_at",
            keep: retention::hours(ctx.settings.retention.read_notices_hours),
        }],
        consumes: false,
        policies: api::POLICIES,
    })
}
