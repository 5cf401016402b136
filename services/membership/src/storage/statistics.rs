//! Every query on the per-unit counters behind live statistics.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set};

use super::entities::{subtree_counter, unit, unit_counter};
use crate::domain::stats::Counter;

/// Rows each counter is split over: concurrent changes to one unit (admissions to a busy
/// branch) update different rows instead of queueing on one row's lock until commit.
pub const SHARDS: i32 = 16;

/// Adds `changes` to the counters of `unit_id` and to the subtree totals of that unit and of
/// every unit above it (inside the transaction of the change), in one shard picked at random,
/// with one statement each; call it last before the commit, so that its row locks are held
/// briefly.
pub async fn apply(txn: &impl ConnectionTrait, unit_id: &str, changes: &[(Counter, i64)]) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    // The write first: on SQLite a transaction that read first and writes later fails when
    // another connection wrote in between (SQLITE_BUSY_SNAPSHOT); one that writes first waits.
    let shard = (rand::random::<u32>() % SHARDS as u32) as i32;
    add(txn, OWN, &[unit_id], changes, shard).await?;
    let path: Option<String> = unit::Entity::find_by_id(unit_id.to_string())
        .select_only()
        .column(unit::Column::Path)
        .into_tuple()
        .one(txn)
        .await?;
    roll_up(txn, &path.unwrap_or_default(), changes, shard).await
}

/// [`apply`] for a unit whose current path the caller read in the same request (saves a
/// query on the admission path).
pub async fn apply_at(
    txn: &impl ConnectionTrait,
    unit_id: &str,
    path: &str,
    changes: &[(Counter, i64)],
) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    let shard = (rand::random::<u32>() % SHARDS as u32) as i32;
    add(txn, OWN, &[unit_id], changes, shard).await?;
    roll_up(txn, path, changes, shard).await
}

/// One unit's counter changes: its id, its path, the changes.
pub type UnitChanges<'a> = (&'a str, &'a str, Vec<(Counter, i64)>);

/// [`apply_at`] for many units at once (an import batch): the changes summed per unit and per
/// subtree, then one statement per table for up to 2,000 counters.
pub async fn apply_many(txn: &impl ConnectionTrait, changes: &[UnitChanges<'_>]) -> Result<(), DbErr> {
    let mut own: BTreeMap<(&str, Counter), i64> = BTreeMap::new();
    let mut subtree: BTreeMap<(&str, Counter), i64> = BTreeMap::new();
    for (unit_id, path, counted) in changes {
        for (counter, delta) in counted {
            *own.entry((unit_id, counter.clone())).or_default() += delta;
            for above in path_units(path) {
                *subtree.entry((above, counter.clone())).or_default() += delta;
            }
        }
    }
    let shard = (rand::random::<u32>() % SHARDS as u32) as i32;
    for (table, rows) in [(OWN, own), (SUBTREE, subtree)] {
        let rows: Vec<((&str, Counter), i64)> = rows.into_iter().collect();
        for chunk in rows.chunks(2_000) {
            let insert = counters_insert(table, chunk.iter().map(|((u, c), n)| (*u, c, *n)), shard);
            execute(txn, insert).await?;
        }
    }
    Ok(())
}

/// The table of a unit's own counters.
const OWN: &str = "unit_counters";
/// The table of subtree totals: a unit's row counts its whole subtree.
const SUBTREE: &str = "subtree_counters";

/// The units of a materialised path, top down (`/a/b/c/` → a, b, c).
fn path_units(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Adds `changes` to the subtree totals of every unit on `path`.
async fn roll_up(txn: &impl ConnectionTrait, path: &str, changes: &[(Counter, i64)], shard: i32) -> Result<(), DbErr> {
    add(txn, SUBTREE, &path_units(path), changes, shard).await
}

/// Adds `changes` to the counters of each of `units` in `table`, in shard `shard`.
async fn add(
    txn: &impl ConnectionTrait,
    table: &'static str,
    units: &[&str],
    changes: &[(Counter, i64)],
    shard: i32,
) -> Result<(), DbErr> {
    let insert =
        counters_insert(table, units.iter().flat_map(|u| changes.iter().map(move |(c, n)| (*u, c, *n))), shard);
    execute(txn, insert).await
}

async fn execute(txn: &impl ConnectionTrait, insert: Option<sea_orm::sea_query::InsertStatement>) -> Result<(), DbErr> {
    match insert {
        Some(insert) => txn.execute(&insert).await.map(|_| ()),
        None => Ok(()),
    }
}

/// One statement adding each (unit, counter, delta) to `table` in shard `shard` (a counter
/// appears at most once); `None` without rows.
fn counters_insert<'a>(
    table: &'static str,
    rows: impl Iterator<Item = (&'a str, &'a Counter, i64)>,
    shard: i32,
) -> Option<sea_orm::sea_query::InsertStatement> {
    use sea_orm::sea_query::Alias;
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table)).columns(["unit_id", "metric", "key", "shard", "count"].map(Alias::new));
    let mut any = false;
    for (unit_id, (metric, key), delta) in rows {
        any = true;
        insert.values_panic([unit_id.into(), (*metric).into(), key.clone().into(), shard.into(), delta.into()]);
    }
    insert.on_conflict(
        OnConflict::columns(["unit_id", "metric", "key", "shard"].map(Alias::new))
            .value(Alias::new("count"), Expr::cust(format!("{table}.count + excluded.count")))
            .to_owned(),
    );
    any.then_some(insert)
}

