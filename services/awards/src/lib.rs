//! The awards service: the award catalogue and issuers' authority, award decisions (quyết
//! định khen thưởng) and their revocation, verifiable credentials of every award, and
//! per-member, per-year emulation standings.
//!
//! # Layout
//! - `domain/`: the catalogue (kinds, recipients, issuing levels, quotas), credentials (Open
//!   Badges 3.0 / VC 2.0 with `eddsa-rdfc-2022` proofs, Bitstring Status Lists), masked names.
//! - `storage/`: entities and migrations (decisions, awards, the once-per-person register,
//!   clusters, issuer keys, status lists, standings, the directory).
//! - `api/`: the `doan.awards.v1.AwardsService` implementation, and the public documents
//!   (`/credentials/*` over plain HTTP).
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

use anyhow::Context;
use doan_platform::rules::Versioned;
use doan_platform::service::{Service, ServiceContext};
use secrecy::ExposeSecret;

use crate::domain::Catalogue;
use crate::domain::scoring::Weights;
use doan_proto::awards::awards_service_server::AwardsServiceServer;

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "awards";

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// `rules/awards.toml` (or the deployment's replacement in `rules.dir`).
pub fn load_rules(dir: Option<&std::path::Path>) -> anyhow::Result<Versioned<Catalogue>> {
    Versioned::load("awards.toml", include_str!("../../../rules/awards.toml"), dir)
}

/// `rules/emulation.toml` (or the deployment's replacement in `rules.dir`).
pub fn load_emulation(dir: Option<&std::path::Path>) -> anyhow::Result<Versioned<Weights>> {
    Versioned::load("emulation.toml", include_str!("../../../rules/emulation.toml"), dir)
}

/// Builds the service from its context.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    let rules = load_rules(ctx.settings.rules.dir.as_deref())?;
    let emulation = load_emulation(ctx.settings.rules.dir.as_deref())?;
    let key = ctx
        .settings
        .credentials
        .key
        .as_ref()
        .context("credentials.key is required by awards (generate one with `doan keygen`)")?;
    let credentials = api::Credentials::new(key.expose_secret(), &ctx.settings.credentials.base_url)?;
    let api = Arc::new(api::AwardsApi::new(ctx.clone(), Arc::new(rules), Arc::new(emulation), credentials));
    Ok(Service {
        grpc_name: "doan.awards.v1.AwardsService",
        routes: tonic::service::Routes::new(AwardsServiceServer::from_arc(api.clone()))
            .add_service(api::PublicDocuments::new(api)),
        consumer: Some(events::consumer(ctx)),
        retention: Vec::new(),
        consumes: false,
        policies: api::POLICIES,
    })
}
