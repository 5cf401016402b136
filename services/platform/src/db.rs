//! Database connections (PostgreSQL or SQLite through sea-orm) and migrations.
//!
//! Every service owns one database. Its migrator lists the platform's tables (outbox, inbox)
//! followed by its own; migrations run at start and by `doan migrate`.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

/// Connects to `url` with the default timeouts (see [`connect_with`]).
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let defaults = crate::config::DatabaseSettings { acquire_timeout_ms: 2000, connect_timeout_ms: 5000 };
    connect_with(url, max_connections, &defaults).await
}

/// Connects to `url`, creating the SQLite file (and its directory) when needed. A pooled
/// connection is waited for at most `timeouts.acquire_timeout_ms`: while the database is
/// down, calls fail fast with UNAVAILABLE instead of hanging until their deadline.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    timeouts: &crate::config::DatabaseSettings,
) -> anyhow::Result<DatabaseConnection> {
    let mut url = url.to_string();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        if !url.contains('?') {
            url.push_str("?mode=rwc");
        }
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(if url.starts_with("sqlite:") { 1.max(max_connections.min(4)) } else { max_connections })
        .min_connections(1)
        .connect_timeout(Duration::from_millis(timeouts.connect_timeout_ms.max(100)))
        .acquire_timeout(Duration::from_millis(timeouts.acquire_timeout_ms.max(100)))
        .sqlx_logging(false);
    let db = Database::connect(options).await.with_context(|| format!("connect to {}", redact(&url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the writer; busy_timeout makes writers queue, not fail.
        for pragma in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=10000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ] {
            db.execute_unprepared(pragma).await.with_context(|| pragma.to_string())?;
        }
    }
    Ok(db)
}

/// Applies every pending migration of `M`.
pub async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> anyhow::Result<()> {
    M::up(db, None).await.context("run migrations")
}

/// `url` with any password replaced, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// True when a database error means the database cannot be reached or is not accepting
/// work right now (connection refused or lost, pool exhausted, server shutting down or
/// starting), as opposed to an error in the statement or the data.
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_) => true,
        Sqlx::Protocol(_) => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: connection exceptions (08…), operator intervention (57P01 admin
            // shutdown, 57P02 crash shutdown, 57P03 cannot connect now), too many connections.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// `result`, with a unique violation answered by `conflict()` (ALREADY_EXISTS or
/// FAILED_PRECONDITION naming what is already there) and any other error as itself.
pub fn unique_or<T>(
    result: Result<T, sea_orm::DbErr>,
    conflict: impl FnOnce() -> crate::AppError,
) -> crate::error::AppResult<T> {
    match result {
        Ok(v) => Ok(v),
        Err(e) if is_unique_violation(&e) => Err(conflict()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("amqp://guest:guest@host:5672/%2f"), "amqp://guest:***@host:5672/%2f");
        assert_eq!(super::redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}

/// `new || substr(column, len(old) + 1)`: `column`'s value with its prefix `old` replaced by
/// `new` (materialised paths of a moved subtree). Valid on PostgreSQL and SQLite.
pub fn path_rewritten(
    column: impl sea_orm::sea_query::IntoColumnRef,
    old: &str,
    new: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func};
    let rest = Func::cust("substr").arg(Expr::col(column)).arg(old.chars().count() as i32 + 1);
    Expr::val(new.to_string()).binary(BinOper::Custom("||"), rest)
}

/// Rewrites every `table.column` that starts with `old` (a moved subtree's path) to start
/// with `new`; returns how many rows changed.
pub async fn rewrite_path_prefix(
    db: &impl sea_orm::ConnectionTrait,
    table: &str,
    column: &str,
    old: &str,
    new: &str,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    if old == new {
        return Ok(0);
    }
    let col = Alias::new(column);
    let update = Query::update()
        .table(Alias::new(table))
        .value(col.clone(), path_rewritten(col.clone(), old, new))
        .and_where(Expr::col(col).like(format!("{old}%")))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected())
}

#[cfg(test)]
mod rewrite_tests {
    #[tokio::test]
    async fn prefixes_are_rewritten() {
        use sea_orm::ConnectionTrait;
        let db = super::connect("sqlite::memory:", 1).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (p TEXT)").await.unwrap();
        db.execute_unprepared("INSERT INTO t VALUES ('/r/P/D/'), ('/r/P/D/G/'), ('/r/Q/')").await.unwrap();
        let n = super::rewrite_path_prefix(&db, "t", "p", "/r/P/D/", "/r/Q/D/").await.unwrap();
        assert_eq!(n, 2);
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT p FROM t ORDER BY p"))
            .await
            .unwrap();
        let paths: Vec<String> = rows.iter().map(|r| r.try_get("", "p").unwrap()).collect();
        assert_eq!(paths, ["/r/Q/", "/r/Q/D/", "/r/Q/D/G/"]);
    }
}

/// `sql` written for PostgreSQL (`$1, $2, …`, each placeholder used once and in order) as a
/// statement for `db`'s backend: on SQLite the placeholders become `?`.
pub fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                        chars.next();
                    }
                    out.push('?');
                } else {
                    out.push(c);
                }
            }
            out
        }
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}
