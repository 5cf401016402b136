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
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::Notify;
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
/// route them at `now`; returns how many are queued now.
pub async fn plan(
    txn: &impl ConnectionTrait,
    notices: &[notification::Model],
    lanes: Lanes,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    if notices.is_empty() || !(lanes.fcm || lanes.apns || lanes.email) {
        return Ok(0);
    }
    let owners: Vec<String> = notices.iter().map(|n| n.member_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let devices = devices::of_owners(txn, &owners).await?;
    let prefs = preferences::of_owners(txn, &owners).await?;
    let mut rows = Vec::new();
    for n in notices {
        let category = Category::from_number(n.category).unwrap_or(Category::Announcements);
        let p = preferences_of(prefs.get(&n.member_id));
        for d in devices.get(&n.member_id).into_iter().flatten().filter(|d| lanes.serves(d.platform)) {
            rows.extend(row(
                n,
                Channel::Push,
                &d.device_id,
                route(&p, category, Channel::Push, n.urgent, now),
                expires_at,
                now,
            ));
        }
        if lanes.email && !p.email.is_empty() {
            rows.extend(row(
                n,
                Channel::Email,
                "",
                route(&p, category, Channel::Email, n.urgent, now),
                expires_at,
                now,
            ));
        }
    }
    deliveries::insert_many(txn, &rows).await?;
    Ok(rows.iter().filter(|r| r.state == DeliveryState::Queued as i32).count())
}

/// Sends queued deliveries.
pub struct Dispatcher {
    db: DatabaseConnection,
    clock: Clock,
    channels: Arc<Channels>,
    settings: ChannelsSettings,
    wake: Arc<Notify>,
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
        Self { db, clock, channels, settings, wake }
    }

    /// Runs rounds until `shutdown`: at once when woken, otherwise every `dispatch_poll_ms`
    /// (retries coming due).
    pub fn spawn(self: Arc<Self>, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.settings.dispatch_poll_ms.max(10));
            loop {
                let busy = match self.round().await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "dispatching deliveries failed; retried at the next round");
                        false
                    }
                };
                if busy {
                    continue;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
    }

    /// Claims one batch of due deliveries, sends them and settles them; returns how many.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let claimed = deliveries::claim_due(
            &self.db,
            now,
            now + chrono::Duration::from_std(LEASE)?,
            self.settings.dispatch_batch.max(1),
        )
        .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let notice_ids: Vec<String> =
            claimed.iter().filter(|d| !d.notification_id.is_empty()).map(|d| d.notification_id.clone()).collect();
        let notices: HashMap<String, notification::Model> = notices::find_many(&self.db, &notice_ids)
            .await?
            .into_iter()
            .map(|n| (n.notification_id.clone(), n))
            .collect();
        let device_ids: Vec<String> =
            claimed.iter().filter(|d| !d.device_id.is_empty()).map(|d| d.device_id.clone()).collect();
        let devices: HashMap<String, device::Model> =
            devices::find_many(&self.db, &device_ids).await?.into_iter().map(|d| (d.device_id.clone(), d)).collect();
        let owners: Vec<String> =
            claimed.iter().map(|d| d.owner_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let prefs = preferences::of_owners(&self.db, &owners).await?;
        let mut deadlines: HashMap<String, Option<String>> = HashMap::new();
        // Deadlines shown in the emails of directives and their reminders.
        let asks = |d: &&delivery::Model| {
            d.channel == Channel::Email as i32 && !d.broadcast_id.is_empty() && matches!(d.kind, 9 | 12)
        };
        for id in claimed.iter().filter(asks).map(|d| &d.broadcast_id) {
            if !deadlines.contains_key(id) {
                let b = broadcasts::find(&self.db, id).await?;
                let d = b
                    .filter(|b| b.acknowledgement_required)
                    .and_then(|b| b.deadline)
                    .map(doan_platform::clock::vietnam_time);
                deadlines.insert(id.clone(), d);
            }
        }
        let sends = claimed.iter().map(|d| {
            let notice = notices.get(&d.notification_id);
            let device = devices.get(&d.device_id);
            let p = preferences_of(prefs.get(&d.owner_id));
            let deadline = deadlines.get(&d.broadcast_id).cloned().flatten().filter(|_| matches!(d.kind, 9 | 12));
            async move { self.send(d, notice, device, &p, deadline.as_deref()).await }
        });
        let outcomes = futures_util::future::join_all(sends).await;
        self.settle(&claimed, outcomes, now).await?;
        Ok(claimed.len())
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

    async fn settle(
        &self,
        claimed: &[delivery::Model],
        outcomes: Vec<Settled>,
        started: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let queued = [DeliveryState::Queued];
        let mut sent = Vec::new();
        let mut cancelled = Vec::new();
        let mut failed: HashMap<String, Vec<String>> = HashMap::new();
        let mut gone_devices = Vec::new();
        for (d, outcome) in claimed.iter().zip(outcomes) {
            match outcome {
                Settled::Sent => sent.push(d.delivery_id.clone()),
                Settled::Cancelled => cancelled.push(d.delivery_id.clone()),
                Settled::Failed(reason) => failed.entry(reason).or_default().push(d.delivery_id.clone()),
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
                    deliveries::retry_at(&self.db, &d.delivery_id, at, &format!("halted: {reason}"), now).await?;
                }
                Settled::Retry(after, reason) => {
                    let attempts = u32::try_from(d.attempts).unwrap_or(0) + 1;
                    let next = rules::next_attempt(
                        now,
                        attempts,
                        after,
                        rules::Backoff {
                            base: Duration::from_millis(self.settings.retry_base_ms),
                            max: Duration::from_millis(self.settings.retry_max_ms),
                            max_attempts: self.settings.max_attempts,
                        },
                        rand::random::<f64>(),
                        d.expires_at,
                    );
                    match next {
                        Retry::At(at) => deliveries::retry_at(&self.db, &d.delivery_id, at, &reason, now).await?,
                        Retry::GiveUp => failed
                            .entry(format!("gave up after {attempts} attempts: {reason}"))
                            .or_default()
                            .push(d.delivery_id.clone()),
                    }
                }
            }
        }
        deliveries::settle(&self.db, &sent, &queued, DeliveryState::Sent, "", now).await?;
        deliveries::settle(&self.db, &cancelled, &queued, DeliveryState::Cancelled, "the notice was withdrawn", now)
            .await?;
        for (reason, ids) in failed {
            deliveries::settle(&self.db, &ids, &queued, DeliveryState::Failed, &reason, now).await?;
        }
        if !gone_devices.is_empty() {
            gone_devices.sort();
            gone_devices.dedup();
            // A device registered again since the round began keeps its new registration.
            devices::remove_gone(&self.db, &gone_devices, started).await?;
            // Only the devices removed: one registered again since keeps its queue.
            let kept: HashSet<String> =
                devices::find_many(&self.db, &gone_devices).await?.into_iter().map(|d| d.device_id).collect();
            gone_devices.retain(|d| !kept.contains(d));
            let reason = "the device is no longer registered with the provider";
            deliveries::fail_for_devices(&self.db, &gone_devices, reason, now).await?;
        }
        Ok(())
    }
}
