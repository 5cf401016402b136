//! Failed logins per username, so that guessing one account's password is slow however many
//! addresses the guesses come from. A window opens with the first failure; it closes after
//! `auth.login_window_secs`, or at the next successful login.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Failures of `username` in the window still open at `now` (0 when none), and when that
/// window closes.
pub async fn failures(
    db: &impl ConnectionTrait,
    username: &str,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<(u32, DateTime<Utc>), DbErr> {
    let backend = db.get_database_backend();
    let sql = sql(backend, "SELECT window_start, failures FROM login_throttle WHERE username = $1");
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [username.into()])).await?;
    Ok(match row {
        Some(row) => {
            let start: DateTime<Utc> = row.try_get("", "window_start")?;
            let n: i32 = row.try_get("", "failures")?;
            if start + window > now { (n.max(0) as u32, start + window) } else { (0, now) }
        }
        None => (0, now),
    })
}

/// Counts one failed login of `username` at `now`, opening a new window when the last closed.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    username: &str,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = sql(
        backend,
        "INSERT INTO login_throttle (username, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (username) DO UPDATE SET \
         failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
         window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END",
    );
    let cutoff = now - window;
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [username.into(), now.into(), cutoff.into()])).await?;
    Ok(())
}

/// Closes `username`'s window after a successful login.
pub async fn clear(db: &impl ConnectionTrait, username: &str) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = sql(backend, "DELETE FROM login_throttle WHERE username = $1");
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [username.into()])).await?;
    Ok(())
}

/// The throttle key of `username` guessed from `address`: joined by a control character, which
/// no username a login names can hold (its text rule refuses them), so no failed login of
/// another "username" can fill this count.
pub fn pair(username: &str, address: &str) -> String {
    format!("{username}\u{1f}{address}")
}

/// True when `username` logged in successfully from `address` since `since`.
pub async fn known_address(
    db: &impl ConnectionTrait,
    username: &str,
    address: &str,
    since: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let sql = sql(
        backend,
        "SELECT 1 AS known FROM login_addresses WHERE username = $1 AND address = $2 AND last_success_at >= $3",
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [username.into(), address.into(), since.into()]))
        .await?;
    Ok(row.is_some())
}

/// Remembers that `username` logged in from `address` at `now`.
pub async fn remember_address(
    db: &impl ConnectionTrait,
    username: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = sql(
        backend,
        "INSERT INTO login_addresses (username, address, last_success_at) VALUES ($1, $2, $3) \
         ON CONFLICT (username, address) DO UPDATE SET last_success_at = excluded.last_success_at",
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [username.into(), address.into(), now.into()])).await?;
    Ok(())
}

/// `$n` placeholders as the backend writes them (SQLite: `?n`).
fn sql(backend: sea_orm::DbBackend, text: &str) -> String {
    match backend {
        sea_orm::DbBackend::Sqlite => text.replace('$', "?"),
        _ => text.to_string(),
    }
}
