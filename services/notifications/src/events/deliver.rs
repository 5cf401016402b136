//! From committed notices to the providers: [`plan`] writes each notice's deliveries (per
//! device and address, as preferences, quiet hours and urgency decide) in the notice's own
//! transaction; the [`Dispatcher`] claims queued deliveries under a lease, hands them to FCM,
//! APNs or SMTP, and settles the outcomes in batches: sent, retried with backoff (the provider's
//! Retry-After honoured), failed with the reason, or the device removed when the provider says
//! it is gone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use doan_platform::clock::Clock;
use doan_platform::config::ChannelsSettings;
use doan_platform::convert::new_id;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::channels::{Channels, Outcome, Push};
use crate::domain::deliveries::{self as rules, DeliveryState, Retry};
use crate::domain::notices::NoticeKind;
use crate::domain::preferences::{Category, Channel, Preferences, Route, route};
use crate::domain::templates;
use crate::storage::entities::{delivery, device, preference};
use crate::storage::{broadcasts, deliveries, devices, notices, notification, preferences};

/// Device platforms (numbers match `doan.notifications.v1.Platform`).
pub const ANDROID: i32 = 1;
/// iOS.
pub const IOS: i32 = 2;

/// Which providers are configured: deliveries are queued only for those.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lanes {
    /// FCM (Android).
    pub fcm: bool,
    /// APNs (iOS).
    pub apns: bool,
    /// SMTP.
    pub email: bool,
}

impl Lanes {
    /// The lanes of `channels`.
    pub fn of(channels: &Channels) -> Self {
        Self { fcm: channels.fcm.is_some(), apns: channels.apns.is_some(), email: channels.mail.is_some() }
    }

    fn serves(&self, platform: i32) -> bool {
        (platform == ANDROID && self.fcm) || (platform == IOS && self.apns)
    }
}

/// The preferences of a stored row (defaults when there is none or it no longer parses).
pub fn preferences_of(row: Option<&preference::Model>) -> Preferences {
    row.and_then(|p| {
        Preferences::parse(
            &Preferences::pairs_from_text(&p.overrides),
            &p.quiet_hours_start,
            &p.quiet_hours_end,
            &p.time_zone,
            &p.language,
            &p.email,
        )
        .ok()
    })
    .unwrap_or_default()
}

