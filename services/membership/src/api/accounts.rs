//! Accounts: login, member activation, officer appointment, the bootstrap administrator.

use std::sync::OnceLock;

use doan_platform::AppError;
use doan_platform::auth::{Caller, Role, check_new_password, hash_password, verify_password};
use doan_platform::convert::{parse_date, required_text};
use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use secrecy::ExposeSecret;

use super::{MembershipApi, role_to_pb};
use crate::domain::member::{CitizenId, member_number, parse_member_number};
use crate::storage::accounts::NewAccount;
use crate::storage::entities::account;
use crate::storage::{accounts, logins, members};

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

impl MembershipApi {
    fn token_for(&self, account: &account::Model) -> AppResult<(String, Option<prost_types::Timestamp>)> {
        let role = parse_role(&account.role)?;
        let (token, exp) = self.issuer.issue(
            &account.account_id,
            role,
            account.unit_id.clone(),
            account.member_id.clone(),
            &account.full_name,
        )?;
        Ok((token, Some(prost_types::Timestamp { seconds: exp as i64, nanos: 0 })))
    }

    pub(super) async fn login(&self, r: pb::LoginRequest) -> AppResult<pb::LoginResponse> {
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
        if auth.login_failures_per_username > 0 {
            let (failures, reopens) = logins::failures(&self.ctx.db, &username, now, window).await?;
            if failures >= auth.login_failures_per_username {
                return Err(AppError::ResourceExhausted(format!(
                    "too many failed logins for this username; try again after {}",
                    doan_platform::clock::vietnam_time(reopens)
                )));
            }
        }
        let account = accounts::by_username(&self.ctx.db, &username).await?;
        let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_string());
        let password = r.password;
        let matches = blocking(move || verify_password(&password, &hash)).await?;
        let account = match account {
            Some(a) if matches => {
                logins::clear(&self.ctx.db, &username).await?;
                a
            }
            _ => {
                tracing::info!(username = %username, "login refused");
                if auth.login_failures_per_username > 0 {
                    logins::record_failure(&self.ctx.db, &username, now, window).await?;
                }
                return Err(AppError::Unauthenticated("username or password is incorrect".into()));
            }
        };
        let (access_token, expires_at) = self.token_for(&account)?;
        Ok(pb::LoginResponse { access_token, expires_at, account: Some(account_to_pb(&account)?) })
    }

    pub(super) async fn activate_member_account(
        &self,
        r: pb::ActivateMemberAccountRequest,
    ) -> AppResult<pb::ActivateMemberAccountResponse> {
        let seq = parse_member_number("member_number", &r.member_number)?;
        let citizen_id = CitizenId::parse(&r.citizen_id)?;
        let date_of_birth = parse_date("date_of_birth", &r.date_of_birth)?;
        check_new_password("password", &r.password)?;
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
        let (access_token, expires_at) = self.token_for(&created)?;
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
        let username = parse_username(&r.username)?;
        let full_name = crate::domain::member::parse_full_name(&r.full_name)?;
        check_new_password("password", &r.password)?;
        let password = r.password;
        let password_hash = blocking(move || hash_password(&password)).await??;
        let created = accounts::insert(
            &self.ctx.db,
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
