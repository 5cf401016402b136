//! The audiences' read models (officer positions, clusters, teams, kept from membership's and
//! activities' events) and the resolution of a broadcast's audience into its recorded
//! recipients, in one statement on the database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};

use super::entities::{broadcast, cluster, position, team};
use super::sql::{one_of, statement};
use crate::domain::broadcasts::{Audience, Secretary};

/// Whether a copy changed at (`at`, `event`) may be replaced by a change at (`new_at`,
/// `new_event`): nothing there yet, or older.
fn replaceable(found: Option<(DateTime<Utc>, String)>, new_at: DateTime<Utc>, new_event: &str) -> bool {
    found.is_none_or(|(at, event)| (at, event.as_str()) < (new_at, new_event))
}

/// Keeps the newest state of a position.
pub async fn apply_position(txn: &impl ConnectionTrait, p: position::Model) -> Result<(), DbErr> {
    let found = position::Entity::find_by_id(p.position_id.clone()).one(txn).await?;
    if !replaceable(found.map(|o| (o.changed_at, o.changed_by_event)), p.changed_at, &p.changed_by_event) {
        return Ok(());
    }
    position::Entity::insert(position::ActiveModel::from(p))
        .on_conflict(
            OnConflict::column(position::Column::PositionId)
                .update_columns([
                    position::Column::UnitId,
                    position::Column::AccountId,
                    position::Column::MemberId,
                    position::Column::Kind,
                    position::Column::StartsOn,
                    position::Column::EndsOn,
                    position::Column::EndedOn,
                    position::Column::HolderName,
                    position::Column::ChangedAt,
                    position::Column::ChangedByEvent,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A group (cluster or team) with its members, as an event carries it.
pub struct Group {
    /// Cluster or team id.
    pub id: String,
    /// Owning unit.
    pub unit_id: String,
    /// Name.
    pub name: String,
    /// Units (clusters) or members (teams).
    pub members: Vec<String>,
    /// When the change happened.
    pub changed_at: DateTime<Utc>,
    /// The event that carried it.
    pub event_id: String,
}

/// Where a kind of group is kept: its table and key, its link table and member column.
pub struct GroupTables {
    table: &'static str,
    key: &'static str,
    link: &'static str,
    member: &'static str,
}

/// Clusters and their units.
pub const CLUSTERS: GroupTables =
    GroupTables { table: "clusters", key: "cluster_id", link: "cluster_units", member: "unit_id" };
/// Teams and their members.
pub const TEAMS: GroupTables =
    GroupTables { table: "teams", key: "team_id", link: "team_members", member: "member_id" };

/// Keeps the newest state of a group and its members.
pub async fn apply_group(txn: &impl ConnectionTrait, t: &GroupTables, g: Group) -> Result<(), DbErr> {
    let found = txn
        .query_one_raw(statement(
            txn,
            &format!("SELECT changed_at, changed_by_event FROM {} WHERE {} = $1", t.table, t.key),
            vec![g.id.clone().into()],
        ))
        .await?;
    let found = match found {
        Some(row) => {
            Some((row.try_get::<DateTime<Utc>>("", "changed_at")?, row.try_get::<String>("", "changed_by_event")?))
        }
        None => None,
    };
    if !replaceable(found, g.changed_at, &g.event_id) {
        return Ok(());
    }
    for table in [t.table, t.link] {
        let sql = format!("DELETE FROM {table} WHERE {} = $1", t.key);
        txn.execute_raw(statement(txn, &sql, vec![g.id.clone().into()])).await?;
    }
    let sql = format!(
        "INSERT INTO {} ({}, unit_id, name, changed_at, changed_by_event) VALUES ($1, $2, $3, $4, $5)",
        t.table, t.key
    );
    let values = vec![g.id.clone().into(), g.unit_id.into(), g.name.into(), g.changed_at.into(), g.event_id.into()];
    txn.execute_raw(statement(txn, &sql, values)).await?;
    let mut members = g.members;
    members.sort();
    members.dedup();
    for chunk in members.chunks(1_000) {
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
        let sql = format!("INSERT INTO {} ({}, {}) VALUES {}", t.link, t.key, t.member, rows.join(", "));
        let values = chunk.iter().flat_map(|m| [Value::from(g.id.clone()), Value::from(m.clone())]).collect();
        txn.execute_raw(statement(txn, &sql, values)).await?;
    }
    Ok(())
}

/// The cluster `id`.
pub async fn cluster(db: &impl ConnectionTrait, id: &str) -> Result<Option<cluster::Model>, DbErr> {
    cluster::Entity::find_by_id(id.to_string()).one(db).await
}

/// The team `id`.
pub async fn team(db: &impl ConnectionTrait, id: &str) -> Result<Option<team::Model>, DbErr> {
    team::Entity::find_by_id(id.to_string()).one(db).await
}

const INSERT_RECIPIENTS: &str = "INSERT INTO broadcast_recipients \
    (broadcast_id, recipient_id, name, unit_id, unit_path, notification_id, meeting_response, attended) ";
const MEMBER_COLUMNS: &str = "SELECT $1, m.member_id, m.full_name, m.unit_id, m.unit_path, '', 0, FALSE ";

/// Records the recipients of broadcast `b` (its audience as the read models hold it on
/// `today`, ISO date), inside the sender's subtree; returns how many are recorded.
pub async fn resolve(txn: &impl ConnectionTrait, b: &broadcast::Model, today: &str) -> Result<u64, DbErr> {
    let id = Value::from(b.broadcast_id.clone());
    let within = Value::from(format!("{}%", b.unit_path));
    let audience =
        Audience::from_parts(b.audience_kind, b.audience_ref.clone(), b.audience_position_kind, b.audience_unit_level)
            .ok_or_else(|| DbErr::Custom(format!("broadcast {} has an unknown audience kind", b.broadcast_id)))?;
    let (sql, values) = match audience {
        Audience::Member(member) => (
            format!(
                "{INSERT_RECIPIENTS}{MEMBER_COLUMNS}FROM directory_members m \
                 WHERE m.member_id = $2 AND m.status = 1 AND m.unit_path LIKE $3 ON CONFLICT DO NOTHING"
            ),
            vec![id, member.into(), within],
        ),
        Audience::Unit(unit) => {
            let Some(path) = unit_path(txn, &unit).await? else { return count(txn, &b.broadcast_id).await };
            (
                format!(
                    "{INSERT_RECIPIENTS}{MEMBER_COLUMNS}FROM directory_members m \
                     WHERE m.status = 1 AND m.unit_path LIKE $2 AND m.unit_path LIKE $3 ON CONFLICT DO NOTHING"
                ),
                vec![id, format!("{path}%").into(), within],
            )
        }
        Audience::Role { unit_id, position_kind, unit_level } => {
            let Some(path) = unit_path(txn, &unit_id).await? else { return count(txn, &b.broadcast_id).await };
            let level = if unit_level > 0 { " AND u.level = $7" } else { "" };
            let mut values = vec![
                id,
                format!("{path}%").into(),
                within,
                position_kind.into(),
                today.to_string().into(),
                today.to_string().into(),
            ];
            if unit_level > 0 {
                values.push(unit_level.into());
            }
            (
                format!(
                    "{INSERT_RECIPIENTS}SELECT $1, p.account_id, p.holder_name, p.unit_id, u.path, '', 0, FALSE \
                     FROM positions p JOIN directory_units u ON u.unit_id = p.unit_id \
                     WHERE u.path LIKE $2 AND u.path LIKE $3 AND u.status = 1 AND p.kind = $4 \
                     AND p.starts_on <= $5 AND (p.ends_on = '' OR p.ends_on >= $6) AND p.ended_on = ''{level} \
                     ON CONFLICT DO NOTHING"
                ),
                values,
            )
        }
        Audience::Cluster(cluster) => {
            // One subtree statement per unit of the cluster, each on the path index.
            let units = super::entities::cluster_unit::Entity::find()
                .filter(super::entities::cluster_unit::Column::ClusterId.eq(&cluster))
                .all(txn)
                .await?;
            for u in units {
                let Some(path) = unit_path(txn, &u.unit_id).await? else { continue };
                let sql = format!(
                    "{INSERT_RECIPIENTS}{MEMBER_COLUMNS}FROM directory_members m \
                     WHERE m.status = 1 AND m.unit_path LIKE $2 AND m.unit_path LIKE $3 ON CONFLICT DO NOTHING"
                );
                let values = vec![id.clone(), format!("{path}%").into(), within.clone()];
                txn.execute_raw(statement(txn, &sql, values)).await?;
            }
            return count(txn, &b.broadcast_id).await;
        }
        Audience::Team(team) => (
            format!(
                "{INSERT_RECIPIENTS}{MEMBER_COLUMNS}FROM team_members tm \
                 JOIN directory_members m ON m.member_id = tm.member_id \
                 WHERE tm.team_id = $2 AND m.status = 1 AND m.unit_path LIKE $3 ON CONFLICT DO NOTHING"
            ),
            vec![id, team.into(), within],
        ),
    };
    txn.execute_raw(statement(txn, &sql, values)).await?;
    count(txn, &b.broadcast_id).await
}

/// The recipients recorded for broadcast `id`.
async fn count(txn: &impl ConnectionTrait, id: &str) -> Result<u64, DbErr> {
    let row = txn
        .query_one_raw(statement(
            txn,
            "SELECT COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = $1",
            vec![id.to_string().into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0).max(0) as u64)
}

/// The path of unit `id` in the directory.
pub async fn unit_path(db: &impl ConnectionTrait, id: &str) -> Result<Option<String>, DbErr> {
    Ok(doan_platform::directory::unit::Entity::find_by_id(id.to_string()).one(db).await?.map(|u| u.path))
}

/// The secretaries in force on `today` (ISO) of each of `units`.
pub async fn secretaries(
    db: &impl ConnectionTrait,
    units: &[String],
    today: &str,
) -> Result<HashMap<String, Vec<Secretary>>, DbErr> {
    let mut out: HashMap<String, Vec<Secretary>> = HashMap::new();
    for chunk in units.chunks(500) {
        let rows = position::Entity::find()
            .filter(one_of(db.get_database_backend(), position::Column::UnitId, chunk))
            .filter(position::Column::Kind.eq(1))
            .filter(position::Column::StartsOn.lte(today))
            .filter(position::Column::EndedOn.eq(""))
            .all(db)
            .await?;
        for p in rows {
            if !p.ends_on.is_empty() && p.ends_on.as_str() < today {
                continue;
            }
            out.entry(p.unit_id).or_default().push(Secretary { account_id: p.account_id, member_id: p.member_id });
        }
    }
    Ok(out)
}
