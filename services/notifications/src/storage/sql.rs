//! Raw statements written once for both databases: `$1, $2, …` placeholders, each used once
//! and in order, become `?` on SQLite.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, Statement, Value};

pub use doan_platform::db::statement;

/// `n` placeholders from `$first`: `$3, $4, $5`.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Separates the ids of a list bound as one text on PostgreSQL (a control character: no id,
/// and no text the server accepts, holds one).
const SEPARATOR: char = '\u{1f}';

/// `column` is one of `ids`. On PostgreSQL the list is bound as one value and split into an
/// array by the server, so the statement has one plan whatever the number of ids and however
/// stale the table's statistics (an `IN ($1 … $1000)` list planned generically is searched
/// linearly for every row the scan meets); on SQLite it is a plain `IN` list.
pub fn one_of<C: ColumnTrait>(backend: DbBackend, column: C, ids: &[String]) -> Expr {
    match backend {
        DbBackend::Postgres => {
            debug_assert!(ids.iter().all(|id| !id.contains(SEPARATOR)));
            Expr::cust_with_values(
                format!("\"{}\" = ANY(string_to_array($1, chr(31)))", column.as_str()),
                [ids.join(&SEPARATOR.to_string())],
            )
        }
        _ => column.is_in(ids.iter().cloned()),
    }
}

/// How many ids one statement takes (SQLite binds each as its own value).
pub const LIST_CHUNK: usize = 5_000;

/// Writes `rows` (models of `table`, serialised with the table's column names) in one
/// statement on PostgreSQL: one JSON value that the server expands into rows of the table's
/// type, instead of a bound value per column and row. `None` on other databases: the caller
/// inserts through sea-orm.
pub async fn insert_json<T: serde::Serialize>(
    db: &impl ConnectionTrait,
    table: &str,
    rows: &[T],
) -> Result<Option<()>, sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    if rows.is_empty() {
        return Ok(Some(()));
    }
    let json = serde_json::to_string(rows).map_err(|e| sea_orm::DbErr::Custom(format!("rows of {table}: {e}")))?;
    let sql = format!("INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)");
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [Value::from(json)])).await?;
    Ok(Some(()))
}
