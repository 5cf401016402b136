//! Proof of attendance through the API: check-in codes, check-in and check-out (online and
//! offline), devices, the organiser's view and review.

use chrono::{DateTime, Utc};
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::convert::{
    decode_page_token, encode_page_token, optional_text, page_size, paragraphs, parse_id, parse_timestamp, timestamp,
};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::activities as pb;
use sea_orm::{DbErr, TransactionTrait};

use super::ActivitiesApi;
use crate::domain::attendance::{
    self as rules, AttendanceKind, CheckInMode, Decision, Flag, FlagKind, Location, Refusal, ReviewState, Venue,
};
use crate::domain::{CheckInWindow, ParticipationState, is_open_to};
use crate::events::publish;
use crate::storage::attendance::{self as store, ACCEPTED, REFUSED};
use crate::storage::entities::{activity, device, participation, record};
use crate::storage::{activities, participations};

/// A claim of attendance as a request made it: what the member's app says happened.
pub(super) struct Claim {
    kind: AttendanceKind,
    code: String,
    location: Option<Location>,
    /// The signing device and its signature.
    device: Option<(String, Vec<u8>)>,
    /// Offline only: the app's record id and the scan time.
    offline: Option<(String, DateTime<Utc>)>,
}

/// Why a claim did not go through: refused by a rule, or the system failed.
pub(super) enum Failure {
    Refused(Refusal),
    Error(AppError),
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Self::Error(e.into())
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::Error(e)
    }
}

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(r) => r.into(),
            Failure::Error(e) => e,
        }
    }
}

/// A location from the request, if sent.
pub(super) fn parse_location(value: Option<pb::Location>) -> AppResult<Option<Location>> {
    value.map(|l| Location::new(l.latitude, l.longitude, l.accuracy_m)).transpose()
}

/// A venue from the request, if sent.
pub(super) fn parse_venue(value: Option<pb::Venue>) -> AppResult<Option<Venue>> {
    value.map(|v| Venue::new(v.latitude, v.longitude, v.radius_m)).transpose()
}

/// A device id as the API issues them (22 base64url characters).
fn parse_device_id(field: &'static str, value: &str) -> AppResult<String> {
    if value.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    if value.len() != 22 || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(AppError::invalid(
            field,
            format!("expected a device id of 22 characters, got {}", doan_platform::text::quote(value)),
        ));
    }
    Ok(value.to_string())
}

/// The code as sent: at most 120 characters, checked against its signature later.
fn bounded_code(code: String) -> AppResult<String> {
    if code.len() > 120 {
        return Err(AppError::invalid("code", "must be at most 120 characters"));
    }
    Ok(code)
}

impl Claim {
    /// An online check-in or check-out.
    pub(super) fn online(
        kind: AttendanceKind,
        code: String,
        location: Option<pb::Location>,
        device: Option<pb::DeviceProof>,
    ) -> AppResult<Self> {
        let device = match device {
            Some(d) => Some((parse_device_id("device.device_id", &d.device_id)?, d.signature)),
            None => None,
        };
        Ok(Self { kind, code: bounded_code(code)?, location: parse_location(location)?, device, offline: None })
    }

    /// When the attendance happened: the scan offline, `now` online.
    fn at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.offline.as_ref().map(|(_, t)| *t).unwrap_or(now)
    }
}

pub(super) fn device_to_pb(d: device::Model) -> pb::Device {
    use base64::Engine;
    pb::Device {
        device_id: d.device_id,
        label: d.label,
        public_key: base64::engine::general_purpose::STANDARD.decode(d.public_key).unwrap_or_default(),
        registered_at: Some(timestamp(d.registered_at)),
        revoked_at: d.revoked_at.map(timestamp),
    }
}

fn flag_detail_overlap(title: &str) -> Flag {
    Flag { kind: FlagKind::Overlap, detail: format!("Cùng lúc đang điểm danh ở hoạt động «{title}»") }
}

