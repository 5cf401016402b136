//! Every query and transaction on member imports: sessions, uploaded chunks, rejected rows,
//! event batches and the read models' acknowledgements.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::entities::{
    member_import, member_import_ack, member_import_batch, member_import_chunk, member_import_reject,
};
use crate::domain::import::ImportState;

/// Stores a new import session.
pub async fn create(db: &impl ConnectionTrait, row: member_import::Model) -> Result<member_import::Model, DbErr> {
    member_import::ActiveModel::from(row).insert(db).await
}

/// The import `import_id`.
pub async fn find(db: &impl ConnectionTrait, import_id: &str) -> Result<Option<member_import::Model>, DbErr> {
    member_import::Entity::find_by_id(import_id.to_string()).one(db).await
}

/// Appends `data` at `offset` when exactly `offset` bytes were received and the import is
/// still uploading; returns the bytes received after, or `None` when the import moved on.
pub async fn append_chunk(
    db: &DatabaseConnection,
    import_id: &str,
    offset: i64,
    data: Vec<u8>,
) -> Result<Option<i64>, DbErr> {
    let txn = db.begin().await?;
    let after = offset + data.len() as i64;
    let moved = member_import::Entity::update_many()
        .col_expr(member_import::Column::ReceivedBytes, Expr::value(after))
        .filter(member_import::Column::ImportId.eq(import_id))
        .filter(member_import::Column::State.eq(ImportState::Uploading as i32))
        .filter(member_import::Column::ReceivedBytes.eq(offset))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    member_import_chunk::ActiveModel { import_id: Set(import_id.to_string()), offset: Set(offset), data: Set(data) }
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(after))
}

/// The uploaded file, its chunks in order.
pub async fn file(db: &impl ConnectionTrait, import_id: &str) -> Result<Vec<u8>, DbErr> {
    let chunks = member_import_chunk::Entity::find()
        .filter(member_import_chunk::Column::ImportId.eq(import_id))
        .order_by_asc(member_import_chunk::Column::Offset)
        .all(db)
        .await?;
    Ok(chunks.into_iter().flat_map(|c| c.data).collect())
}