/// Moves every counter of `from` to `to` (a merged unit's members and history are the
/// target's now): the units above `from` lose them, those above `to` gain them.
pub async fn move_all(txn: &impl ConnectionTrait, from: &str, to: &str) -> Result<(), DbErr> {
    let rows = unit_counter::Entity::find().filter(unit_counter::Column::UnitId.eq(from)).all(txn).await?;
    // The shards of each counter summed: one row per counter in one statement.
    let changes = summed(rows.into_iter().map(|r| (r.metric, r.key, r.count)));
    apply(txn, to, &changes).await?;
    let path: Option<String> = unit::Entity::find_by_id(from.to_string())
        .select_only()
        .column(unit::Column::Path)
        .into_tuple()
        .one(txn)
        .await?;
    let negated: Vec<(Counter, i64)> = changes.into_iter().map(|(c, n)| (c, -n)).collect();
    roll_up(txn, &path.unwrap_or_default(), &negated, 0).await?;
    unit_counter::Entity::delete_many().filter(unit_counter::Column::UnitId.eq(from)).exec(txn).await?;
    Ok(())
}

/// Counters summed over their shards; unknown metrics dropped.
fn summed(rows: impl Iterator<Item = (String, String, i64)>) -> Vec<(Counter, i64)> {
    let mut changes: Vec<(Counter, i64)> = Vec::new();
    for (metric, key, count) in rows {
        let Some(metric) = static_metric(&metric) else { continue };
        match changes.iter_mut().find(|((m, k), _)| *m == metric && *k == key) {
            Some((_, n)) => *n += count,
            None => changes.push(((metric, key), count)),
        }
    }
    changes
}

