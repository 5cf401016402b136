//! Every table with sealed (encrypted) personal fields, and the queries of the re-encryption
//! job: which rows are still sealed by an older key or in the format from before key ids, and
//! rewriting them, each row only if no one changed it since it was read.

use doan_platform::crypto::Field;
use sea_orm::{ConnectionTrait, DbErr, Value};

use doan_platform::db::statement;

/// A table holding sealed columns.
#[derive(Debug, Clone, Copy)]
pub struct SealedTable {
    /// Its name.
    pub table: &'static str,
    /// Its key columns, `true` for integer ones, joined by `/` into the row a value is bound to.
    pub key: &'static [(&'static str, bool)],
    /// Its sealed columns.
    pub columns: &'static [&'static str],
    /// Which rows hold sealed values (empty: all).
    pub only: &'static str,
}

/// Every table with sealed personal fields.
pub const SEALED: [SealedTable; 3] = [
    SealedTable {
        table: "members",
        key: &[("member_id", false)],
        columns: &["ethnicity_enc", "religion_enc", "citizen_id_enc", "phone_enc"],
        only: "",
    },
    SealedTable {
        table: "applications",
        key: &[("application_id", false)],
        columns: &["ethnicity_enc", "religion_enc", "citizen_id_enc", "phone_enc", "email_enc"],
        only: "",
    },
    SealedTable {
        table: "member_changes",
        key: &[("member_id", false), ("version", true), ("field", false)],
        columns: &["before_value", "after_value"],
        only: "personal = TRUE",
    },
];

/// One row read for resealing.
#[derive(Debug, Clone)]
pub struct SealedRow {
    /// Its key values, in the table's key order.
    pub key: Vec<Value>,
    /// The row its values are bound to (key values joined by `/`).
    pub row: String,
    /// The sealed values, in the table's column order.
    pub values: Vec<String>,
}

impl SealedTable {
    /// Where column `column` of `row` lives.
    pub fn field<'a>(&self, column: &'static str, row: &'a str) -> Field<'a> {
        Field::new(self.table, column, row)
    }

    /// SQL that is true when every sealed column of a row is sealed by the key of `prefix`
    /// (bound once per column, from `$first`) or empty.
    fn current(&self, first: usize) -> String {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("({c} = '' OR {c} LIKE ${})", first + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn filter(&self) -> String {
        if self.only.is_empty() { String::new() } else { format!(" AND {}", self.only) }
    }
}

/// Up to `limit` rows of `t` with a value not sealed by the key whose ciphertexts start with
/// `prefix`, in key order after `after` (empty: from the start; the last row's key values).
pub async fn stale(
    db: &impl ConnectionTrait,
    t: &SealedTable,
    prefix: &str,
    after: &[Value],
    limit: u64,
) -> Result<Vec<SealedRow>, DbErr> {
    let like = format!("{prefix}%");
    let mut values: Vec<Value> = t.columns.iter().map(|_| Value::from(like.clone())).collect();
    let key_cols: Vec<&str> = t.key.iter().map(|(c, _)| *c).collect();
    let mut sql = format!(
        "SELECT {}, {} FROM {} WHERE NOT ({}){}",
        key_cols.join(", "),
        t.columns.join(", "),
        t.table,
        t.current(1),
        t.filter()
    );
    if !after.is_empty() {
        let first = values.len() + 1;
        let placeholders: Vec<String> = (first..first + after.len()).map(|i| format!("${i}")).collect();
        sql.push_str(&format!(" AND ({}) > ({})", key_cols.join(", "), placeholders.join(", ")));
        values.extend(after.iter().cloned());
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ${}", key_cols.join(", "), values.len() + 1));
    values.push(Value::from(limit as i64));
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    rows.iter()
        .map(|r| {
            let mut key = Vec::with_capacity(t.key.len());
            let mut parts = Vec::with_capacity(t.key.len());
            for (c, int) in t.key {
                if *int {
                    let v: i64 = r.try_get("", c)?;
                    parts.push(v.to_string());
                    key.push(Value::from(v));
                } else {
                    let v: String = r.try_get("", c)?;
                    parts.push(v.clone());
                    key.push(Value::from(v));
                }
            }
            let values = t.columns.iter().map(|c| r.try_get::<String>("", c)).collect::<Result<Vec<_>, _>>()?;
            Ok(SealedRow { key, row: parts.join("/"), values })
        })
        .collect()
}

/// Replaces the sealed values of `row` with `resealed`, only if they are still what was read;
/// false when someone changed the row first (the next look reads it again).
pub async fn replace(
    db: &impl ConnectionTrait,
    t: &SealedTable,
    row: &SealedRow,
    resealed: &[String],
) -> Result<bool, DbErr> {
    let mut values: Vec<Value> = resealed.iter().cloned().map(Value::from).collect();
    let sets: Vec<String> = t.columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let mut conditions = Vec::new();
    for ((c, _), v) in t.key.iter().zip(&row.key) {
        values.push(v.clone());
        conditions.push(format!("{c} = ${}", values.len()));
    }
    for (c, v) in t.columns.iter().zip(&row.values) {
        values.push(Value::from(v.clone()));
        conditions.push(format!("{c} = ${}", values.len()));
    }
    let sql = format!("UPDATE {} SET {} WHERE {}", t.table, sets.join(", "), conditions.join(" AND "));
    Ok(db.execute_raw(statement(db, &sql, values)).await?.rows_affected() == 1)
}

/// (rows, rows with every value sealed by the key of `prefix`) of `t`.
pub async fn progress(db: &impl ConnectionTrait, t: &SealedTable, prefix: &str) -> Result<(i64, i64), DbErr> {
    let like = format!("{prefix}%");
    let values: Vec<Value> = t.columns.iter().map(|_| Value::from(like.clone())).collect();
    let only = if t.only.is_empty() { String::new() } else { format!(" WHERE {}", t.only) };
    let sql = format!(
        "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS current FROM {}{only}",
        t.current(1),
        t.table
    );
    let row = db.query_one_raw(statement(db, &sql, values)).await?;
    let Some(r) = row else { return Ok((0, 0)) };
    Ok((r.try_get("", "total")?, r.try_get("", "current")?))
}