impl ActivitiesApi {
    /// The rules a claim must pass before anything is written: the device and its signature,
    /// lateness (offline), the code, the check-in window and the venue. Returns the time the
    /// attendance happened and the code's step.
    async fn verify_claim(
        &self,
        member: &directory::member::Model,
        activity: &activity::Model,
        claim: &Claim,
    ) -> Result<(DateTime<Utc>, Option<i64>), Failure> {
        let now = self.ctx.clock.now();
        if let Some((device_id, signature)) = &claim.device {
            let device = store::device(&self.ctx.db, &member.member_id, device_id)
                .await?
                .filter(|d| d.revoked_at.is_none())
                .ok_or_else(|| {
                    Refusal::WrongDevice(format!("device {device_id} is not a registered device of yours"))
                })?;
            let key = {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(&device.public_key).unwrap_or_default()
            };
            let (record_id, scanned_at) = match &claim.offline {
                Some((id, t)) => (id.as_str(), Some(*t)),
                None => ("", None),
            };
            let text = rules::signed_text(
                record_id,
                &activity.activity_id,
                claim.kind,
                &claim.code,
                scanned_at,
                claim.location.as_ref(),
            );
            rules::check_signature(&key, &text, signature)?;
        }
        let at = claim.at(now);
        if claim.offline.is_some() {
            rules::check_not_late(at, now, chrono::Duration::hours(self.late_limit_hours))?;
        }
        let step = if CheckInMode::of(activity.check_in_mode) == CheckInMode::Code {
            let step = self.code_key.verify(&activity.activity_id, &claim.code)?;
            match (&claim.offline, &claim.device) {
                (Some(_), Some((device_id, _))) => {
                    rules::check_scan_time(step, at)?;
                    if store::code_used_by_device(&self.ctx.db, &activity.activity_id, device_id, step, claim.kind)
                        .await?
                    {
                        return Err(Refusal::Replayed(
                            "this device already used the same code for another record".into(),
                        )
                        .into());
                    }
                }
                (Some(_), None) => rules::check_scan_time(step, at)?,
                (None, _) => rules::check_fresh(step, now)?,
            }
            Some(step)
        } else {
            None
        };
        if claim.kind == AttendanceKind::CheckIn {
            CheckInWindow { starts_at: activity.starts_at, ends_at: activity.ends_at }
                .check_open(at)
                .map_err(|e| Refusal::OutOfWindow(e.to_string()))?;
        }
        if let Some(venue) = venue_of(activity) {
            venue.check(claim.location.as_ref())?;
        }
        Ok((at, step))
    }

    /// What the anti-cheating checks see in an accepted claim, leaving out kinds already raised
    /// on the participation.
    async fn flags_for(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        row: &participation::Model,
        claim: &Claim,
        at: DateTime<Utc>,
    ) -> Result<Vec<Flag>, DbErr> {
        let mut flags = Vec::new();
        // One person in two places is a question for a new check-in; a repeat returns the first.
        if claim.kind == AttendanceKind::CheckIn
            && row.state == ParticipationState::Registered as i32
            && let Some(title) = store::attending_elsewhere(txn, &row.member_id, &row.activity_id, at).await?
        {
            flags.push(flag_detail_overlap(&title));
        }
        if let Some((device_id, _)) = &claim.device {
            if let Some(other) = store::other_member_on_device(txn, &row.activity_id, device_id, &row.member_id).await?
            {
                flags.push(Flag {
                    kind: FlagKind::SharedDevice,
                    detail: format!("Thiết bị {device_id} đã điểm danh cho đoàn viên {other} ở hoạt động này"),
                });
            }
            if let Some(other) = store::other_device_of_member(txn, &row.activity_id, &row.member_id, device_id).await?
            {
                flags.push(Flag {
                    kind: FlagKind::CodeReuse,
                    detail: format!("Điểm danh ở hoạt động này đến từ hai thiết bị: {other} và {device_id}"),
                });
            }
        }
        if let Some(location) = &claim.location {
            let here = rules::Fix { at, point: location.point };
            for fix in store::fixes_around(txn, &row.member_id, at).await? {
                let (first, second) = if fix.at <= at { (fix, here) } else { (here, fix) };
                if let Some(flag) = rules::impossible_travel(&first, &second) {
                    flags.push(flag);
                    break;
                }
            }
        }
        if !flags.is_empty() {
            let raised = store::flags_of(txn, std::slice::from_ref(&row.participation_id)).await?;
            let raised: Vec<i32> =
                raised.get(&row.participation_id).map(|fs| fs.iter().map(|f| f.kind).collect()).unwrap_or_default();
            flags.retain(|f| !raised.contains(&(f.kind as i32)));
        }
        Ok(flags)
    }

