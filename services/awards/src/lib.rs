//! The awards service: award decisions (quyết định khen thưởng) and per-member, per-year
//! emulation standings earned by check-ins.
//!
//! # Layout
//! - `domain/`: which level may issue which form; recipients; the Vietnamese calendar year.
//! - `storage/`: entities and migrations (decisions, recipients, standings, the directory).
//! - `api/`: the `doan.awards.v1.AwardsService` implementation.
//! - `events/`: the consumer of the directory events, `ParticipationRecorded`, `MemberRated`
//!   and `UnitRated`.
//!
//! Publishes `AwardGranted` (one per recipient); consumes the directory's events,
//! `ParticipationRecorded` (standings) and the yearly ratings (`MemberRated`, `UnitRated`).

pub mod api;
pub mod domain;
pub mod events;
pub mod storage;

use std::sync::Arc;

use doan_platform::rules::Versioned;
use doan_platform::service::{Service, ServiceContext};

use crate::domain::AwardAuthority;
use doan_proto::awards::awards_service_server::AwardsServiceServer;

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "awards";

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// `rules/awards.toml` (or the deployment's replacement in `rules.dir`).
pub fn load_rules(dir: Option<&std::path::Path>) -> anyhow::Result<Versioned<AwardAuthority>> {
    Versioned::load("awards.toml", include_str!("../../../rules/awards.toml"), dir)
}

/// Builds the service from its context.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    let rules = load_rules(ctx.settings.rules.dir.as_deref())?;
    Ok(Service {
        grpc_name: "doan.awards.v1.AwardsService",
        routes: tonic::service::Routes::new(AwardsServiceServer::new(api::AwardsApi::new(
            ctx.clone(),
            Arc::new(rules),
        ))),
        consumer: Some(events::consumer(ctx)),
        retention: Vec::new(),
        consumes: false,
        policies: api::POLICIES,
    })
}
