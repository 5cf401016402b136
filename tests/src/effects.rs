//! Counting effects behind the API: for operations the platform acknowledged, how many of
//! their effects each service holds. A fault test passes only with 0 lost and 0 duplicated
//! in every service that has an effect.

use std::collections::BTreeMap;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use doan_platform::config::Settings;

use crate::TestPlatform;

/// Rows per key returned by `sql` (`SELECT key, COUNT(*) AS n … GROUP BY key`).
pub async fn counts(db: &DatabaseConnection, sql: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await?;
    let mut out = BTreeMap::new();
    for row in rows {
        out.insert(row.try_get::<String>("", "k")?, row.try_get::<i64>("", "n")?);
    }
    Ok(out)
}

/// One effect of an operation: where it is and how to count it per operation key.
#[derive(Debug, Clone, Copy)]
pub struct Effect {
    /// A short name for reports (`notifications.welcome`).
    pub name: &'static str,
    /// The service whose database holds it.
    pub service: &'static str,
    /// `SELECT <key> AS k, <count> AS n FROM … GROUP BY …`.
    pub sql: &'static str,
}

/// Effects of an admission, keyed by member id.
pub const ADMISSION_EFFECTS: [Effect; 5] = [
    Effect {
        name: "membership.members",
        service: "membership",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM members GROUP BY member_id",
    },
    Effect {
        name: "activities.directory",
        service: "activities",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM directory_members GROUP BY member_id",
    },
    Effect {
        name: "awards.directory",
        service: "awards",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM directory_members GROUP BY member_id",
    },
    Effect {
        name: "notifications.directory",
        service: "notifications",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM directory_members GROUP BY member_id",
    },
    Effect {
        name: "notifications.welcome",
        service: "notifications",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM notifications WHERE kind = 1 GROUP BY member_id",
    },
];

/// Effects of a check-in, keyed by member id (one activity per test).
pub const CHECK_IN_EFFECTS: [Effect; 4] = [
    Effect {
        name: "activities.participations",
        service: "activities",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM participations WHERE checked_in_at IS NOT NULL GROUP BY member_id",
    },
    Effect {
        name: "awards.standings",
        service: "awards",
        sql: "SELECT member_id AS k, CAST(SUM(participations) AS BIGINT) AS n FROM standings GROUP BY member_id",
    },
    Effect {
        name: "notifications.check_in",
        service: "notifications",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM notifications WHERE kind = 2 GROUP BY member_id",
    },
    Effect {
        name: "membership.evidence",
        service: "membership",
        sql: "SELECT member_id AS k, COUNT(*) AS n FROM member_participations GROUP BY member_id",
    },
];

/// Lost and duplicated effects of acknowledged operations, per effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Effect name → (acknowledged, present once, lost, duplicated).
    pub per_effect: BTreeMap<&'static str, (usize, usize, usize, usize)>,
}

impl Tally {
    /// True when nothing is lost or duplicated anywhere.
    pub fn is_exact(&self) -> bool {
        self.per_effect.values().all(|&(acked, once, lost, dup)| acked == once && lost == 0 && dup == 0)
    }

