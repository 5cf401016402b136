//! Retention of removed members' personal data: after `retention.removed_members_days`, a
//! member who was removed (xóa tên) or expelled (khai trừ) keeps their member number, unit,
//! dates and status, and loses everything else that identifies them.

use std::time::Duration;

use doan_platform::error::AppResult;
use sea_orm::{ActiveValue::Set, TransactionTrait};

use super::MembershipApi;
use crate::domain::stats;
use crate::events::publish;
use crate::storage::entities::member;
use crate::storage::{members, statistics};

/// The fields anonymisation empties whose history goes too (besides the personal ones).
const CLEARED_FIELDS: &[&str] = &[
    "full_name",
    "date_of_birth",
    "email",
    "hometown",
    "residence",
    "occupation",
    "citizen_id_issued_place",
    "citizen_id_issued_on",
];

/// The name an anonymised member is shown by.
pub const ANONYMOUS_NAME: &str = "Đoàn viên (đã ẩn danh)";

impl MembershipApi {
    /// Anonymises at start and every `retention.interval_secs` until shutdown.
    pub fn spawn_anonymiser(self: &std::sync::Arc<Self>) {
        let this = self.clone();
        let every = Duration::from_secs(self.ctx.settings.retention.interval_secs.max(1));
        doan_platform::jobs::every(self.ctx.shutdown.clone(), every, "removed members anonymised", move || {
            let this = this.clone();
            async move { this.anonymise_removed().await }
        });
    }

    /// Anonymises the members removed or expelled more than `retention.removed_members_days`
    /// ago (Vietnam dates), one transaction each with the `MemberUpdated` that carries the
    /// anonymous name to the other services; returns how many.
    pub async fn anonymise_removed(&self) -> AppResult<usize> {
        let days = self.ctx.settings.retention.removed_members_days;
        if days == 0 {
            return Ok(0);
        }
        let before = self.ctx.clock.today() - chrono::Duration::days(days.min(365_000) as i64);
        let mut done = 0;
        loop {
            let page = members::to_anonymise(&self.ctx.db, before, 100).await?;
            if page.is_empty() {
                return Ok(done);
            }
            let mut changed = 0;
            for m in page {
                if self.anonymise(&m).await? {
                    changed += 1;
                }
            }
            done += changed;
            if changed == 0 {
                // Every one of them changed under us: the next look reads them again.
                return Ok(done);
            }
        }
    }

    /// Anonymises `m`; false when it changed since it was read.
    async fn anonymise(&self, m: &member::Model) -> AppResult<bool> {
        let seal = |column: &'static str| self.cipher.seal(&members::protected(column, &m.member_id), "");
        let now = self.ctx.clock.now();
        let version = m.version + 1;
        let row = member::ActiveModel {
            full_name: Set(ANONYMOUS_NAME.to_string()),
            name_key: Set("-".to_string()),
            // The year of birth stays (statistics by age); the day does not.
            date_of_birth: Set(chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&m.date_of_birth), 1, 1)
                .unwrap_or(m.date_of_birth)),
            ethnicity_enc: Set(seal("ethnicity_enc")),
            religion_enc: Set(seal("religion_enc")),
            citizen_id_enc: Set(seal("citizen_id_enc")),
            // Unique, and no citizen ID's index.
            citizen_id_index: Set(format!("anonymised:{}", m.member_id)),
            phone_enc: Set(seal("phone_enc")),
            phone_index: Set(String::new()),
            email: Set(String::new()),
            hometown: Set(String::new()),
            residence: Set(String::new()),
            citizen_id_issued_place: Set(String::new()),
            citizen_id_issued_on: Set(None),
            occupation: Set(String::new()),
            version: Set(version),
            anonymised_at: Set(Some(now)),
            ..Default::default()
        };
        // A value that does not open holds back the counts, not the anonymisation.
        let before_facts = match self.facts(m) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(member_id = %m.member_id, error = %e, "counts of a member to anonymise unreadable; left as they are");
                None
            }
        };
        let txn = self.ctx.db.begin().await?;
        if !members::replace_if_unchanged(&txn, row, &m.member_id, m.version).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let Some(updated) = members::find(&txn, &m.member_id).await? else {
            txn.rollback().await?;
            return Ok(false);
        };
        if let Some(before_facts) = before_facts {
            let after_facts = self.facts(&updated)?;
            statistics::apply(&txn, &updated.unit_id, &stats::diff(Some(&before_facts), Some(&after_facts))).await?;
        }
        members::forget_personal_history(&txn, &m.member_id, CLEARED_FIELDS).await?;
        let sealed =
            |column: &'static str, id: &str| self.cipher.seal(&crate::storage::applications::protected(column, id), "");
        members::anonymise_application_and_account(&txn, &m.member_id, ANONYMOUS_NAME, sealed).await?;
        self.ctx.outbox.enqueue(&txn, &publish::member_updated(&updated)).await?;
        txn.commit().await?;
        self.ctx.outbox.wake();
        tracing::info!(member_id = %m.member_id, "removed member's personal data anonymised");
        Ok(true)
    }
}
