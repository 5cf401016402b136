//! The broadcast jobs: sending (the audience resolved into recorded recipients, then notices
//! and deliveries written in chunks, resumable under a lease), directive reminders before the
//! deadline, escalation to secretaries at the deadline, and the digests of what waited for the
//! end of quiet hours. Each step is claimed in the database, so any number of replicas may look.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use doan_platform::clock::{Clock, vietnam_time};
use doan_platform::convert::{format_date, new_id};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::Notify;

use super::deliver::{Handed, Handoff, Lanes, plan, preferences_of};
use crate::domain::broadcasts::{self as rules, BroadcastKind, path_units};
use crate::domain::deliveries::DeliveryState;
use crate::domain::notices::{Notice, NoticeKind};
use crate::domain::templates::{self, DigestItem};
use crate::storage::entities::{broadcast, delivery, recipient};
use crate::storage::{audiences, broadcasts as store, deliveries, notices, notification, preferences};

/// Runs the broadcast jobs of one replica.
#[derive(Clone)]
pub struct Broadcaster {
    /// The service's database.
    pub db: DatabaseConnection,
    /// Now.
    pub clock: Clock,
    /// Configured providers.
    pub lanes: Lanes,
    /// Recipients per transaction.
    pub chunk: u64,
    /// Chunks written at once (1 on SQLite, whose one writer would only queue them).
    pub parallel: u64,
    /// How long a sender holds a broadcast between chunks.
    pub lease: chrono::Duration,
    /// Live watchers of this replica.
    pub new_notices: Arc<super::live::Live>,
    /// Wakes the dispatcher.
    pub wake: Arc<Notify>,
    /// Where committed deliveries go straight to this replica's dispatcher.
    pub handoff: Handoff,
}

/// When a broadcast's deliveries stop being worth sending.
fn expiry(b: &broadcast::Model) -> Option<DateTime<Utc>> {
    b.meeting_ends_at.or(b.deadline).or(Some(b.send_at + chrono::Duration::days(7)))
}

/// A directive's deadline as its emails show it (none when nothing must be acknowledged).
fn deadline_shown(b: &broadcast::Model) -> Option<String> {
    b.deadline.filter(|_| b.acknowledgement_required).map(vietnam_time)
}

impl Broadcaster {
    fn committed(&self, written: Vec<notification::Model>, handed: Vec<Handed>) {
        for h in handed {
            self.handoff.hand(h);
        }
        self.wake.notify_one();
        for n in written {
            self.new_notices.send(Arc::new(n));
        }
    }