/// Forgets the uploaded bytes (a restarted upload, or an import that ended).
pub async fn drop_chunks(db: &impl ConnectionTrait, import_id: &str) -> Result<(), DbErr> {
    member_import_chunk::Entity::delete_many()
        .filter(member_import_chunk::Column::ImportId.eq(import_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Restarts an upload from offset 0 (the file's hash did not match).
pub async fn restart_upload(db: &DatabaseConnection, import_id: &str) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    drop_chunks(&txn, import_id).await?;
    member_import::Entity::update_many()
        .col_expr(member_import::Column::ReceivedBytes, Expr::value(0i64))
        .filter(member_import::Column::ImportId.eq(import_id))
        .filter(member_import::Column::State.eq(ImportState::Uploading as i32))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Ends an upload: QUEUED with the file's hash, when it was still uploading. Returns whether
/// it was.
pub async fn submit(db: &impl ConnectionTrait, import_id: &str, sha256: &str) -> Result<bool, DbErr> {
    let done = member_import::Entity::update_many()
        .col_expr(member_import::Column::State, Expr::value(ImportState::Queued as i32))
        .col_expr(member_import::Column::Sha256, Expr::value(sha256))
        .filter(member_import::Column::ImportId.eq(import_id))
        .filter(member_import::Column::State.eq(ImportState::Uploading as i32))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Imports a worker should run: submitted and not ended.
pub async fn runnable(db: &impl ConnectionTrait) -> Result<Vec<member_import::Model>, DbErr> {
    member_import::Entity::find()
        .filter(member_import::Column::State.between(ImportState::Queued as i32, ImportState::Applying as i32))
        .all(db)
        .await
}

/// Takes (or renews) the import's lease for `runner` until `until`, unless another process
/// holds a live one or the import is not runnable. Returns whether it holds it.
pub async fn claim(
    db: &impl ConnectionTrait,
    import_id: &str,
    runner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = member_import::Entity::update_many()
        .col_expr(member_import::Column::Runner, Expr::value(runner))
        .col_expr(member_import::Column::LeaseUntil, Expr::value(until))
        .col_expr(
            member_import::Column::StartedAt,
            Expr::col(member_import::Column::StartedAt).if_null(Expr::value(now)),
        )
        .filter(member_import::Column::ImportId.eq(import_id))
        .filter(member_import::Column::State.between(ImportState::Queued as i32, ImportState::Applying as i32))
        .filter(
            Condition::any()
                .add(member_import::Column::Runner.eq(runner))
                .add(member_import::Column::LeaseUntil.is_null())
                .add(member_import::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Gives the import up (a stopping process), so another takes it at once.
pub async fn release(db: &impl ConnectionTrait, import_id: &str, runner: &str) -> Result<(), DbErr> {
    member_import::Entity::update_many()
        .col_expr(member_import::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(member_import::Column::ImportId.eq(import_id))
        .filter(member_import::Column::Runner.eq(runner))
        .exec(db)
        .await?;
    Ok(())
}

/// The counts an import shows while it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Member rows in the file.
    pub total: i32,
    /// Checked.
    pub read: i32,
    /// Valid and not present.
    pub valid: i32,
    /// Rejected.
    pub rejected: i32,
    /// Already on file.
    pub present: i32,
}

/// Starts checking: VALIDATING, with the file's header and row count, earlier counts and
/// rejected rows (of an interrupted run) cleared.
pub async fn begin_checking(db: &DatabaseConnection, import_id: &str, header: &str, total: i32) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    member_import_reject::Entity::delete_many()
        .filter(member_import_reject::Column::ImportId.eq(import_id))
        .exec(&txn)
        .await?;
    member_import::Entity::update_many()
        .col_expr(member_import::Column::State, Expr::value(ImportState::Validating as i32))
        .col_expr(member_import::Column::Header, Expr::value(header))
        .col_expr(member_import::Column::RowsTotal, Expr::value(total))
        .col_expr(member_import::Column::RowsRead, Expr::value(0))
        .col_expr(member_import::Column::RowsValid, Expr::value(0))
        .col_expr(member_import::Column::RowsRejected, Expr::value(0))
        .col_expr(member_import::Column::RowsPresent, Expr::value(0))
        .filter(member_import::Column::ImportId.eq(import_id))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Records checking progress: the counts so far and rejected rows (line, cells as JSON,
/// problems), in one transaction.
pub async fn record_checked(
    db: &DatabaseConnection,
    import_id: &str,
    counts: Counts,
    rejected: Vec<(i32, String, String)>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for chunk in rejected.chunks(1_000) {
        let rows = chunk.iter().map(|(line, cells, problems)| member_import_reject::ActiveModel {
            import_id: Set(import_id.to_string()),
            line: Set(*line),
            cells: Set(cells.clone()),
            problems: Set(problems.clone()),
        });
        member_import_reject::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([member_import_reject::Column::ImportId, member_import_reject::Column::Line])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    set_counts(&txn, import_id, counts).await?;
    txn.commit().await
}

async fn set_counts(db: &impl ConnectionTrait, import_id: &str, c: Counts) -> Result<(), DbErr> {
    member_import::Entity::update_many()
        .col_expr(member_import::Column::RowsTotal, Expr::value(c.total))
        .col_expr(member_import::Column::RowsRead, Expr::value(c.read))
        .col_expr(member_import::Column::RowsValid, Expr::value(c.valid))
        .col_expr(member_import::Column::RowsRejected, Expr::value(c.rejected))
        .col_expr(member_import::Column::RowsPresent, Expr::value(c.present))
        .filter(member_import::Column::ImportId.eq(import_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the import to `state` (not ended).
pub async fn set_state(db: &impl ConnectionTrait, import_id: &str, state: ImportState) -> Result<(), DbErr> {
    member_import::Entity::update_many()
        .col_expr(member_import::Column::State, Expr::value(state as i32))
        .filter(member_import::Column::ImportId.eq(import_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records batch `batch` (its event and members) inside the transaction that wrote it, and
/// adds its members to the written count.
pub async fn record_batch(
    txn: &impl ConnectionTrait,
    import_id: &str,
    batch: i32,
    event_id: &str,
    members: i32,
) -> Result<(), DbErr> {
    member_import_batch::ActiveModel {
        import_id: Set(import_id.to_string()),
        batch: Set(batch),
        event_id: Set(event_id.to_string()),
        members: Set(members),
    }
    .insert(txn)
    .await?;
    member_import::Entity::update_many()
        .col_expr(member_import::Column::RowsWritten, Expr::col(member_import::Column::RowsWritten).add(members))
        .col_expr(member_import::Column::EventsTotal, Expr::value(batch))
        .filter(member_import::Column::ImportId.eq(import_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Ends the import in `state` (DONE or FAILED) with `error`, its uploaded bytes dropped.
pub async fn finish(
    db: &DatabaseConnection,
    import_id: &str,
    state: ImportState,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    member_import::Entity::update_many()
        .col_expr(member_import::Column::State, Expr::value(state as i32))
        .col_expr(member_import::Column::Error, Expr::value(error))
        .col_expr(member_import::Column::FinishedAt, Expr::value(now))
        .col_expr(member_import::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(member_import::Column::ImportId.eq(import_id))
        .exec(&txn)
        .await?;
    drop_chunks(&txn, import_id).await?;
    txn.commit().await
}

/// The rejected rows, by line.
pub async fn rejects(db: &impl ConnectionTrait, import_id: &str) -> Result<Vec<member_import_reject::Model>, DbErr> {
    member_import_reject::Entity::find()
        .filter(member_import_reject::Column::ImportId.eq(import_id))
        .order_by_asc(member_import_reject::Column::Line)
        .all(db)
        .await
}

/// Notes that `service` applied batch `batch` of `import_id` (once; a repeat is ignored).
pub async fn acknowledge(txn: &impl ConnectionTrait, import_id: &str, batch: i32, service: &str) -> Result<(), DbErr> {
    member_import_ack::Entity::insert(member_import_ack::ActiveModel {
        import_id: Set(import_id.to_string()),
        batch: Set(batch),
        service: Set(service.to_string()),
    })
    .on_conflict(
        OnConflict::columns([
            member_import_ack::Column::ImportId,
            member_import_ack::Column::Batch,
            member_import_ack::Column::Service,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Batches of `import_id` that every one of `services` applied.
pub async fn applied_batches(db: &impl ConnectionTrait, import_id: &str, services: &[String]) -> Result<i32, DbErr> {
    let acks = member_import_ack::Entity::find()
        .filter(member_import_ack::Column::ImportId.eq(import_id))
        .filter(member_import_ack::Column::Service.is_in(services.iter().cloned()))
        .all(db)
        .await?;
    let mut per_batch: std::collections::HashMap<i32, usize> = std::collections::HashMap::new();
    for ack in acks {
        *per_batch.entry(ack.batch).or_default() += 1;
    }
    Ok(per_batch.values().filter(|n| **n >= services.len()).count() as i32)
}

/// Batches of `import_id` whose event the broker confirmed.
pub async fn published_batches(db: &impl ConnectionTrait, import_id: &str) -> Result<i32, DbErr> {
    let outbox = Alias::new("outbox");
    let batches = Alias::new("member_import_batches");
    let query = Query::select()
        .expr(Expr::col((batches.clone(), Alias::new("batch"))).count())
        .from(batches.clone())
        .inner_join(
            outbox.clone(),
            Expr::col((outbox.clone(), Alias::new("event_id"))).equals((batches.clone(), Alias::new("event_id"))),
        )
        .and_where(Expr::col((batches, Alias::new("import_id"))).eq(import_id))
        .and_where(Expr::col((outbox, Alias::new("published_at"))).is_not_null())
        .to_owned();
    let row = db.query_one(&query).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0) as i32)
}
