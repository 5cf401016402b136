//! Retention: bookkeeping rows are deleted once they are older than their configured age
//! (published outbox rows, inbox records, read notices). Each service declares its rules;
//! one job per process sweeps them periodically. Pending outbox rows are never touched.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::Shutdown;
use crate::config::RetentionSettings;
use crate::error::AppResult;

/// Rows of `table` whose `column` (a timestamp, NULL while the row must be kept) is older
/// than `keep` are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRule {
    /// Table name.
    pub table: &'static str,
    /// Timestamp column deciding the age.
    pub column: &'static str,
    /// Age after which rows go; `None` keeps them forever.
    pub keep: Option<Duration>,
}

/// Hours from settings as an age; 0 means keep forever.
pub fn hours(value: u64) -> Option<Duration> {
    (value > 0).then(|| Duration::from_secs(value.saturating_mul(3600)))
}

/// The platform's rules: published outbox rows and inbox records.
pub fn platform_rules(settings: &RetentionSettings) -> Vec<RetentionRule> {
    vec![
        RetentionRule { table: "outbox", column: "published_at", keep: hours(settings.outbox_published_hours) },
        RetentionRule { table: "inbox", column: "processed_at", keep: hours(settings.inbox_hours) },
    ]
}

/// Deletes what `rules` allow; returns the rows deleted per rule.
pub async fn sweep(db: &DatabaseConnection, rules: &[RetentionRule]) -> AppResult<Vec<u64>> {
    let backend = db.get_database_backend();
    let placeholder = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let mut deleted = Vec::with_capacity(rules.len());
    for rule in rules {
        let Some(keep) = rule.keep else {
            deleted.push(0);
            continue;
        };
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        // Table and column names come from code, never from input.
        let sql =
            format!("DELETE FROM {} WHERE {} IS NOT NULL AND {} < {placeholder}", rule.table, rule.column, rule.column);
        let result = db.execute_raw(Statement::from_sql_and_values(backend, sql, [cutoff.into()])).await?;
        deleted.push(result.rows_affected());
    }
    Ok(deleted)
}

/// Sweeps every `interval` until `shutdown`.
pub async fn run(db: DatabaseConnection, rules: Vec<RetentionRule>, interval: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match sweep(&db, &rules).await {
            Ok(deleted) => {
                for (rule, n) in rules.iter().zip(deleted).filter(|(_, n)| *n > 0) {
                    tracing::info!(table = rule.table, deleted = n, "retention: old rows deleted");
                }
            }
            Err(err) => tracing::warn!(error = %err, "retention sweep failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    #[tokio::test]
    async fn old_rows_go_and_recent_and_pending_rows_stay() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        db.execute_unprepared("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, published_at TEXT)").await.unwrap();
        let now = chrono::Utc::now();
        for (seq, published) in [(1, Some(now - chrono::Duration::days(10))), (2, Some(now)), (3, None)] {
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "INSERT INTO outbox (seq, published_at) VALUES (?, ?)",
                [seq.into(), published.into()],
            ))
            .await
            .unwrap();
        }
        let rules = [RetentionRule { table: "outbox", column: "published_at", keep: hours(24 * 7) }];
        assert_eq!(sweep(&db, &rules).await.unwrap(), [1], "only the row published 10 days ago");
        let left = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT seq FROM outbox ORDER BY seq"))
            .await
            .unwrap();
        let seqs: Vec<i64> = left.iter().map(|r| r.try_get("", "seq").unwrap()).collect();
        assert_eq!(seqs, [2, 3], "recent and pending rows stay");
        let forever = [RetentionRule { table: "outbox", column: "published_at", keep: hours(0) }];
        assert_eq!(sweep(&db, &forever).await.unwrap(), [0], "0 keeps forever");
    }
}