    /// Sends every broadcast due (or abandoned by a stopped sender); returns how many finished.
    pub async fn look(&self) -> Result<usize, DbErr> {
        let mut done = 0;
        // One broadcast or step failing holds none of the others.
        for id in store::due(&self.db, self.clock.now(), 100).await? {
            match self.send(&id).await {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(broadcast_id = %id, error = %e, "sending a broadcast paused; the next look resumes it")
                }
            }
        }
        for (what, step) in [
            ("reminders", self.remind().await),
            ("escalations", self.escalate().await),
            ("digests", self.digest().await),
        ] {
            match step {
                Ok(n) => done += n,
                Err(e) => tracing::warn!(step = what, error = %e, "a broadcast step failed; retried at the next look"),
            }
        }
        Ok(done)
    }

    /// Takes broadcast `id` if due and sends it to the end; false when someone else holds it or
    /// it is not due.
    pub async fn send(&self, id: &str) -> Result<bool, DbErr> {
        let now = self.clock.now();
        if !store::claim(&self.db, id, now, now + self.lease).await? {
            return Ok(false);
        }
        let sent = self.send_claimed(id).await;
        if sent.is_err() {
            // Paused by an error: the next look takes it over at once, not when the lease ends.
            let _ = store::release(&self.db, id, self.clock.now()).await;
        }
        sent
    }

    async fn send_claimed(&self, id: &str) -> Result<bool, DbErr> {
        let Some(b) = store::find(&self.db, id).await? else { return Ok(false) };
        if b.status != rules::BroadcastStatus::Sending as i32 {
            return Ok(false);
        }
        let now = self.clock.now();
        if !b.resolved {
            let txn = self.db.begin().await?;
            if !store::renew(&txn, id, now + self.lease).await? {
                txn.rollback().await?;
                return Ok(false);
            }
            let n = audiences::resolve(&txn, &b, &format_date(doan_platform::clock::vietnam_date(now))).await?;
            if !store::advance(&txn, id, &b.fanout_cursor, Some(n as i64), "", now + self.lease).await? {
                txn.rollback().await?;
                return Ok(false);
            }
            store::plan_chunks(&txn, id, "", self.chunk).await?;
            txn.commit().await?;
        } else if !store::chunked(&self.db, id).await? {
            // Resolved by a sender from before chunks (its cursor says how far it wrote), or
            // resolved to nobody: split what is left.
            let txn = self.db.begin().await?;
            if !store::renew(&txn, id, now + self.lease).await? {
                txn.rollback().await?;
                return Ok(false);
            }
            store::plan_chunks(&txn, id, &b.fanout_cursor, self.chunk).await?;
            txn.commit().await?;
        }
        let b = Arc::new(b);
        loop {
            // Between waves nothing of this sender holds the broadcast's row.
            if !store::renew(&self.db, id, self.clock.now() + self.lease).await? {
                return Ok(false);
            }
            let wave = store::chunks_pending(&self.db, id, self.parallel.max(1)).await?;
            if wave.is_empty() {
                return store::finish(&self.db, id, self.clock.now()).await;
            }
            let mut writers = tokio::task::JoinSet::new();
            for c in wave {
                let (me, b) = (self.clone(), b.clone());
                writers.spawn(async move { me.write_chunk(&b, &c).await });
            }
            let mut failed = None;
            while let Some(done) = writers.join_next().await {
                match done {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => failed = Some(e),
                    Err(e) => failed = Some(DbErr::Custom(format!("a chunk writer stopped: {e}"))),
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }

    /// Writes the notices and deliveries of chunk `c` of `b` in one transaction, unless it is
    /// written already or `b` is no longer being sent (false).
    async fn write_chunk(&self, b: &broadcast::Model, c: &store::Chunk) -> Result<bool, DbErr> {
        let page = store::chunk_recipients(&self.db, &b.broadcast_id, c).await?;
        let kind = BroadcastKind::from_number(b.kind).unwrap_or(BroadcastKind::Announcement);
        let list: Vec<Notice> = page
            .iter()
            .map(|r| Notice {
                member_id: r.recipient_id.clone(),
                kind: kind.notice_kind(),
                title: b.title.clone(),
                body: b.body.clone(),
            })
            .collect();
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        if !store::take_chunk(&txn, &b.broadcast_id, c.no, now).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        let meta = notices::Meta { broadcast_id: b.broadcast_id.clone(), urgent: b.urgent };
        let written = notices::insert_all(&txn, &list, &b.broadcast_id, &meta, now).await?;
        let deadline = deadline_shown(b);
        let handed = plan(&txn, &written, self.lanes, expiry(b), now, Some(&self.handoff), deadline.as_deref()).await?;
        txn.commit().await?;
        self.committed(written, handed.into_iter().collect());
        Ok(true)
    }

    /// Reminds the recipients who have not acknowledged directives whose reminder time came.
    async fn remind(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let mut done = 0;
        for b in store::reminders_due(&self.db, now, 100).await? {
            let Some(deadline) = b.deadline else { continue };
            let txn = self.db.begin().await?;
            if !store::claim_step(&txn, &b.broadcast_id, broadcast::Column::RemindedAt, now).await? {
                txn.rollback().await?;
                continue;
            }
            let deadline_text = vietnam_time(deadline);
            let meta = notices::Meta { broadcast_id: b.broadcast_id.clone(), urgent: b.urgent };
            let mut written = Vec::new();
            let mut handed = Vec::new();
            let mut after = String::new();
            loop {
                let page =
                    store::unacknowledged(&txn, &b.broadcast_id, recipient::Column::RemindedAt, &after, 1_000).await?;
                let Some(last) = page.last() else { break };
                after = last.recipient_id.clone();
                let ids: Vec<String> = page.iter().map(|r| r.recipient_id.clone()).collect();
                let prefs = preferences::of_owners(&txn, &ids).await?;
                let list: Vec<Notice> = ids
                    .iter()
                    .map(|m| {
                        let lang = preferences_of(prefs.get(m)).language;
                        let (title, body) = templates::directive_reminder(lang, &b.title, &deadline_text);
                        Notice { member_id: m.clone(), kind: NoticeKind::DirectiveReminder, title, body }
                    })
                    .collect();
                let models = notices::insert_all(&txn, &list, &b.broadcast_id, &meta, now).await?;
                let shown = Some(deadline_text.as_str());
                handed.extend(plan(&txn, &models, self.lanes, Some(deadline), now, Some(&self.handoff), shown).await?);
                store::mark_recipients(&txn, &b.broadcast_id, recipient::Column::RemindedAt, &ids, now).await?;
                written.extend(models);
            }
            txn.commit().await?;
            self.committed(written, handed);
            done += 1;
        }
        Ok(done)
    }

    /// At the deadline, tells each secretary which recipients of their unit did not acknowledge.
    async fn escalate(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let today = format_date(doan_platform::clock::vietnam_date(now));
        let mut done = 0;
        for b in store::escalations_due(&self.db, now, 100).await? {
            let txn = self.db.begin().await?;
            if !store::claim_step(&txn, &b.broadcast_id, broadcast::Column::EscalatedAt, now).await? {
                txn.rollback().await?;
                continue;
            }
            let mut late = Vec::new();
            let mut after = String::new();
            loop {
                let page =
                    store::unacknowledged(&txn, &b.broadcast_id, recipient::Column::EscalatedAt, &after, 1_000).await?;
                let Some(last) = page.last() else { break };
                after = last.recipient_id.clone();
                late.extend(page);
            }
            let units: Vec<String> = late
                .iter()
                .flat_map(|r| path_units(&r.unit_path).into_iter().map(str::to_string))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let secretaries = audiences::secretaries(&txn, &units, &today).await?;
            let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in &late {
                for s in rules::escalation_targets(&r.recipient_id, &r.unit_path, &b.unit_id, &secretaries) {
                    by_target.entry(s.account_id.clone()).or_default().push(r.name.clone());
                }
            }
            let deadline = b.deadline.map(vietnam_time).unwrap_or_default();
            let targets: Vec<String> = by_target.keys().cloned().collect();
            let prefs = preferences::of_owners(&txn, &targets).await?;
            let list: Vec<Notice> = by_target
                .into_iter()
                .map(|(target, names)| {
                    let lang = preferences_of(prefs.get(&target)).language;
                    let (title, body) = templates::escalation(lang, &b.title, &deadline, &names, names.len());
                    Notice { member_id: target, kind: NoticeKind::Escalation, title, body }
                })
                .collect();
            let meta = notices::Meta { broadcast_id: b.broadcast_id.clone(), urgent: b.urgent };
            let written = notices::insert_all(&txn, &list, &b.broadcast_id, &meta, now).await?;
            let handed = plan(&txn, &written, self.lanes, None, now, Some(&self.handoff), None).await?;
            let ids: Vec<String> = late.iter().map(|r| r.recipient_id.clone()).collect();
            store::mark_recipients(&txn, &b.broadcast_id, recipient::Column::EscalatedAt, &ids, now).await?;
            txn.commit().await?;
            self.committed(written, handed.into_iter().collect());
            done += 1;
        }
        Ok(done)
    }

    /// Sends one digest per recipient, channel and device for what waited for the end of their
    /// quiet hours.
    async fn digest(&self) -> Result<usize, DbErr> {
        let now = self.clock.now();
        let held = deliveries::held_due(&self.db, now, 5_000).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let owners: Vec<String> = held.iter().map(|d| d.owner_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let prefs = preferences::of_owners(&self.db, &owners).await?;
        let mut groups: BTreeMap<(String, i32, String), Vec<&delivery::Model>> = BTreeMap::new();
        for d in &held {
            groups.entry((d.owner_id.clone(), d.channel, d.device_id.clone())).or_default().push(d);
        }
        let txn = self.db.begin().await?;
        let mut digests = Vec::new();
        for ((owner, channel, device), items) in groups {
            // Only what this look moved from held (not digested by another replica, not
            // cancelled by a revocation since), with the notices as they are now.
            let mut moved = Vec::new();
            for d in &items {
                let ids = std::slice::from_ref(&d.delivery_id);
                if deliveries::settle(&txn, ids, &[DeliveryState::Held], DeliveryState::Digested, "", now).await? == 1 {
                    moved.push(d.notification_id.clone());
                }
            }
            let list: Vec<DigestItem> = notices::find_many(&txn, &moved)
                .await?
                .into_iter()
                .map(|n| DigestItem {
                    kind: NoticeKind::from_number(n.kind).unwrap_or(NoticeKind::Announcement),
                    title: n.title,
                    at: n.created_at,
                })
                .collect();
            if list.is_empty() {
                continue;
            }
            let lang = preferences_of(prefs.get(&owner)).language;
            let (subject, text) = templates::digest(lang, &list);
            digests.push(delivery::Model {
                delivery_id: new_id(),
                notification_id: String::new(),
                owner_id: owner,
                broadcast_id: String::new(),
                kind: NoticeKind::Announcement as i32,
                channel,
                device_id: device,
                state: DeliveryState::Queued as i32,
                attempts: 0,
                next_attempt_at: now,
                lease_until: now,
                failure_reason: String::new(),
                subject: Some(subject),
                text: Some(text),
                expires_at: Some(now + chrono::Duration::days(1)),
                urgent: false,
                created_at: now,
                updated_at: now,
            });
        }
        deliveries::insert_many(&txn, &digests).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(digests.len())
    }
}