/// A new delivery row.
fn row(
    n: &notification::Model,
    channel: Channel,
    device_id: &str,
    route: Route,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<delivery::Model> {
    let (state, at) = match route {
        Route::Skip => return None,
        Route::Send => (DeliveryState::Queued, now),
        Route::Hold(until) => (DeliveryState::Held, until),
    };
    Some(delivery::Model {
        delivery_id: new_id(),
        notification_id: n.notification_id.clone(),
        owner_id: n.member_id.clone(),
        broadcast_id: n.broadcast_id.clone(),
        kind: n.kind,
        channel: channel as i32,
        device_id: device_id.to_string(),
        state: state as i32,
        attempts: 0,
        next_attempt_at: at,
        lease_until: now,
        failure_reason: String::new(),
        subject: None,
        text: None,
        expires_at,
        urgent: n.urgent,
        created_at: now,
        updated_at: now,
    })
}

/// Writes the deliveries of `notices` (committed in the same transaction `txn`): one per
/// device of a configured platform and one per email address, as the recipient's preferences
/// route them at `now`. With a `handoff` that has room, the queued ones are written leased to
/// this replica's dispatcher and returned, with what their sends need, to be handed to it once
/// the transaction commits (see [`Handoff`]); otherwise the dispatcher claims them from the
/// database. `deadline` is the directive's deadline as its emails show it.
pub async fn plan(
    txn: &impl ConnectionTrait,
    notices: &[notification::Model],
    lanes: Lanes,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    handoff: Option<&Handoff>,
    deadline: Option<&str>,
) -> Result<Option<Handed>, DbErr> {
    if notices.is_empty() || !(lanes.fcm || lanes.apns || lanes.email) {
        return Ok(None);
    }
    let owners: Vec<String> = notices.iter().map(|n| n.member_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let devices = devices::of_owners(txn, &owners).await?;
    let prefs = preferences::of_owners(txn, &owners).await?;
    // (row, index of its notice, its device, the recipient's preferences)
    let mut rows = Vec::new();
    let mut needs = Vec::new();
    for (i, n) in notices.iter().enumerate() {
        let category = Category::from_number(n.category).unwrap_or(Category::Announcements);
        let p = preferences_of(prefs.get(&n.member_id));
        for d in devices.get(&n.member_id).into_iter().flatten().filter(|d| lanes.serves(d.platform)) {
            if let Some(r) =
                row(n, Channel::Push, &d.device_id, route(&p, category, Channel::Push, n.urgent, now), expires_at, now)
            {
                rows.push(r);
                needs.push((i, Some(d), p.clone()));
            }
        }
        if lanes.email
            && !p.email.is_empty()
            && let Some(r) =
                row(n, Channel::Email, "", route(&p, category, Channel::Email, n.urgent, now), expires_at, now)
        {
            rows.push(r);
            needs.push((i, None, p));
        }
    }
    let is_queued = |r: &delivery::Model| r.state == DeliveryState::Queued as i32;
    let queued = rows.iter().filter(|r| is_queued(r)).count();
    let permit = match handoff {
        Some(h) if queued > 0 => h.reserve(queued),
        _ => None,
    };
    if permit.is_some() {
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        for r in rows.iter_mut().filter(|r| is_queued(r)) {
            r.lease_until = lease_until;
        }
    }
    deliveries::insert_many(txn, &rows).await?;
    let Some(permit) = permit else { return Ok(None) };
    let mut shared: HashMap<usize, Arc<notification::Model>> = HashMap::new();
    let jobs = rows
        .into_iter()
        .zip(needs)
        .filter(|(r, _)| is_queued(r))
        .map(|(delivery, (i, device, prefs))| {
            let notice = shared.entry(i).or_insert_with(|| Arc::new(notices[i].clone())).clone();
            let deadline = deadline.filter(|_| asks_deadline(&delivery)).map(str::to_string);
            Job { delivery, notice: Some(notice), device: device.cloned(), prefs, deadline }
        })
        .collect();
    Ok(Some(Handed { jobs, _permit: permit }))
}

/// Whether a delivery's message shows its directive's deadline (the emails of directives and
/// their reminders).
fn asks_deadline(d: &delivery::Model) -> bool {
    d.channel == Channel::Email as i32 && !d.broadcast_id.is_empty() && matches!(d.kind, 9 | 12)
}

/// One queued delivery with everything its send needs.
pub struct Job {
    delivery: delivery::Model,
    /// Its notice (none for a digest, or when the notice left the inbox).
    notice: Option<Arc<notification::Model>>,
    /// Its device (push).
    device: Option<device::Model>,
    /// The recipient's preferences.
    prefs: Preferences,
    /// The directive's deadline as its email shows it.
    deadline: Option<String>,
}

/// Deliveries handed by the transaction that wrote them, once it committed, straight to this
/// replica's dispatcher: no claim and no lookups, and the pushes of a broadcast's first chunk
/// leave while its next chunks are being written. They are written leased to this replica, so
/// no other dispatcher claims them; if the replica stops first, they wait for the lease to end
/// and any replica claims them from the database. At most [`HANDOFF_BUDGET`] wait at once; a
/// transaction that finds no room writes its deliveries unleased for the dispatcher to claim.
#[derive(Clone)]
pub struct Handoff {
    tx: tokio::sync::mpsc::UnboundedSender<Handed>,
    budget: Arc<Semaphore>,
}

impl Handoff {
    fn reserve(&self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.budget.clone().try_acquire_many_owned(u32::try_from(n).ok()?).ok()
    }

    /// Gives `handed` (committed) to the dispatcher.
    pub fn hand(&self, handed: Handed) {
        // A stopped dispatcher: the deliveries wait in the database for their lease to end.
        let _ = self.tx.send(handed);
    }
}

/// Deliveries written leased to this replica's dispatcher, to hand to it once committed.
pub struct Handed {
    jobs: Vec<Job>,
    _permit: OwnedSemaphorePermit,
}

/// How many handed deliveries may wait for the dispatcher at once.
pub const HANDOFF_BUDGET: usize = 20_000;
/// How many batches a dispatcher sends and settles at once.
const PARALLEL_BATCHES: usize = 4;

/// Sends queued deliveries.
pub struct Dispatcher {
    db: DatabaseConnection,
    clock: Clock,
    channels: Arc<Channels>,
    settings: ChannelsSettings,
    wake: Arc<Notify>,
    handoff: Handoff,
    handed: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Handed>>>,
}

/// How long a claimed delivery is held by its dispatcher before another may take it.
const LEASE: Duration = Duration::from_secs(120);
/// How long a lane halted by a configuration fault waits before trying again.
const HALT_PAUSE: Duration = Duration::from_secs(300);

/// What happened to one claimed delivery.
enum Settled {
    Sent,
    Retry(Option<Duration>, String),
    Gone(String),
    Failed(String),
    Halt(String),
    Cancelled,
}

impl Dispatcher {
    /// A dispatcher over `db` sending through `channels`; `wake` starts a round at once.
    pub fn new(
        db: DatabaseConnection,
        clock: Clock,
        channels: Arc<Channels>,
        settings: ChannelsSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let handoff = Handoff { tx, budget: Arc::new(Semaphore::new(HANDOFF_BUDGET)) };
        Self { db, clock, channels, settings, wake, handoff, handed: std::sync::Mutex::new(Some(rx)) }
    }

    /// Where the transactions of this replica hand their committed deliveries.
    pub fn handoff(&self) -> Handoff {
        self.handoff.clone()
    }

    /// Runs until `shutdown`: handed deliveries first, then the queue in the database (at once
    /// when woken, otherwise every `dispatch_poll_ms`, for retries coming due). Up to
    /// [`PARALLEL_BATCHES`] batches are sent and settled at once, so one batch's slowest push
    /// or its settle does not hold the next batch.
    pub fn spawn(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(mut handed) = self.handed.lock().ok().and_then(|mut h| h.take()) else { return };
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.settings.dispatch_poll_ms.max(10));
            let slots = Arc::new(Semaphore::new(PARALLEL_BATCHES));
            let mut pending: Option<Handed> = None;
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let batch = match pending.take().map(Ok).unwrap_or_else(|| handed.try_recv()) {
                    Ok(h) => Some((h.jobs, Some(h._permit))),
                    Err(_) => match self.claim().await {
                        Ok(jobs) if !jobs.is_empty() => Some((jobs, None)),
                        Ok(_) => None,
                        Err(e) => {
                            tracing::warn!(error = %e, "claiming deliveries failed; retried at the next round");
                            None
                        }
                    },
                };
                if let Some((jobs, permit)) = batch {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.run(&jobs).await;
                        drop((permit, slot));
                    });
                    continue;
                }
                drop(slot);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    h = handed.recv() => pending = h,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
    }

    /// Claims one batch of due deliveries from the database and looks up what their sends need.
    async fn claim(&self) -> anyhow::Result<Vec<Job>> {
        let now = self.clock.now();
        let claimed = deliveries::claim_due(
            &self.db,
            now,
            now + chrono::Duration::from_std(LEASE)?,
            self.settings.dispatch_batch.max(1),
        )
        .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let notice_ids: Vec<String> =
            claimed.iter().filter(|d| !d.notification_id.is_empty()).map(|d| d.notification_id.clone()).collect();
        let notices: HashMap<String, Arc<notification::Model>> = notices::find_many(&self.db, &notice_ids)
            .await?
            .into_iter()
            .map(|n| (n.notification_id.clone(), Arc::new(n)))
            .collect();
        let device_ids: Vec<String> =
            claimed.iter().filter(|d| !d.device_id.is_empty()).map(|d| d.device_id.clone()).collect();
        let devices: HashMap<String, device::Model> =
            devices::find_many(&self.db, &device_ids).await?.into_iter().map(|d| (d.device_id.clone(), d)).collect();
        let owners: Vec<String> =
            claimed.iter().map(|d| d.owner_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let prefs = preferences::of_owners(&self.db, &owners).await?;
        let mut deadlines: HashMap<String, Option<String>> = HashMap::new();
        for id in claimed.iter().filter(|d| asks_deadline(d)).map(|d| &d.broadcast_id) {
            if !deadlines.contains_key(id) {
                let b = broadcasts::find(&self.db, id).await?;
                let d = b
                    .filter(|b| b.acknowledgement_required)
                    .and_then(|b| b.deadline)
                    .map(doan_platform::clock::vietnam_time);
                deadlines.insert(id.clone(), d);
            }
        }
        Ok(claimed
            .into_iter()
            .map(|d| Job {
                notice: notices.get(&d.notification_id).cloned(),
                device: devices.get(&d.device_id).cloned(),
                prefs: preferences_of(prefs.get(&d.owner_id)),
                deadline: deadlines.get(&d.broadcast_id).cloned().flatten().filter(|_| asks_deadline(&d)),
                delivery: d,
            })
            .collect())
    }

    /// Sends `jobs` and settles their outcomes. The pushes are out, so a settle that fails is
    /// retried from the outcomes held here for as long as the deliveries' lease lasts: left to
    /// the lease, they would be claimed and sent again.
    async fn run(&self, jobs: &[Job]) {
        let started = self.clock.now();
        let sends = jobs
            .iter()
            .map(|j| self.send(&j.delivery, j.notice.as_deref(), j.device.as_ref(), &j.prefs, j.deadline.as_deref()));
        let outcomes = futures_util::future::join_all(sends).await;
        let give_up = tokio::time::Instant::now() + LEASE;
        let mut pause = Duration::from_millis(200);
        loop {
            match self.settle(jobs, &outcomes, started).await {
                Ok(()) => return,
                Err(e) if tokio::time::Instant::now() + pause < give_up => {
                    tracing::warn!(error = %e, deliveries = jobs.len(), "settling sent deliveries failed; retried");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                Err(e) => {
                    tracing::error!(error = %e, deliveries = jobs.len(), "settling sent deliveries failed until their lease ended; they may be sent again");
                    return;
                }
            }
        }
    }

    async fn send(
        &self,
        d: &delivery::Model,
        notice: Option<&notification::Model>,
        device: Option<&device::Model>,
        prefs: &Preferences,
        deadline: Option<&str>,
    ) -> Settled {
        let kind = NoticeKind::from_number(d.kind).unwrap_or(NoticeKind::Announcement);
        let (title, body) = match (&d.subject, &d.text, notice) {
            (Some(s), Some(t), _) => (s.clone(), t.clone()),
            (_, _, Some(n)) => (n.title.clone(), n.body.clone()),
            // The notice left the inbox (its broadcast was revoked).
            _ => return Settled::Cancelled,
        };
        let digest = d.notification_id.is_empty();
        let outcome = if d.channel == Channel::Email as i32 {
            let Some(mail) = &self.channels.mail else { return Settled::Failed("email is not configured".into()) };
            if prefs.email.is_empty() {
                return Settled::Failed("the recipient has no email address any more".into());
            }
            let (subject, text) =
                if digest { (title, body) } else { templates::email(kind, prefs.language, &title, &body, deadline) };
            mail.send(&prefs.email, &subject, &text).await
        } else {
            let Some(device) = device else { return Settled::Failed("the device was unregistered".into()) };
            if device.owner_id != d.owner_id {
                return Settled::Failed("the device was registered by another account".into());
            }
            let (title, body) = if digest {
                (title, templates::shorten(&body, templates::PUSH_BODY_CHARS))
            } else {
                templates::push(kind, prefs.language, &title, &body)
            };
            let mut data = vec![("kind".to_string(), d.kind.to_string())];
            if !d.notification_id.is_empty() {
                data.push(("notice_id".into(), d.notification_id.clone()));
            }
            if !d.broadcast_id.is_empty() {
                data.push(("broadcast_id".into(), d.broadcast_id.clone()));
            }
            let push = Push {
                id: d.delivery_id.clone(),
                token: device.token.clone(),
                title,
                body,
                data,
                urgent: d.urgent,
                expires_at: d.expires_at,
                collapse_id: None,
            };
            match (device.platform, &self.channels.fcm, &self.channels.apns) {
                (ANDROID, Some(fcm), _) => fcm.send(&push).await,
                (IOS, _, Some(apns)) => apns.send(&push, device.apns_sandbox).await,
                _ => return Settled::Failed("push for this platform is not configured".into()),
            }
        };
        match outcome {
            Outcome::Sent { .. } => Settled::Sent,
            Outcome::Retry { after, reason } => Settled::Retry(after, reason),
            Outcome::DeviceGone { reason } => Settled::Gone(reason),
            Outcome::Failed { reason } => Settled::Failed(reason),
            Outcome::Halt { reason } => Settled::Halt(reason),
        }
    }

    async fn settle(&self, jobs: &[Job], outcomes: &[Settled], started: DateTime<Utc>) -> anyhow::Result<()> {
        let now = self.clock.now();
        // One transaction: a settle retried after a failure starts from nothing written.
        let txn = self.db.begin().await?;
        let queued = [DeliveryState::Queued];
        let mut sent = Vec::new();
        let mut cancelled = Vec::new();
        let mut failed: HashMap<String, Vec<String>> = HashMap::new();
        let mut gone_devices = Vec::new();
        for (d, outcome) in jobs.iter().map(|j| &j.delivery).zip(outcomes) {
            match outcome {
                Settled::Sent => sent.push(d.delivery_id.clone()),
                Settled::Cancelled => cancelled.push(d.delivery_id.clone()),
                Settled::Failed(reason) => failed.entry(reason.clone()).or_default().push(d.delivery_id.clone()),
                Settled::Gone(reason) => {
                    failed
                        .entry(format!("the device is no longer registered with the provider: {reason}"))
                        .or_default()
                        .push(d.delivery_id.clone());
                    gone_devices.push(d.device_id.clone());
                }
                Settled::Halt(reason) => {
                    tracing::error!(reason = %reason, channel = d.channel, "a push or email lane is halted by a configuration fault; deliveries wait");
                    let at = now + chrono::Duration::from_std(HALT_PAUSE)?;
                    deliveries::retry_at(&txn, &d.delivery_id, at, &format!("halted: {reason}"), now).await?;
                }
                Settled::Retry(after, reason) => {
                    let attempts = u32::try_from(d.attempts).unwrap_or(0) + 1;
                    let next = rules::next_attempt(
                        now,
                        attempts,
                        *after,
                        rules::Backoff {
                            base: Duration::from_millis(self.settings.retry_base_ms),
                            max: Duration::from_millis(self.settings.retry_max_ms),
                            max_attempts: self.settings.max_attempts,
                        },
                        rand::random::<f64>(),
                        d.expires_at,
                    );
                    match next {
                        Retry::At(at) => deliveries::retry_at(&txn, &d.delivery_id, at, reason, now).await?,
                        Retry::GiveUp => failed
                            .entry(format!("gave up after {attempts} attempts: {reason}"))
                            .or_default()
                            .push(d.delivery_id.clone()),
                    }
                }
            }
        }
        deliveries::settle(&txn, &sent, &queued, DeliveryState::Sent, "", now).await?;
        deliveries::settle(&txn, &cancelled, &queued, DeliveryState::Cancelled, "the notice was withdrawn", now)
            .await?;
        for (reason, ids) in failed {
            deliveries::settle(&txn, &ids, &queued, DeliveryState::Failed, &reason, now).await?;
        }
        if !gone_devices.is_empty() {
            gone_devices.sort();
            gone_devices.dedup();
            // A device registered again since the round began keeps its new registration.
            devices::remove_gone(&txn, &gone_devices, started).await?;
            // Only the devices removed: one registered again since keeps its queue.
            let kept: HashSet<String> =
                devices::find_many(&txn, &gone_devices).await?.into_iter().map(|d| d.device_id).collect();
            gone_devices.retain(|d| !kept.contains(d));
            let reason = "the device is no longer registered with the provider";
            deliveries::fail_for_devices(&txn, &gone_devices, reason, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