/// A subtree moved from `old_path` to `new_path` (the unit itself last on both): its totals
/// leave the units above it that it left and join those it joined.
pub async fn move_subtree(txn: &impl ConnectionTrait, old_path: &str, new_path: &str) -> Result<(), DbErr> {
    let (old, new) = (path_units(old_path), path_units(new_path));
    let Some(unit_id) = new.last() else { return Ok(()) };
    let totals = subtree_of(txn, unit_id).await?;
    let changes = summed(totals.into_iter().map(|s| (s.metric, s.key, s.total)));
    let left: Vec<&str> = old[..old.len().saturating_sub(1)].iter().copied().filter(|u| !new.contains(u)).collect();
    let joined: Vec<&str> = new[..new.len() - 1].iter().copied().filter(|u| !old.contains(u)).collect();
    let negated: Vec<(Counter, i64)> = changes.iter().map(|(c, n)| (c.clone(), -n)).collect();
    add(txn, SUBTREE, &left, &negated, 0).await?;
    add(txn, SUBTREE, &joined, &changes, 0).await
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

/// Every counter summed over the subtree of the unit at `path`: that unit's subtree totals,
/// a few hundred rows whatever the subtree's size.
pub async fn subtree(db: &impl ConnectionTrait, path: &str) -> Result<Vec<Sum>, DbErr> {
    match path_units(path).last() {
        Some(unit_id) => subtree_of(db, unit_id).await,
        None => Ok(Vec::new()),
    }
}

async fn subtree_of(db: &impl ConnectionTrait, unit_id: &str) -> Result<Vec<Sum>, DbErr> {
    subtree_counter::Entity::find()
        .select_only()
        .column(subtree_counter::Column::Metric)
        .column(subtree_counter::Column::Key)
        .column_as(Expr::cust("CAST(SUM(subtree_counters.count) AS BIGINT)"), "total")
        .filter(subtree_counter::Column::UnitId.eq(unit_id))
        .group_by(subtree_counter::Column::Metric)
        .group_by(subtree_counter::Column::Key)
        .into_model()
        .all(db)
        .await
}

/// Active members in the subtree of `unit_id`, from its subtree totals (one unit's rows, not a
/// count of the members).
pub async fn active_in_subtree(db: &impl ConnectionTrait, unit_id: &str) -> Result<u64, DbErr> {
    let active = (crate::domain::member::MemberStatus::Active as i32).to_string();
    let total = subtree_of(db, unit_id).await?.into_iter().find(|s| s.metric == "status" && s.key == active);
    Ok(total.map_or(0, |s| s.total.max(0) as u64))
}

/// Whether the subtree totals still have to be computed from the units' own counters (a
/// database that predates them).
pub async fn subtree_backfill_pending(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let marker = unit_counter::Entity::find()
        .filter(unit_counter::Column::UnitId.eq(""))
        .filter(unit_counter::Column::Metric.eq("meta"))
        .filter(unit_counter::Column::Key.eq("subtree_backfilled"))
        .one(db)
        .await?;
    Ok(marker.is_none())
}

/// Computes every subtree total from the units' own counters and marks it done, inside `txn`;
/// a second marker (another replica's backfill) is a unique violation, which rolls that one
/// back.
pub async fn backfill_subtrees(txn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let own = unit_counter::Entity::find().filter(unit_counter::Column::UnitId.ne("")).all(txn).await?;
    let paths: std::collections::HashMap<String, String> = unit::Entity::find()
        .select_only()
        .column(unit::Column::UnitId)
        .column(unit::Column::Path)
        .into_tuple::<(String, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut totals: std::collections::BTreeMap<(String, String, String), i64> = Default::default();
    for r in own {
        let Some(path) = paths.get(&r.unit_id) else { continue };
        for unit_id in path_units(path) {
            *totals.entry((unit_id.to_string(), r.metric.clone(), r.key.clone())).or_default() += r.count;
        }
    }
    let rows: Vec<subtree_counter::ActiveModel> = totals
        .into_iter()
        .map(|((unit_id, metric, key), count)| subtree_counter::ActiveModel {
            unit_id: Set(unit_id),
            metric: Set(metric),
            key: Set(key),
            shard: Set(0),
            count: Set(count),
        })
        .collect();
    let written = rows.len() as u64;
    for chunk in rows.chunks(1_000) {
        subtree_counter::Entity::insert_many(chunk.to_vec()).exec_without_returning(txn).await?;
    }
    unit_counter::Entity::insert(unit_counter::ActiveModel {
        unit_id: Set(String::new()),
        metric: Set("meta".into()),
        key: Set("subtree_backfilled".into()),
        shard: Set(0),
        count: Set(1),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(written)
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_names_its_units_top_down() {
        assert_eq!(super::path_units("/a/b/c/"), vec!["a", "b", "c"]);
        assert!(super::path_units("").is_empty());
    }
}
