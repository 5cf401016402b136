//! Every query on the per-unit counters behind live statistics.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set};

use super::entities::{unit, unit_counter};
use crate::domain::stats::Counter;

/// Rows each counter is split over: concurrent changes to one unit (admissions to a busy
/// branch) update different rows instead of queueing on one row's lock until commit.
pub const SHARDS: i32 = 16;

/// Adds `changes` to the counters of `unit_id` (inside the transaction of the change), in one
/// shard picked at random, with one statement; call it last before the commit, so that its
/// row locks are held briefly.
pub async fn apply(txn: &impl ConnectionTrait, unit_id: &str, changes: &[(Counter, i64)]) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    let shard = (rand::random::<u32>() % SHARDS as u32) as i32;
    let rows = changes.iter().map(|((metric, key), delta)| unit_counter::ActiveModel {
        unit_id: Set(unit_id.to_string()),
        metric: Set(metric.to_string()),
        key: Set(key.clone()),
        shard: Set(shard),
        count: Set(*delta),
    });
    unit_counter::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                unit_counter::Column::UnitId,
                unit_counter::Column::Metric,
                unit_counter::Column::Key,
                unit_counter::Column::Shard,
            ])
            .value(unit_counter::Column::Count, Expr::cust("unit_counters.count + excluded.count"))
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Moves every counter of `from` to `to` (a merged unit's members and history are the
/// target's now).
pub async fn move_all(txn: &impl ConnectionTrait, from: &str, to: &str) -> Result<(), DbErr> {
    let rows = unit_counter::Entity::find().filter(unit_counter::Column::UnitId.eq(from)).all(txn).await?;
    // The shards of each counter summed: one row per counter in one statement.
    let mut changes: Vec<(Counter, i64)> = Vec::new();
    for r in rows {
        let Some(metric) = static_metric(&r.metric) else { continue };
        match changes.iter_mut().find(|((m, k), _)| *m == metric && *k == r.key) {
            Some((_, n)) => *n += r.count,
            None => changes.push(((metric, r.key), r.count)),
        }
    }
    apply(txn, to, &changes).await?;
    unit_counter::Entity::delete_many().filter(unit_counter::Column::UnitId.eq(from)).exec(txn).await?;
    Ok(())
}

/// The metrics this code writes.
pub const METRICS: [&str; 11] = [
    "status",
    "sex",
    "birth_year",
    "ethnicity",
    "admitted",
    "transfer_in",
    "transfer_out",
    "aged_out",
    "party",
    "removed",
    "expelled",
];

fn static_metric(m: &str) -> Option<&'static str> {
    METRICS.iter().copied().find(|x| *x == m)
}

/// One summed counter.
#[derive(Debug, FromQueryResult)]
pub struct Sum {
    /// Metric.
    pub metric: String,
    /// Key.
    pub key: String,
    /// Sum over the subtree.
    pub total: i64,
}

/// Every counter summed over the units whose path starts with `path`.
pub async fn subtree(db: &impl ConnectionTrait, path: &str) -> Result<Vec<Sum>, DbErr> {
    unit_counter::Entity::find()
        .select_only()
        .column(unit_counter::Column::Metric)
        .column(unit_counter::Column::Key)
        .column_as(Expr::cust("CAST(SUM(unit_counters.count) AS BIGINT)"), "total")
        .filter(
            Expr::col(unit_counter::Column::UnitId).in_subquery(
                Query::select()
                    .column(unit::Column::UnitId)
                    .from(unit::Entity)
                    .and_where(Expr::col(unit::Column::Path).like(format!("{path}%")))
                    .to_owned(),
            ),
        )
        .group_by(unit_counter::Column::Metric)
        .group_by(unit_counter::Column::Key)
        .into_model()
        .all(db)
        .await
}

/// The last member row the migration left uncounted by ethnicity group, while that backfill
/// is still to do.
pub async fn ethnicity_backfill_pending(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let meta = unit_counter::Entity::find()
        .filter(unit_counter::Column::UnitId.eq(""))
        .filter(unit_counter::Column::Metric.eq("meta"))
        .all(db)
        .await?;
    if meta.iter().any(|r| r.key == "ethnicity_backfilled") {
        return Ok(None);
    }
    Ok(meta.iter().find(|r| r.key == "ethnicity_cutoff").map(|r| r.count).filter(|c| *c > 0))
}

/// Marks the ethnicity backfill done; a second marker (another replica's backfill) is a
/// unique violation, which rolls that backfill back.
pub async fn mark_ethnicity_backfilled(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    unit_counter::Entity::insert(unit_counter::ActiveModel {
        unit_id: Set(String::new()),
        metric: Set("meta".into()),
        key: Set("ethnicity_backfilled".into()),
        shard: Set(0),
        count: Set(1),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
