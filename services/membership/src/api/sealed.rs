//! Key rotation of the sealed personal fields: the re-encryption job and its progress.

use std::time::Duration;

use doan_platform::error::AppResult;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::storage::sealed::{self, SEALED};

/// How often the job looks for values sealed by an older key (it also looks at start).
const RESEAL_EVERY: Duration = Duration::from_secs(300);

impl MembershipApi {
    /// Reseals at start and every [`RESEAL_EVERY`] until shutdown.
    pub fn spawn_resealer(self: &std::sync::Arc<Self>) {
        let this = self.clone();
        doan_platform::jobs::every(self.ctx.shutdown.clone(), RESEAL_EVERY, "personal data resealed", move || {
            let this = this.clone();
            async move { this.reseal_stale().await }
        });
    }

    /// Reseals under the active key, bound to its place, every value sealed by an older key or
    /// in the format from before key ids, a batch of rows per transaction; returns how many
    /// rows. A row someone changed since it was read is left to the next look; a value that
    /// does not open (its key left the ring) is reported and left.
    pub async fn reseal_stale(&self) -> AppResult<usize> {
        let prefix = self.cipher.active_prefix();
        let jobs = &self.ctx.settings.jobs;
        let mut done = 0;
        for t in &SEALED {
            let mut after = Vec::new();
            loop {
                let page = sealed::stale(&self.ctx.db, t, &prefix, &after, jobs.batch_size.max(1)).await?;
                let Some(last) = page.last() else { break };
                after = last.key.clone();
                let txn = self.ctx.db.begin().await?;
                for row in &page {
                    let resealed: anyhow::Result<Vec<String>> = t
                        .columns
                        .iter()
                        .zip(&row.values)
                        .map(|(c, v)| match v.is_empty() || self.cipher.is_current(v) {
                            true => Ok(v.clone()),
                            false => self.cipher.reseal(&t.field(c, &row.row), v),
                        })
                        .collect();
                    match resealed {
                        Ok(values) => {
                            if sealed::replace(&txn, t, row, &values).await? {
                                done += 1;
                            }
                        }
                        Err(e) => {
                            tracing::error!(table = t.table, row = %row.row, error = %e, "a sealed value does not open; left as it is")
                        }
                    }
                }
                txn.commit().await?;
                if jobs.batch_pause_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(jobs.batch_pause_ms)).await;
                }
            }
        }
        Ok(done)
    }

    /// The keyring and how far each table is under the active key.
    pub(super) async fn get_encryption_status(&self) -> AppResult<pb::GetEncryptionStatusResponse> {
        let prefix = self.cipher.active_prefix();
        let mut tables = Vec::with_capacity(SEALED.len());
        for t in &SEALED {
            let (rows, current) = sealed::progress(&self.ctx.db, t, &prefix).await?;
            tables.push(pb::SealedTableStatus { table: t.table.to_string(), rows, current, remaining: rows - current });
        }
        Ok(pb::GetEncryptionStatusResponse {
            active_key_id: self.cipher.active_key_id().to_string(),
            index_key_id: self.cipher.index_key_id().to_string(),
            key_ids: self.cipher.key_ids(),
            complete: tables.iter().all(|t| t.remaining == 0),
            tables,
        })
    }
}