    /// Verifies and applies one claim of attendance in one transaction: the participation
    /// changed, its flags, the record of the claim and the events, together.
    pub(super) async fn attend(
        &self,
        member: &directory::member::Model,
        activity: &activity::Model,
        claim: &Claim,
    ) -> Result<participation::Model, Failure> {
        let (at, step) = self.verify_claim(member, activity, claim).await?;
        // Microseconds, as the database keeps them: the row returned without reading it back
        // equals the row read later.
        let at = chrono::SubsecRound::trunc_subsecs(at, 6);
        let now = self.ctx.clock.now();
        let txn = self.ctx.db.begin().await?;
        let row = match claim.kind {
            AttendanceKind::CheckIn => {
                let row =
                    participations::register(&txn, &activity.activity_id, activity.capacity, &member.member_id, at)
                        .await?;
                if row.state == ParticipationState::Waitlisted as i32 {
                    return Err(Refusal::NotEligible(format!(
                        "every place of activity {} is taken; you are waiting in line for one",
                        activity.activity_id
                    ))
                    .into());
                }
                row
            }
            AttendanceKind::CheckOut => {
                participations::lock_activity(&txn, &activity.activity_id).await?;
                let row = participations::of_member(&txn, &activity.activity_id, &member.member_id)
                    .await?
                    .filter(|r| r.state == ParticipationState::CheckedIn as i32)
                    .ok_or_else(|| {
                        Refusal::NotCheckedIn(format!("you have not checked in to activity {}", activity.activity_id))
                    })?;
                if row.review_state == ReviewState::Declined as i32 {
                    return Err(Refusal::NotCheckedIn(format!(
                        "the organiser declined your attendance at activity {}",
                        activity.activity_id
                    ))
                    .into());
                }
                let checked_in_at = row.checked_in_at.unwrap_or(activity.starts_at);
                rules::check_out_window(checked_in_at, activity.ends_at, at)?;
                row
            }
        };
        let flags = self.flags_for(&txn, &row, claim, at).await?;
        let first = match claim.kind {
            AttendanceKind::CheckIn => {
                store::check_in(&txn, &row.participation_id, at, !flags.is_empty(), claim.offline.is_some()).await?
            }
            AttendanceKind::CheckOut => {
                let minutes = rules::minutes_between(row.checked_in_at.unwrap_or(at), at);
                store::check_out(&txn, &row.participation_id, at, minutes).await?
            }
        };
        if !first && !flags.is_empty() {
            store::hold_for_review(&txn, &row.participation_id).await?;
        }
        store::insert_flags(&txn, &row, &flags, now).await?;
        // A repeated online claim that shows nothing new leaves no trace.
        if first || claim.offline.is_some() || claim.device.is_some() {
            store::insert_record(
                &txn,
                record::Model {
                    record_key: doan_platform::convert::new_id(),
                    member_id: member.member_id.clone(),
                    activity_id: activity.activity_id.clone(),
                    participation_id: Some(row.participation_id.clone()),
                    kind: claim.kind as i32,
                    device_id: claim.device.as_ref().map(|(d, _)| d.clone()),
                    record_id: claim.offline.as_ref().map(|(r, _)| r.clone()),
                    code_step: step,
                    at,
                    latitude: claim.location.map(|l| l.point.latitude),
                    longitude: claim.location.map(|l| l.point.longitude),
                    offline: claim.offline.is_some(),
                    outcome: ACCEPTED,
                    reason: 0,
                    detail: String::new(),
                    received_at: now,
                },
            )
            .await?;
        }
        let publish_recorded = first && claim.kind == AttendanceKind::CheckIn && flags.is_empty();
        if publish_recorded {
            let event = publish::participation_recorded(activity, &row.participation_id, &member.member_id, at);
            self.ctx.outbox.enqueue(&txn, &event).await?;
        }
        // The row as this claim left it: known without reading it back when this was the first
        // claim of its kind and it raised nothing (the hot path of a day of action).
        let row = match (first && flags.is_empty(), claim.kind) {
            (true, AttendanceKind::CheckIn) => participation::Model {
                state: ParticipationState::CheckedIn as i32,
                checked_in_at: Some(at),
                review_state: ReviewState::NotNeeded as i32,
                withheld: false,
                offline: claim.offline.is_some(),
                ..row
            },
            (true, AttendanceKind::CheckOut) => participation::Model {
                checked_out_at: Some(at),
                minutes: Some(rules::minutes_between(row.checked_in_at.unwrap_or(at), at)),
                review_state: ReviewState::Pending as i32,
                ..row
            },
            _ => participations::find(&txn, &row.participation_id)
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("participation vanished inside its transaction")))?,
        };
        txn.commit().await?;
        if publish_recorded {
            self.ctx.outbox.wake();
        }
        if first || !flags.is_empty() {
            tracing::info!(
                activity_id = %activity.activity_id,
                member_id = %member.member_id,
                kind = ?claim.kind,
                flags = flags.len(),
                offline = claim.offline.is_some(),
                "attendance recorded"
            );
        }
        Ok(row)
    }

    pub(super) async fn get_check_in_code(
        &self,
        caller: &Caller,
        r: pb::GetCheckInCodeRequest,
    ) -> AppResult<pb::GetCheckInCodeResponse> {
        caller.require_officer()?;
        let activity = self.activity(&r.activity_id).await?;
        caller.require_manages(&activity.unit_path, &format!("activity {}", activity.activity_id))?;
        let issued = self.code_key.issue(&activity.activity_id, self.ctx.clock.now());
        Ok(pb::GetCheckInCodeResponse {
            code: issued.code,
            issued_at: Some(timestamp(issued.issued_at)),
            expires_at: Some(timestamp(issued.expires_at)),
            rotates_every_seconds: rules::STEP_SECS as i32,
        })
    }

    pub(super) async fn check_out(&self, caller: &Caller, r: pb::CheckOutRequest) -> AppResult<pb::CheckOutResponse> {
        let (member, activity) = self.member_and_activity(caller, &r.activity_id).await?;
        let claim = Claim::online(AttendanceKind::CheckOut, r.code, r.location, r.device)?;
        let row = self.attend(&member, &activity, &claim).await?;
        Ok(pb::CheckOutResponse { participation: Some(self.participation_pb(row).await?) })
    }

    pub(super) async fn register_device(
        &self,
        caller: &Caller,
        r: pb::RegisterDeviceRequest,
    ) -> AppResult<pb::RegisterDeviceResponse> {
        let member_id = caller.require_member()?.to_string();
        let key = rules::parse_public_key(&r.public_key)?;
        let label = optional_text("label", &r.label, 100)?;
        let device_id = rules::device_id(key.as_bytes());
        let existing = store::device(&self.ctx.db, &member_id, &device_id).await?;
        if let Some(active) = existing.as_ref().filter(|d| d.revoked_at.is_none()) {
            return Ok(pb::RegisterDeviceResponse { device: Some(device_to_pb(active.clone())) });
        }
        if store::active_devices(&self.ctx.db, &member_id).await? >= rules::MAX_DEVICES {
            return Err(AppError::FailedPrecondition(format!(
                "you already have {} active devices; revoke one first",
                rules::MAX_DEVICES
            )));
        }
        let new = device::Model {
            device_id,
            member_id,
            public_key: {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
            },
            label,
            registered_at: self.ctx.clock.now(),
            revoked_at: None,
        };
        let (member_id, device_id) = (new.member_id.clone(), new.device_id.clone());
        let row = match store::register_device(&self.ctx.db, existing, new).await {
            Ok(row) => row,
            // A concurrent registration of the same key (a double tap) came first: its device.
            Err(e) => match store::device(&self.ctx.db, &member_id, &device_id).await? {
                Some(d) if d.revoked_at.is_none() => d,
                _ => return Err(e.into()),
            },
        };
        Ok(pb::RegisterDeviceResponse { device: Some(device_to_pb(row)) })
    }

    pub(super) async fn list_devices(
        &self,
        caller: &Caller,
        _: pb::ListDevicesRequest,
    ) -> AppResult<pb::ListDevicesResponse> {
        let member_id = caller.require_member()?;
        let rows = store::devices_of(&self.ctx.db, member_id).await?;
        Ok(pb::ListDevicesResponse { devices: rows.into_iter().map(device_to_pb).collect() })
    }

    pub(super) async fn revoke_device(
        &self,
        caller: &Caller,
        r: pb::RevokeDeviceRequest,
    ) -> AppResult<pb::RevokeDeviceResponse> {
        let member_id = caller.require_member()?;
        let device_id = parse_device_id("device_id", &r.device_id)?;
        let row = store::device(&self.ctx.db, member_id, &device_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("device {device_id} is not one of yours")))?;
        let row = store::revoke_device(&self.ctx.db, row, self.ctx.clock.now()).await?;
        Ok(pb::RevokeDeviceResponse { device: Some(device_to_pb(row)) })
    }

    pub(super) async fn sync_offline_attendance(
        &self,
        caller: &Caller,
        r: pb::SyncOfflineAttendanceRequest,
    ) -> AppResult<pb::SyncOfflineAttendanceResponse> {
        let member_id = caller.require_member()?;
        if r.records.is_empty() || r.records.len() > rules::MAX_SYNC_RECORDS {
            return Err(AppError::invalid("records", format!("must hold 1 to {} records", rules::MAX_SYNC_RECORDS)));
        }
        let member = directory::member(&self.ctx.db, "member_id", member_id).await?;
        // In the order they happened, so that a check-in comes before its check-out.
        let mut order: Vec<usize> = (0..r.records.len()).collect();
        order.sort_by_key(|&i| r.records[i].scanned_at.map(|t| (t.seconds, t.nanos)).unwrap_or((i64::MAX, 0)));
        let mut results: Vec<Option<pb::OfflineResult>> = vec![None; r.records.len()];
        let mut records: Vec<Option<pb::OfflineRecord>> = r.records.into_iter().map(Some).collect();
        for i in order {
            let record = records[i].take().expect("each record once");
            results[i] = Some(self.sync_one(&member, record).await?);
        }
        Ok(pb::SyncOfflineAttendanceResponse { results: results.into_iter().flatten().collect() })
    }

    /// One offline record: its stored result when synced before, else verified, applied or
    /// refused, and stored.
    async fn sync_one(&self, member: &directory::member::Model, r: pb::OfflineRecord) -> AppResult<pb::OfflineResult> {
        let refused = |record_id: &str, why: Refusal| pb::OfflineResult {
            record_id: record_id.to_string(),
            outcome: pb::OfflineOutcome::Refused as i32,
            reason: why.reason(),
            detail: why.detail(),
            participation: None,
        };
        // Without a valid device and record id there is no key to store the result under.
        // The record id as the app sent it (a UUID in any case): the device signed those bytes.
        let keys = parse_device_id("device_id", &r.device_id)
            .and_then(|d| parse_id("record_id", &r.record_id).map(|_| (d, r.record_id.clone())));
        let (device_id, record_id) = match keys {
            Ok(k) => k,
            Err(e) => {
                return Ok(refused(&r.record_id.chars().take(40).collect::<String>(), Refusal::Invalid(e.to_string())));
            }
        };
        if let Some(stored) = store::offline_record(&self.ctx.db, &device_id, &record_id).await? {
            if stored.member_id != member.member_id {
                return Ok(refused(
                    &record_id,
                    Refusal::Replayed("this record was already synced by another member".into()),
                ));
            }
            return self.stored_result(stored).await;
        }
        let activity_id = r.activity_id.chars().take(64).collect::<String>();
        let scanned_at_hint = r.scanned_at.and_then(|t| DateTime::from_timestamp(t.seconds, 0));
        let outcome = self.offline_claim(member, r, &device_id, &record_id).await;
        let failure = match outcome {
            Ok(row) => {
                return Ok(pb::OfflineResult {
                    record_id,
                    outcome: pb::OfflineOutcome::Accepted as i32,
                    reason: 0,
                    detail: String::new(),
                    participation: Some(self.participation_pb(row).await?),
                });
            }
            Err(Failure::Error(e)) => {
                // A concurrent sync of the same record won: answer with its result.
                if let Some(stored) = store::offline_record(&self.ctx.db, &device_id, &record_id).await? {
                    return self.stored_result(stored).await;
                }
                return Err(e);
            }
            Err(Failure::Refused(why)) => why,
        };
        let now = self.ctx.clock.now();
        let stored = store::insert_record(
            &self.ctx.db,
            record::Model {
                record_key: doan_platform::convert::new_id(),
                member_id: member.member_id.clone(),
                activity_id,
                participation_id: None,
                kind: 0,
                device_id: Some(device_id.clone()),
                record_id: Some(record_id.clone()),
                code_step: None,
                at: scanned_at_hint.unwrap_or(now),
                latitude: None,
                longitude: None,
                offline: true,
                outcome: REFUSED,
                reason: failure.reason(),
                detail: failure.detail(),
                received_at: now,
            },
        )
        .await;
        match stored {
            Ok(row) => self.stored_result(row).await,
            Err(e) => match store::offline_record(&self.ctx.db, &device_id, &record_id).await? {
                Some(row) => self.stored_result(row).await,
                None => Err(e.into()),
            },
        }
    }

    /// Parses and applies an offline record.
    async fn offline_claim(
        &self,
        member: &directory::member::Model,
        r: pb::OfflineRecord,
        device_id: &str,
        record_id: &str,
    ) -> Result<participation::Model, Failure> {
        let invalid = |e: AppError| Failure::Refused(Refusal::Invalid(e.to_string()));
        let kind = AttendanceKind::parse(r.kind).map_err(invalid)?;
        let scanned_at = parse_timestamp("scanned_at", r.scanned_at).map_err(invalid)?;
        let location = parse_location(r.location).map_err(invalid)?;
        let code = bounded_code(r.code).map_err(invalid)?;
        let activity_id = parse_id("activity_id", &r.activity_id).map_err(invalid)?;
        let not_open = || Refusal::NotEligible(format!("activity {activity_id} is not open to you"));
        let activity = activities::find(&self.ctx.db, &activity_id).await?.ok_or_else(not_open)?;
        if !is_open_to(&member.unit_path, &activity.unit_id) {
            return Err(not_open().into());
        }
        let claim = Claim {
            kind,
            code,
            location,
            device: Some((device_id.to_string(), r.signature)),
            offline: Some((record_id.to_string(), scanned_at)),
        };
        self.attend(member, &activity, &claim).await
    }

    /// A stored record's result, with the participation as it is now.
    async fn stored_result(&self, stored: record::Model) -> AppResult<pb::OfflineResult> {
        let participation = match &stored.participation_id {
            Some(id) if stored.outcome == ACCEPTED => match participations::find(&self.ctx.db, id).await? {
                Some(row) => Some(self.participation_pb(row).await?),
                None => None,
            },
            _ => None,
        };
        Ok(pb::OfflineResult {
            record_id: stored.record_id.unwrap_or_default(),
            outcome: if stored.outcome == ACCEPTED {
                pb::OfflineOutcome::Accepted as i32
            } else {
                pb::OfflineOutcome::Refused as i32
            },
            reason: stored.reason,
            detail: stored.detail,
            participation,
        })
    }

    pub(super) async fn list_participations(
        &self,
        caller: &Caller,
        r: pb::ListParticipationsRequest,
    ) -> AppResult<pb::ListParticipationsResponse> {
        caller.require_officer()?;
        let activity = self.activity(&r.activity_id).await?;
        caller.require_manages(&activity.unit_path, &format!("activity {}", activity.activity_id))?;
        let limit = page_size(r.page_size, 100, 500)?;
        let offset: u64 = match decode_page_token(&r.page_token)? {
            Some(t) => t.parse().map_err(|_| AppError::invalid("page_token", "is not a token this API returned"))?,
            None => 0,
        };
        let mut rows =
            store::page_of_activity(&self.ctx.db, &activity.activity_id, r.pending_review_only, offset, limit + 1)
                .await?;
        let next_page_token = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            encode_page_token(&(offset + limit).to_string())
        } else {
            String::new()
        };
        Ok(pb::ListParticipationsResponse { participations: self.participations_pb(rows).await?, next_page_token })
    }

    pub(super) async fn review_attendance(
        &self,
        caller: &Caller,
        r: pb::ReviewAttendanceRequest,
    ) -> AppResult<pb::ReviewAttendanceResponse> {
        caller.require_officer()?;
        let id = parse_id("participation_id", &r.participation_id)?;
        let row = participations::find(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("participation {id} (participation_id) does not exist")))?;
        let activity = self.activity(&row.activity_id).await?;
        caller.require_manages(&activity.unit_path, &format!("activity {}", activity.activity_id))?;
        let decision = Decision::parse(r.decision)?;
        let note = paragraphs("note", &r.note, 1000)?;
        if decision == Decision::Decline && note.is_empty() {
            return Err(AppError::invalid("note", "is required to decline: say why"));
        }
        let not_pending = || AppError::FailedPrecondition(format!("participation {id} has nothing waiting for review"));
        if row.review_state != ReviewState::Pending as i32 {
            return Err(not_pending());
        }
        let now = self.ctx.clock.now();
        let state = if decision == Decision::Approve { ReviewState::Approved } else { ReviewState::Declined };
        let txn = self.ctx.db.begin().await?;
        // Check-ins and check-outs of the activity take its lock: the row read now is the one
        // decided, whatever arrived since the first read.
        participations::lock_activity(&txn, &activity.activity_id).await?;
        let row = participations::find(&txn, &id).await?.ok_or_else(not_pending)?;
        let approve = state == ReviewState::Approved;
        // Hours are approved once, whenever the check-out came.
        let hours = approve && row.checked_out_at.is_some() && !row.hours_approved;
        if !store::review(&txn, &id, state, hours, &caller.account_id, now, &note).await? {
            return Err(not_pending());
        }
        let mut published = false;
        if approve && row.withheld {
            let at = row.checked_in_at.unwrap_or(now);
            let event = publish::participation_recorded(&activity, &id, &row.member_id, at);
            self.ctx.outbox.enqueue(&txn, &event).await?;
            published = true;
        }
        if hours {
            self.ctx.outbox.enqueue(&txn, &publish::hours_approved(&activity, &row, now)).await?;
            published = true;
        }
        let row = participations::find(&txn, &id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("participation vanished inside its transaction")))?;
        txn.commit().await?;
        if published {
            self.ctx.outbox.wake();
        }
        tracing::info!(participation_id = %id, decision = ?decision, "attendance reviewed");
        Ok(pb::ReviewAttendanceResponse { participation: Some(self.participation_pb(row).await?) })
    }
}

/// The activity's geofenced venue, if it has one.
pub(super) fn venue_of(a: &activity::Model) -> Option<Venue> {
    match (a.venue_latitude, a.venue_longitude, a.venue_radius_m) {
        (Some(latitude), Some(longitude), Some(radius_m)) => {
            Some(Venue { centre: rules::Point { latitude, longitude }, radius_m })
        }
        _ => None,
    }
}
