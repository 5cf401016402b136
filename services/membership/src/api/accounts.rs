//! Accounts: login, member activation, officer appointment, the bootstrap administrator.

use std::sync::OnceLock;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role, hash_password, verify_password};
use doan_platform::convert::{parse_date, required_text};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;

use super::positions::{PositionInput, assign_and_publish};
use super::{MembershipApi, role_to_pb};
use crate::domain::member::{CitizenId, member_number, parse_member_number};
use crate::domain::officer::PositionKind;
use crate::storage::accounts::NewAccount;
use crate::storage::entities::account;
use crate::storage::positions::{self, NewPosition};
use crate::storage::{accounts, logins, members, units};

fn parse_role(value: &str) -> AppResult<Role> {
    match value {
        "admin" => Ok(Role::Admin),
        "officer" => Ok(Role::Officer),
        "member" => Ok(Role::Member),
        other => Err(AppError::Internal(anyhow::anyhow!("unknown stored role {other:?}"))),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Officer => "officer",
        Role::Member => "member",
    }
}

fn account_to_pb(a: &account::Model) -> AppResult<pb::Account> {
    Ok(pb::Account {
        account_id: a.account_id.clone(),
        username: a.username.clone(),
        role: role_to_pb(parse_role(&a.role)?),
        unit_id: a.unit_id.clone().unwrap_or_default(),
        member_id: a.member_id.clone().unwrap_or_default(),
        full_name: a.full_name.clone(),
    })
}

/// Officer usernames: 3 to 64 of `a-z 0-9 . _ -`, so they never collide with member numbers.
fn parse_username(value: &str) -> AppResult<String> {
    let name = value.trim();
    let ok = (3..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(AppError::invalid("username", "expected 3 to 64 characters of a-z, 0-9, '.', '_' or '-'"));
    }
    Ok(name.to_string())
}

/// Hashing runs off the async workers: argon2 is deliberately slow.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| AppError::Internal(anyhow::anyhow!("password task: {e}")))
}

/// A hash to verify against when the username does not exist, so timing does not reveal it.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

/// How long an address a username logged in from stays open to it while the username is
/// locked by failed guesses.
pub const KNOWN_ADDRESS_DAYS: i64 = 90;

impl MembershipApi {
    /// A token for `account`, scoped to `unit` (an officer's position) and expiring no later
    /// than `not_after` (the end of that position).
    fn token_for(
        &self,
        account: &account::Model,
        unit: Option<String>,
        not_after: Option<u64>,
    ) -> AppResult<(String, Option<prost_types::Timestamp>)> {
        let role = parse_role(&account.role)?;
        let (token, exp) = self.issuer.issue(
            &account.account_id,
            role,
            unit,
            account.member_id.clone(),
            &account.full_name,
            not_after,
        )?;
        Ok((token, Some(prost_types::Timestamp { seconds: exp as i64, nanos: 0 })))
    }

    /// The unit an officer logs in for, from the positions in force today: `requested`, or
    /// the highest of them; and when that access ends.
    async fn officer_scope(&self, account: &account::Model, requested: &str) -> AppResult<(String, Option<u64>)> {
        let held = positions::in_force_for(&self.ctx.db, &account.account_id, self.ctx.clock.today()).await?;
        if held.is_empty() {
            return Err(AppError::PermissionDenied(
                "you hold no officer position in force today; a unit above yours assigns positions".into(),
            ));
        }
        let chosen = if requested.trim().is_empty() {
            let ids = held.iter().map(|p| p.unit_id.clone()).collect();
            let units = units::find_many(&self.ctx.db, &ids).await?;
            let highest = units.iter().min_by_key(|u| u.path.len()).map(|u| u.unit_id.clone());
            held.iter().find(|p| Some(&p.unit_id) == highest.as_ref()).unwrap_or(&held[0])
        } else {
            let unit_id = doan_platform::convert::parse_id("unit_id", requested)?;
            held.iter()
                .find(|p| p.unit_id == unit_id)
                .ok_or_else(|| AppError::PermissionDenied(format!("you hold no position in force in unit {unit_id}")))?
        };
        Ok((chosen.unit_id.clone(), positions::term(chosen).access_ends_at()))
    }

