//! The membership service: the organisation tree (units), accounts and login, member
//! records and admission. It alone issues access tokens and holds personal data.
//!
//! # Layout
//! - `domain/`: admission age, identity documents, the tree's placement rules.
//! - `storage/`: entities and migrations (units, accounts, members, PII access log).
//! - `events/`: the integration events it publishes (`UnitCreated`, `MemberAdmitted`).
//! - `api/`: the `doan.membership.v1.MembershipService` implementation and its policies.
//!
//! Publishes the tree's and members' events (`UnitCreated`, `MemberAdmitted`, …), officers'
//! positions (`PositionChanged`), clusters (`ClusterChanged`), the year's ratings
//! (`MemberRated`, `UnitRated`) and reminders (`ReminderDue`) through its outbox;
//! consumes `ParticipationRecorded` and `AwardGranted` as evidence of members' years.

pub mod api;
pub mod domain;
pub mod events;
pub mod storage;

use std::sync::Arc;

use anyhow::Context;
use doan_platform::auth::TokenIssuer;
use doan_platform::crypto::FieldCipher;
use doan_platform::rules::Versioned;
use doan_platform::service::{Service, ServiceContext};
use doan_proto::membership::membership_service_server::MembershipServiceServer;
use secrecy::ExposeSecret;

use crate::domain::rules::{AdmissionRule, DuesRule, EvaluationRule};

/// The service's name: its queue, outbox producer and database.
pub const NAME: &str = "membership";

/// Membership's effective-dated rules (files under `rules/`, or `rules.dir`).
pub struct Rules {
    /// Admission age, guardian consent, back-dating window.
    pub admission: Versioned<AdmissionRule>,
    /// Dues amounts and cadences.
    pub dues: Versioned<DuesRule>,
    /// Evaluation periods and ratings.
    pub evaluation: Versioned<EvaluationRule>,
}

impl Rules {
    /// The compiled-in rule files, each replaced by a file of the same name in `dir`.
    pub fn load(dir: Option<&std::path::Path>) -> anyhow::Result<Self> {
        Ok(Self {
            admission: Versioned::load("admission.toml", include_str!("../../../rules/admission.toml"), dir)?,
            dues: Versioned::load("dues.toml", include_str!("../../../rules/dues.toml"), dir)?,
            evaluation: Versioned::load("evaluation.toml", include_str!("../../../rules/evaluation.toml"), dir)?,
        })
    }
}

pub use events::subscriptions;

/// The service's database migrator.
pub use storage::migrations::Migrator;

/// Builds the service from its context: keys from settings, the bootstrap administrator.
pub async fn build(ctx: &ServiceContext) -> anyhow::Result<Service> {
    let auth = &ctx.settings.auth;
    let signing = auth
        .signing_key_pem
        .as_ref()
        .context("auth.signing_key_pem is required by membership (generate a pair with `doan keygen`)")?;
    let issuer = TokenIssuer::from_pem(signing.expose_secret(), &auth.issuer, auth.token_ttl_secs)?;
    let cipher = FieldCipher::from_settings(&ctx.settings.pii)?;
    let rules = Arc::new(Rules::load(ctx.settings.rules.dir.as_deref())?);
    let cards = api::Cards::from_settings(signing.expose_secret(), auth.verifying_key_pem.as_deref())?;
    let api = std::sync::Arc::new(api::MembershipApi::new(
        ctx.clone(),
        issuer,
        cipher,
        rules,
        cards,
        doan_platform::passwords::BreachedPasswords::open(auth.breached_passwords_file.as_deref())?,
    ));
    api.ensure_bootstrap_admin().await?;
    api.backfill_search_keys().await?;
    api.backfill_statistics().await?;
    api.resume_reorganisations();
    api.resume_imports();
    api.spawn_age_out_proposer();
    api.spawn_reminders();
    api.spawn_resealer();
    api.spawn_anonymiser();
    Ok(Service {
        grpc_name: "doan.membership.v1.MembershipService",
        routes: tonic::service::Routes::new(MembershipServiceServer::from_arc(api)),
        consumer: Some(events::consumer(ctx)),
        // Closed failed-login windows.
        retention: vec![
            doan_platform::retention::RetentionRule {
                table: "login_throttle",
                column: "window_start",
                keep: Some(std::time::Duration::from_secs(ctx.settings.auth.login_window_secs.max(60))),
            },
            // Addresses no longer open to a locked username.
            doan_platform::retention::RetentionRule {
                table: "login_addresses",
                column: "last_success_at",
                keep: Some(std::time::Duration::from_secs(api::KNOWN_ADDRESS_DAYS as u64 * 24 * 3600)),
            },
        ],
        consumes: false,
        policies: api::POLICIES,
    })
}