    /// One line per effect, for assertions and closing notes.
    pub fn report(&self) -> String {
        self.per_effect
            .iter()
            .map(|(name, (acked, once, lost, dup))| {
                format!("{name}: {acked} acknowledged, {once} present once, {lost} lost, {dup} duplicated")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Counts each of `effects` for the acknowledged operation keys `acked`, in the databases of
/// `settings`.
pub async fn tally(settings: &Settings, effects: &[Effect], acked: &[String]) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for effect in effects {
        let db = crate::database(settings, effect.service).await?;
        let present = counts(&db, effect.sql).await?;
        db.close().await?;
        let (mut once, mut lost, mut dup) = (0, 0, 0);
        for key in acked {
            match present.get(key).copied().unwrap_or(0) {
                0 => lost += 1,
                1 => once += 1,
                _ => dup += 1,
            }
        }
        tally.per_effect.insert(effect.name, (acked.len(), once, lost, dup));
    }
    Ok(tally)
}

/// Waits until every effect of every acknowledged operation arrived (or `timeout`), then
/// returns the tally (which the caller asserts exact, and prints).
pub async fn settle(tp: &TestPlatform, effects: &[Effect], acked: &[String], timeout: Duration) -> Tally {
    settle_in(&tp.settings, effects, acked, timeout).await
}

/// [`settle`] for the databases of `settings`.
pub async fn settle_in(settings: &Settings, effects: &[Effect], acked: &[String], timeout: Duration) -> Tally {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let tally = tally(settings, effects, acked).await.expect("count effects");
        let complete = tally.per_effect.values().all(|&(acked, _, lost, _)| lost == 0 || acked == 0);
        if complete || tokio::time::Instant::now() > deadline {
            return tally;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The tree and the members as membership holds them, as `key → value` rows: units
/// `unit_id → path|status|merged_into`, members `member_id → unit_id|unit_path|status`.
async fn membership_tree(settings: &Settings) -> anyhow::Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let db = crate::database(settings, "membership").await?;
    let units = pairs(
        &db,
        "SELECT unit_id AS k, path || '|' || CAST(status AS TEXT) || '|' || COALESCE(merged_into, '') AS v FROM units",
    )
    .await?;
    let members =
        pairs(&db, "SELECT member_id AS k, unit_id || '|' || unit_path AS v FROM members WHERE status = 1").await?;
    db.close().await?;
    Ok((units, members))
}

async fn pairs(db: &DatabaseConnection, sql: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await?;
    let mut out = BTreeMap::new();
    for row in rows {
        out.insert(row.try_get::<String>("", "k")?, row.try_get::<String>("", "v")?);
    }
    Ok(out)
}

/// Waits until the directory of every consuming service (activities, awards, notifications)
/// holds exactly membership's tree (paths, statuses, merges) and every member in membership's
/// unit and path with membership's status, or panics after `timeout` naming the first difference.
pub async fn directories_converge(settings: &Settings, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (units, members) = membership_tree(settings).await.expect("read membership");
        let mut difference = None;
        for service in ["activities", "awards", "notifications"] {
            let db = crate::database(settings, service).await.expect("connect");
            let held_units = pairs(
                &db,
                "SELECT unit_id AS k, path || '|' || CAST(status AS TEXT) || '|' || merged_into AS v FROM directory_units",
            )
            .await
            .expect("directory units");
            let held_members =
                pairs(&db, "SELECT member_id AS k, unit_id || '|' || unit_path AS v FROM directory_members")
                    .await
                    .expect("directory members");
            db.close().await.ok();
            let mismatch = units
                .iter()
                .find(|(k, v)| held_units.get(*k) != Some(*v))
                .map(|(k, v)| format!("{service}: unit {k} is {:?}, membership has {v:?}", held_units.get(k)))
                .or_else(|| {
                    members.iter().find(|(k, v)| held_members.get(*k) != Some(*v)).map(|(k, v)| {
                        format!("{service}: member {k} is {:?}, membership has {v:?}", held_members.get(k))
                    })
                });
            if mismatch.is_some() {
                difference = mismatch;
                break;
            }
        }
        match difference {
            None => return,
            Some(d) if tokio::time::Instant::now() > deadline => panic!("read models did not converge: {d}"),
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Panics unless every unit's subtree totals (what statistics read) count exactly the members
/// in its subtree by status, as membership's own rows have them.
pub async fn subtree_totals_match_members(settings: &Settings) {
    let db = crate::database(settings, "membership").await.expect("connect");
    let units =
        counts(&db, "SELECT unit_id || '|' || path AS k, CAST(0 AS BIGINT) AS n FROM units").await.expect("units");
    let totals = counts(
        &db,
        "SELECT unit_id || '|' || key AS k, CAST(SUM(count) AS BIGINT) AS n FROM subtree_counters \
         WHERE metric = 'status' GROUP BY unit_id, key",
    )
    .await
    .expect("subtree totals");
    let members = counts(
        &db,
        "SELECT unit_path || '|' || CAST(status AS TEXT) AS k, COUNT(*) AS n FROM members GROUP BY unit_path, status",
    )
    .await
    .expect("members");
    db.close().await.ok();
    for unit in units.keys() {
        let (unit_id, path) = unit.split_once('|').expect("id|path");
        for status in 1..=5 {
            let held: i64 = members
                .iter()
                .filter(|(k, _)| k.starts_with(path) && k.ends_with(&format!("|{status}")))
                .map(|(_, n)| *n)
                .sum();
            let counted = totals.get(&format!("{unit_id}|{status}")).copied().unwrap_or(0);
            assert_eq!(counted, held, "unit {unit_id} ({path}): status {status} counted {counted}, held {held}");
        }
    }
}
