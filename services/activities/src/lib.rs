//! The activities service: activities organised by units, members' registrations and
//! check-ins within each activity's time window.
//!
//! # Layout
//! - `domain/`: the time-window and eligibility rules.
//! - `storage/`: entities and migrations (activities, participations, the directory).
//! - `api/`: the `doan.activities.v1.ActivitiesService` implementation.
//! - `events/`: the consumer keeping the directory (units, members) from membership's events.
//!
//! Publishes `ParticipationRecorded`, `RegistrationPromoted`, `HoursApproved`,
//! `ProjectInaugurated`, `TargetMet`, `IdeaAdopted`, `TeamChanged`; consumes the directory's events (units and
//! members; admissions also feed the targets).

pub mod api;
pub mod domain;
pub mod events;
pub mod storage;

use doan_platform::service::{Service, ServiceContext};
use doan_proto::activities::activities_service_server::ActivitiesServiceServer;

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "activities";

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// Builds the service from its context.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    use anyhow::Context;
    use secrecy::ExposeSecret;
    let key = ctx
        .settings
        .attendance
        .code_key
        .as_ref()
        .context("attendance.code_key is required by activities (generate one with `doan keygen`)")?;
    let code_key = domain::attendance::CodeKey::from_base64(key.expose_secret())?;
    let api = std::sync::Arc::new(api::ActivitiesApi::new(ctx.clone(), code_key));
    api.spawn_target_watch();
    Ok(Service {
        grpc_name: "doan.activities.v1.ActivitiesService",
        routes: tonic::service::Routes::new(ActivitiesServiceServer::from_arc(api)),
        consumer: Some(events::consumer(ctx)),
        retention: Vec::new(),
        consumes: false,
        policies: api::POLICIES,
    })
}