    /// Logs in. A username locked by failed guesses (`auth.login_failures_per_username` in
    /// `auth.login_window_secs`) stays open to the addresses it logged in from in the last
    /// [`KNOWN_ADDRESS_DAYS`] days, each with its own count: whoever guesses cannot lock the
    /// owner out.
    pub(super) async fn login(&self, r: pb::LoginRequest, address: Option<String>) -> AppResult<pb::LoginResponse> {
        // Usernames and member numbers are short ASCII; anything else cannot match an account.
        let username = doan_platform::text::TextRule::line(64).parse("username", &r.username)?;
        if r.password.is_empty() {
            return Err(AppError::invalid("password", "is required"));
        }
        if r.password.chars().count() > 256 {
            return Err(AppError::invalid("password", "must be at most 256 characters"));
        }
        // Guessing one account's password is slowed whatever addresses the guesses come from
        // (the gateway limits each address too).
        let auth = &self.ctx.settings.auth;
        let window = chrono::Duration::seconds(auth.login_window_secs.min(i64::MAX as u64) as i64);
        let now = self.ctx.clock.now();
        let limit = auth.login_failures_per_username;
        let pair = address.as_deref().map(|a| logins::pair(&username, a));
        let mut locked_for_others = false;
        if limit > 0 {
            let locked = |reopens| {
                AppError::ResourceExhausted(format!(
                    "too many failed logins for this username; try again after {}",
                    doan_platform::clock::vietnam_time(reopens)
                ))
            };
            let (failures, reopens) = logins::failures(&self.ctx.db, &username, now, window).await?;
            if failures >= limit {
                locked_for_others = true;
                let since = now - chrono::Duration::days(KNOWN_ADDRESS_DAYS);
                let known = match address.as_deref() {
                    Some(a) => logins::known_address(&self.ctx.db, &username, a, since).await?,
                    None => false,
                };
                let Some(pair) = pair.as_deref().filter(|_| known) else { return Err(locked(reopens)) };
                let (from_here, reopens) = logins::failures(&self.ctx.db, pair, now, window).await?;
                if from_here >= limit {
                    return Err(locked(reopens));
                }
            }
        }
        let account = accounts::by_username(&self.ctx.db, &username).await?;
        let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_string());
        let password = r.password;
        let matches = blocking(move || verify_password(&password, &hash)).await?;
        let account = match account {
            Some(a) if matches => {
                // The owner's login from a known address leaves the lock on everyone else.
                if !locked_for_others {
                    logins::clear(&self.ctx.db, &username).await?;
                }
                if let (Some(address), Some(pair)) = (address.as_deref(), pair.as_deref()) {
                    logins::clear(&self.ctx.db, pair).await?;
                    logins::remember_address(&self.ctx.db, &username, address, now).await?;
                }
                a
            }
            _ => {
                tracing::info!(username = %username, "login refused");
                if limit > 0 {
                    logins::record_failure(&self.ctx.db, &username, now, window).await?;
                    if let Some(pair) = pair.as_deref() {
                        logins::record_failure(&self.ctx.db, pair, now, window).await?;
                    }
                }
                return Err(AppError::Unauthenticated("username or password is incorrect".into()));
            }
        };
        let (unit, not_after) = match parse_role(&account.role)? {
            Role::Officer => {
                let (unit, not_after) = self.officer_scope(&account, &r.unit_id).await?;
                (Some(unit), not_after)
            }
            _ => (account.unit_id.clone(), None),
        };
        let (access_token, expires_at) = self.token_for(&account, unit.clone(), not_after)?;
        let mut shown = account_to_pb(&account)?;
        shown.unit_id = unit.unwrap_or_default();
        Ok(pb::LoginResponse { access_token, expires_at, account: Some(shown) })
    }

    pub(super) async fn activate_member_account(
        &self,
        r: pb::ActivateMemberAccountRequest,
    ) -> AppResult<pb::ActivateMemberAccountResponse> {
        let seq = parse_member_number("member_number", &r.member_number)?;
        let citizen_id = CitizenId::parse(&r.citizen_id)?;
        let date_of_birth = parse_date("date_of_birth", &r.date_of_birth)?;
        self.check_new_password("password", &r.password).await?;
        let found = members::find_by_seq(&self.ctx.db, seq).await?;
        let member = match found {
            Some(m)
                if m.citizen_id_index == self.cipher.blind_index(citizen_id.as_str())
                    && m.date_of_birth == date_of_birth =>
            {
                m
            }
            _ => {
                return Err(AppError::Unauthenticated(
                    "member_number, citizen_id and date_of_birth do not match a member".into(),
                ));
            }
        };
        let existing = accounts::of_member(&self.ctx.db, &member.member_id).await?;
        if existing.is_some() {
            return Err(AppError::FailedPrecondition(
                "this member's account is already activated; use Login with the member number".into(),
            ));
        }
        let password = r.password;
        let password_hash = blocking(move || hash_password(&password)).await??;
        let created = accounts::insert(
            &self.ctx.db,
            NewAccount {
                username: member_number(member.seq),
                password_hash,
                role: role_name(Role::Member),
                unit_id: Some(member.unit_id.clone()),
                member_id: Some(member.member_id.clone()),
                full_name: member.full_name.clone(),
                created_at: self.ctx.clock.now(),
            },
        )
        .await
        .map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::FailedPrecondition("this member's account is already activated; use Login".into())
            } else {
                e.into()
            }
        })?;
        let (access_token, expires_at) = self.token_for(&created, created.unit_id.clone(), None)?;
        tracing::info!(member_id = %member.member_id, "member account activated");
        Ok(pb::ActivateMemberAccountResponse { access_token, expires_at, account: Some(account_to_pb(&created)?) })
    }

    pub(super) async fn appoint_officer(
        &self,
        caller: &Caller,
        r: pb::AppointOfficerRequest,
    ) -> AppResult<pb::AppointOfficerResponse> {
        caller.require_officer()?;
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        super::units::require_active(&unit)?;
        let username = parse_username(&r.username)?;
        let full_name = crate::domain::member::parse_full_name(&r.full_name)?;
        self.check_new_password("password", &r.password).await?;
        let input = PositionInput {
            kind: r.kind,
            term: &r.term,
            starts_on: &r.starts_on,
            ends_on: &r.ends_on,
            member_id: &r.member_id,
        };
        let position = self.position_fields(caller, input, Some(PositionKind::ExecutiveCommitteeMember)).await?;
        let password = r.password;
        let password_hash = blocking(move || hash_password(&password)).await??;
        let txn = self.ctx.db.begin().await?;
        let created = accounts::insert(
            &txn,
            NewAccount {
                username: username.clone(),
                password_hash,
                role: role_name(Role::Officer),
                unit_id: Some(unit.unit_id.clone()),
                member_id: None,
                full_name,
                created_at: self.ctx.clock.now(),
            },
        )
        .await
        .map_err(|e| {
            if doan_platform::db::is_unique_violation(&e) {
                AppError::AlreadyExists(format!("username {username:?} is taken"))
            } else {
                e.into()
            }
        })?;
        assign_and_publish(
            &txn,
            &self.ctx.outbox,
            NewPosition {
                unit_id: unit.unit_id.clone(),
                account_id: created.account_id.clone(),
                member_id: position.member_id,
                kind: position.kind,
                term: position.term,
                dates: position.dates,
                assigned_by: caller.account_id.clone(),
                created_at: self.ctx.clock.now(),
            },
        )
        .await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(account_id = %created.account_id, unit_id = %unit.unit_id, by = %caller.account_id, "officer appointed");
        Ok(pb::AppointOfficerResponse { account: Some(account_to_pb(&created)?) })
    }

    /// Creates the configured administrator when it does not exist yet. An existing
    /// administrator's password is never overwritten from configuration.
    pub async fn ensure_bootstrap_admin(&self) -> anyhow::Result<()> {
        let auth = &self.ctx.settings.auth;
        let Some(password) = auth.bootstrap_admin_password.as_ref() else {
            return Ok(());
        };
        let username = required_text("auth.bootstrap_admin_username", &auth.bootstrap_admin_username, 64)?;
        if accounts::by_username(&self.ctx.db, &username).await?.is_some() {
            return Ok(());
        }
        let password = password.expose_secret().to_string();
        let password_hash = blocking(move || hash_password(&password)).await??;
        accounts::insert(
            &self.ctx.db,
            NewAccount {
                username: username.clone(),
                password_hash,
                role: role_name(Role::Admin),
                unit_id: None,
                member_id: None,
                full_name: "Administrator".into(),
                created_at: self.ctx.clock.now(),
            },
        )
        .await?;
        tracing::info!(username = %username, "bootstrap administrator created");
        Ok(())
    }
}
