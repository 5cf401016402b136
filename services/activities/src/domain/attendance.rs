//! Proof of attendance: rotating check-in codes, device signatures, the geofence, the
//! anti-cheating checks and the review of attendance. Pure rules: no I/O, no storage, no proto.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, TimeZone, Utc};
use doan_platform::AppError;
use doan_platform::clock::vietnam_time;
use doan_platform::error::AppResult;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Seconds between two codes of an activity.
pub const STEP_SECS: i64 = 30;
/// How far a device's clock may disagree with the code it scanned, seconds.
pub const CLOCK_SKEW_SECS: i64 = 120;
/// How long after an activity ends a member may still check out.
pub const CHECK_OUT_GRACE_HOURS: i64 = 2;
/// The most of a device's reported accuracy that counts in the member's favour, metres.
pub const MAX_ACCURACY_CREDIT_M: f64 = 100.0;
/// Faster than this between two located check-ins is impossible travel, km/h.
pub const MAX_TRAVEL_KMH: f64 = 200.0;
/// Shorter distances than this never count as travel (GPS noise, neighbouring venues), metres.
pub const MIN_TRAVEL_M: f64 = 2_000.0;
/// Active devices a member may hold.
pub const MAX_DEVICES: u64 = 5;
/// Records per offline sync.
pub const MAX_SYNC_RECORDS: usize = 100;

const CODE_PREFIX: &str = "DC1";

/// How an activity's attendance is proved (numbers match `doan.activities.v1.CheckInMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckInMode {
    /// The member's word.
    SelfReported = 1,
    /// The rotating code the organiser's device shows.
    Code = 2,
}

impl CheckInMode {
    /// The mode of a request's number: unset is self-reported (compatibility).
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            0 | 1 => Ok(Self::SelfReported),
            2 => Ok(Self::Code),
            _ => Err(AppError::invalid("check_in_mode", "must be CHECK_IN_MODE_SELF or CHECK_IN_MODE_CODE")),
        }
    }

    /// The stored number's mode.
    pub fn of(stored: i32) -> Self {
        if stored == Self::Code as i32 { Self::Code } else { Self::SelfReported }
    }
}

/// Where attendance stands with the organiser (numbers match `doan.activities.v1.ReviewState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Nothing to review.
    NotNeeded = 1,
    /// A flagged check-in or hours wait for the organiser.
    Pending = 2,
    /// Approved.
    Approved = 3,
    /// Declined.
    Declined = 4,
}

/// The organiser's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve what is pending.
    Approve,
    /// Decline what is pending.
    Decline,
}

impl Decision {
    /// The decision of a request's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Approve),
            2 => Ok(Self::Decline),
            _ => Err(AppError::invalid("decision", "must be REVIEW_DECISION_APPROVE or REVIEW_DECISION_DECLINE")),
        }
    }
}

/// A reason the anti-cheating checks hold a check-in (numbers match `doan.activities.v1.FlagKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// In two places at once.
    Overlap = 1,
    /// One device checking in several members.
    SharedDevice = 2,
    /// One member's attendance from several devices.
    CodeReuse = 3,
    /// Too fast between two located check-ins.
    ImpossibleTravel = 4,
}

/// A flag raised on a check-in, with its detail for the organiser.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// What was seen.
    pub kind: FlagKind,
    /// In words.
    pub detail: String,
}

/// Check-in or check-out (numbers match `doan.activities.v1.AttendanceKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceKind {
    /// A check-in.
    CheckIn = 1,
    /// A check-out.
    CheckOut = 2,
}

impl AttendanceKind {
    /// The kind of a record's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::CheckIn),
            2 => Ok(Self::CheckOut),
            _ => Err(AppError::invalid("kind", "must be ATTENDANCE_KIND_CHECK_IN or ATTENDANCE_KIND_CHECK_OUT")),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::CheckIn => "check_in",
            Self::CheckOut => "check_out",
        }
    }
}

/// Why a claim of attendance is refused (numbers match `doan.activities.v1.RefusalReason`,
/// except [`Refusal::ExpiredCode`], which only online calls meet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a code this server issued for the activity.
    ForgedCode(String),
    /// The device's signature does not verify.
    ForgedSignature,
    /// Not an active device of the caller.
    WrongDevice(String),
    /// The code's time disagrees with the scan, or the device used it before.
    Replayed(String),
    /// Synced too late.
    Late(String),
    /// Outside the check-in (or check-out) window.
    OutOfWindow(String),
    /// Outside the venue's geofence, or no location.
    OutOfGeofence(String),
    /// Not open to the member, or waiting for a place.
    NotEligible(String),
    /// A check-out without an accepted check-in.
    NotCheckedIn(String),
    /// A malformed record.
    Invalid(String),
    /// Online only: the code is older than its life.
    ExpiredCode(String),
}

impl Refusal {
    /// The `RefusalReason` number an offline result carries.
    pub fn reason(&self) -> i32 {
        match self {
            Self::ForgedCode(_) => 1,
            Self::ForgedSignature => 2,
            Self::WrongDevice(_) => 3,
            Self::Replayed(_) | Self::ExpiredCode(_) => 4,
            Self::Late(_) => 5,
            Self::OutOfWindow(_) => 6,
            Self::OutOfGeofence(_) => 7,
            Self::NotEligible(_) => 8,
            Self::NotCheckedIn(_) => 9,
            Self::Invalid(_) => 10,
        }
    }

    /// The refusal in words.
    pub fn detail(&self) -> String {
        match self {
            Self::ForgedSignature => "the signature does not verify with the device's registered key".into(),
            Self::ForgedCode(d)
            | Self::WrongDevice(d)
            | Self::Replayed(d)
            | Self::Late(d)
            | Self::OutOfWindow(d)
            | Self::OutOfGeofence(d)
            | Self::NotEligible(d)
            | Self::NotCheckedIn(d)
            | Self::Invalid(d)
            | Self::ExpiredCode(d) => d.clone(),
        }
    }
}

impl From<Refusal> for AppError {
    /// An online call's refusal as its status: a bad code or signature is the request's fault
    /// (INVALID_ARGUMENT naming the field), a device that is not the caller's is
    /// PERMISSION_DENIED, the rest are preconditions.
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::ForgedCode(d) => AppError::invalid("code", d),
            Refusal::ForgedSignature => AppError::invalid("device.signature", Refusal::ForgedSignature.detail()),
            Refusal::Invalid(d) => AppError::invalid("request", d),
            Refusal::WrongDevice(d) => AppError::PermissionDenied(d),
            other => AppError::FailedPrecondition(other.detail()),
        }
    }
}

/// The secret that signs check-in codes.
#[derive(Clone)]
pub struct CodeKey(Hmac<Sha256>);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(redacted)")
    }
}

/// A code to show, with its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The token.
    pub code: String,
    /// When its step began.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

fn step_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(STEP_SECS)
}

fn step_start(step: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(step.saturating_mul(STEP_SECS), 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl CodeKey {
    /// The key from its base64 setting (32 bytes).
    pub fn from_base64(value: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD.decode(value.trim()).map_err(|_| anyhow::anyhow!("attendance.code_key is not base64"))?;
        anyhow::ensure!(bytes.len() == 32, "attendance.code_key must decode to 32 bytes");
        Ok(Self(Hmac::<Sha256>::new_from_slice(&bytes).expect("HMAC takes any key length")))
    }

    fn mac(&self, activity_id: &str, step: i64) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(format!("doan-check-in-code|v1|{activity_id}|{step}").as_bytes());
        mac
    }

    /// The code of `activity_id` for the step holding `now`.
    pub fn issue(&self, activity_id: &str, now: DateTime<Utc>) -> IssuedCode {
        let step = step_of(now);
        let tag = self.mac(activity_id, step).finalize().into_bytes();
        IssuedCode {
            code: format!("{CODE_PREFIX}.{activity_id}.{step}.{}", URL_SAFE_NO_PAD.encode(&tag[..16])),
            issued_at: step_start(step),
            expires_at: step_start(step + 2),
        }
    }

    /// The step of a code this key issued for `activity_id`; a code of another activity, a
    /// malformed one or one whose tag does not match is forged.
    pub fn verify(&self, activity_id: &str, code: &str) -> Result<i64, Refusal> {
        let forged = || {
            Refusal::ForgedCode(format!("{} is not a check-in code of this activity", doan_platform::text::quote(code)))
        };
        if code.is_empty() {
            return Err(Refusal::ForgedCode("is required: scan the code the organiser shows".into()));
        }
        let mut parts = code.split('.');
        let (Some(CODE_PREFIX), Some(id), Some(step), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(forged());
        };
        if id != activity_id {
            return Err(forged());
        }
        let step: i64 = step.parse().map_err(|_| forged())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| forged())?;
        self.mac(activity_id, step).verify_truncated_left(&tag).map_err(|_| forged())?;
        if tag.len() != 16 {
            return Err(forged());
        }
        Ok(step)
    }
}

/// Fails unless a code of `step` is still alive at `now` (its step or the next one).
pub fn check_fresh(step: i64, now: DateTime<Utc>) -> Result<(), Refusal> {
    let current = step_of(now);
    if step > current {
        return Err(Refusal::ForgedCode("is a code from the future".into()));
    }
    if step < current - 1 {
        return Err(Refusal::ExpiredCode(format!(
            "the code expired at {}; scan the code the organiser shows now",
            vietnam_time(step_start(step + 2))
        )));
    }
    Ok(())
}

/// Fails unless a device that says it scanned a code of `step` at `scanned_at` agrees with
/// the code's life, within [`CLOCK_SKEW_SECS`].
pub fn check_scan_time(step: i64, scanned_at: DateTime<Utc>) -> Result<(), Refusal> {
    let from = step_start(step) - Duration::seconds(CLOCK_SKEW_SECS);
    let to = step_start(step + 2) + Duration::seconds(CLOCK_SKEW_SECS);
    if scanned_at < from || scanned_at > to {
        return Err(Refusal::Replayed(format!(
            "the code was shown at {} but the record says it was scanned at {}",
            vietnam_time(step_start(step)),
            vietnam_time(scanned_at)
        )));
    }
    Ok(())
}

/// Fails unless a record scanned at `scanned_at` is synced within `limit` of it at `now`
/// (and does not come from the future).
pub fn check_not_late(scanned_at: DateTime<Utc>, now: DateTime<Utc>, limit: Duration) -> Result<(), Refusal> {
    if scanned_at > now + Duration::seconds(CLOCK_SKEW_SECS) {
        return Err(Refusal::Invalid(format!("scanned_at {} is in the future", vietnam_time(scanned_at))));
    }
    if now - scanned_at > limit {
        return Err(Refusal::Late(format!(
            "scanned at {}, synced more than {} hours later",
            vietnam_time(scanned_at),
            limit.num_hours()
        )));
    }
    Ok(())
}

/// A point on Earth (WGS 84 degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Latitude, -90 to 90.
    pub latitude: f64,
    /// Longitude, -180 to 180.
    pub longitude: f64,
}

impl Point {
    /// A point whose coordinates are in range (`field` names the request field).
    pub fn new(field: &'static str, latitude: f64, longitude: f64) -> AppResult<Self> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(AppError::invalid(field, "latitude must be between -90 and 90"));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(AppError::invalid(field, "longitude must be between -180 and 180"));
        }
        Ok(Self { latitude, longitude })
    }

    /// Great-circle distance in metres (haversine, mean Earth radius).
    pub fn distance_m(&self, other: &Point) -> f64 {
        const R: f64 = 6_371_008.8;
        let (p1, p2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dp = p2 - p1;
        let dl = (other.longitude - self.longitude).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().min(1.0).asin()
    }
}

/// Where a device says it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// The point.
    pub point: Point,
    /// Reported accuracy, metres.
    pub accuracy_m: i32,
}

impl Location {
    /// A location in range.
    pub fn new(latitude: f64, longitude: f64, accuracy_m: i32) -> AppResult<Self> {
        let point = Point::new("location", latitude, longitude)?;
        if !(0..=10_000).contains(&accuracy_m) {
            return Err(AppError::invalid("location", "accuracy_m must be between 0 and 10000"));
        }
        Ok(Self { point, accuracy_m })
    }
}

/// A venue and the radius of its geofence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Venue {
    /// Its centre.
    pub centre: Point,
    /// Radius, metres.
    pub radius_m: i32,
}

impl Venue {
    /// A venue in range: radius 20 m to 50 km.
    pub fn new(latitude: f64, longitude: f64, radius_m: i32) -> AppResult<Self> {
        let centre = Point::new("venue", latitude, longitude)?;
        if !(20..=50_000).contains(&radius_m) {
            return Err(AppError::invalid("venue", "radius_m must be between 20 and 50000"));
        }
        Ok(Self { centre, radius_m })
    }

    /// Fails unless `location` is inside the geofence, crediting at most
    /// [`MAX_ACCURACY_CREDIT_M`] of its accuracy.
    pub fn check(&self, location: Option<&Location>) -> Result<(), Refusal> {
        let Some(location) = location else {
            return Err(Refusal::OutOfGeofence(
                "this activity checks where you are: send the device's location".into(),
            ));
        };
        let distance = self.centre.distance_m(&location.point);
        let credit = f64::from(location.accuracy_m).min(MAX_ACCURACY_CREDIT_M);
        if distance - credit > f64::from(self.radius_m) {
            return Err(Refusal::OutOfGeofence(format!(
                "you are {:.0} m from the venue; check-in is accepted within {} m",
                distance, self.radius_m
            )));
        }
        Ok(())
    }
}

/// A located moment of a member's attendance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// When.
    pub at: DateTime<Utc>,
    /// Where.
    pub point: Point,
}

/// The impossible-travel flag, when reaching `now` from `previous` needs more than
/// [`MAX_TRAVEL_KMH`] over more than [`MIN_TRAVEL_M`].
pub fn impossible_travel(previous: &Fix, now: &Fix) -> Option<Flag> {
    let metres = previous.point.distance_m(&now.point);
    if metres <= MIN_TRAVEL_M {
        return None;
    }
    let seconds = (now.at - previous.at).num_seconds().abs().max(1) as f64;
    let kmh = metres / 1000.0 / (seconds / 3600.0);
    (kmh > MAX_TRAVEL_KMH).then(|| Flag {
        kind: FlagKind::ImpossibleTravel,
        detail: format!(
            "{:.1} km từ lần điểm danh lúc {} trong {} phút ({:.0} km/h)",
            metres / 1000.0,
            vietnam_time(previous.at),
            (seconds / 60.0).round(),
            kmh
        ),
    })
}

/// The text a device signs for one claim of attendance (see `doan.activities.v1.DeviceProof`).
pub fn signed_text(
    record_id: &str,
    activity_id: &str,
    kind: AttendanceKind,
    code: &str,
    scanned_at: Option<DateTime<Utc>>,
    location: Option<&Location>,
) -> String {
    let micro = |v: f64| format!("{}", (v * 1_000_000.0).round() as i64);
    let (lat, lon) = match location {
        Some(l) => (micro(l.point.latitude), micro(l.point.longitude)),
        None => (String::new(), String::new()),
    };
    let scanned = scanned_at.map(|t| t.timestamp().to_string()).unwrap_or_default();
    format!("doan-attendance-v1|{record_id}|{activity_id}|{}|{code}|{scanned}|{lat}|{lon}", kind.word())
}

/// A device's id: the first 16 bytes of SHA-256 of its public key, base64url.
pub fn device_id(public_key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(public_key)[..16])
}

/// An Ed25519 public key a device may register: 32 bytes, a valid point, not a weak key.
pub fn parse_public_key(bytes: &[u8]) -> AppResult<VerifyingKey> {
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| AppError::invalid("public_key", "must be an Ed25519 public key of 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| AppError::invalid("public_key", "is not a valid Ed25519 public key"))?;
    if key.is_weak() {
        return Err(AppError::invalid("public_key", "is a weak Ed25519 key"));
    }
    Ok(key)
}

/// Fails unless `signature` is the device's strict Ed25519 signature of `text`.
pub fn check_signature(public_key: &[u8], text: &str, signature: &[u8]) -> Result<(), Refusal> {
    let key = parse_public_key(public_key).map_err(|_| Refusal::ForgedSignature)?;
    let signature = Signature::from_slice(signature).map_err(|_| Refusal::ForgedSignature)?;
    key.verify_strict(text.as_bytes(), &signature).map_err(|_| Refusal::ForgedSignature)
}

/// Fails unless a check-out at `at` falls between the check-in and the end of the grace
/// after the activity.
pub fn check_out_window(
    checked_in_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<(), Refusal> {
    let closes = ends_at + Duration::hours(CHECK_OUT_GRACE_HOURS);
    if at < checked_in_at || at > closes {
        return Err(Refusal::OutOfWindow(format!(
            "check-out is open from your check-in at {} to {}",
            vietnam_time(checked_in_at),
            vietnam_time(closes)
        )));
    }
    Ok(())
}

/// Whole minutes from check-in to check-out.
pub fn minutes_between(checked_in_at: DateTime<Utc>, checked_out_at: DateTime<Utc>) -> i32 {
    (checked_out_at - checked_in_at).num_minutes().clamp(0, i64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn key() -> CodeKey {
        CodeKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn codes_rotate_and_expire() {
        let k = key();
        let now = t("2026-07-01T08:00:10Z");
        let issued = k.issue("a1", now);
        assert_eq!(issued.issued_at, t("2026-07-01T08:00:00Z"));
        assert_eq!(issued.expires_at, t("2026-07-01T08:01:00Z"));
        assert!(issued.code.len() <= 120);
        let step = k.verify("a1", &issued.code).unwrap();
        assert!(check_fresh(step, now).is_ok());
        assert!(check_fresh(step, t("2026-07-01T08:00:59Z")).is_ok(), "alive in the next step");
        assert!(matches!(check_fresh(step, t("2026-07-01T08:01:00Z")), Err(Refusal::ExpiredCode(_))));
        assert!(matches!(check_fresh(step, t("2026-07-01T07:59:59Z")), Err(Refusal::ForgedCode(_))));
        assert_ne!(k.issue("a1", t("2026-07-01T08:00:30Z")).code, issued.code, "rotates every step");
    }

    #[test]
    fn forged_codes_are_refused() {
        let k = key();
        let code = k.issue("a1", t("2026-07-01T08:00:10Z")).code;
        assert!(matches!(k.verify("a2", &code), Err(Refusal::ForgedCode(_))), "another activity's code");
        let other = CodeKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(matches!(other.verify("a1", &code), Err(Refusal::ForgedCode(_))), "another key");
        let (head, _) = code.rsplit_once('.').unwrap();
        let bumped = code.replace(".59429760.", ".59429761.");
        assert_ne!(bumped, code);
        for bad in ["", "DC1", "x.y.z.w", &format!("{head}.AAAA"), &format!("{code}.extra"), &bumped] {
            assert!(k.verify("a1", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scan_times_must_agree_with_the_code() {
        let k = key();
        let step = k.verify("a1", &k.issue("a1", t("2026-07-01T08:00:10Z")).code).unwrap();
        assert!(check_scan_time(step, t("2026-07-01T08:00:20Z")).is_ok());
        assert!(check_scan_time(step, t("2026-07-01T08:02:30Z")).is_ok(), "within the skew");
        assert!(matches!(check_scan_time(step, t("2026-07-01T09:00:00Z")), Err(Refusal::Replayed(_))));
        let now = t("2026-07-04T08:00:00Z");
        assert!(check_not_late(t("2026-07-01T08:00:01Z"), now, Duration::hours(72)).is_ok());
        assert!(matches!(check_not_late(t("2026-07-01T07:59:59Z"), now, Duration::hours(72)), Err(Refusal::Late(_))));
        assert!(check_not_late(t("2026-07-04T08:10:00Z"), now, Duration::hours(72)).is_err(), "future");
    }

    #[test]
    fn geofence_and_travel() {
        // Hoàn Kiếm Lake and a point about 1.1 km north.
        let venue = Venue::new(21.0287, 105.8524, 200).unwrap();
        let at = |lat, lon, acc| Location::new(lat, lon, acc).unwrap();
        assert!(venue.check(Some(&at(21.0290, 105.8526, 10))).is_ok());
        assert!(matches!(venue.check(Some(&at(21.0387, 105.8524, 10))), Err(Refusal::OutOfGeofence(_))));
        assert!(venue.check(Some(&at(21.0312, 105.8524, 10))).is_err(), "278 m out");
        assert!(venue.check(Some(&at(21.0312, 105.8524, 100))).is_ok(), "278 m out, 100 m accuracy credited");
        assert!(venue.check(Some(&at(21.0327, 105.8524, 5000))).is_err(), "credit is capped");
        assert!(venue.check(None).is_err());
        assert!(Venue::new(91.0, 0.0, 100).is_err() && Venue::new(0.0, 0.0, 5).is_err());
        assert!(Location::new(f64::NAN, 0.0, 1).is_err() && Location::new(0.0, 181.0, 1).is_err());

        let hanoi = Point { latitude: 21.0287, longitude: 105.8524 };
        let saigon = Point { latitude: 10.7769, longitude: 106.7009 };
        let d = hanoi.distance_m(&saigon);
        assert!((1_130_000.0..1_150_000.0).contains(&d), "{d}");
        let before = Fix { at: t("2026-07-01T08:00:00Z"), point: hanoi };
        assert!(impossible_travel(&before, &Fix { at: t("2026-07-01T09:00:00Z"), point: saigon }).is_some());
        assert!(impossible_travel(&before, &Fix { at: t("2026-07-02T09:00:00Z"), point: saigon }).is_none());
        let near = Point { latitude: 21.0387, longitude: 105.8524 };
        assert!(impossible_travel(&before, &Fix { at: t("2026-07-01T08:00:01Z"), point: near }).is_none());
    }

    #[test]
    fn device_signatures() {
        let sk = SigningKey::from_bytes(&[3u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        assert!(parse_public_key(&pk).is_ok());
        assert!(parse_public_key(&pk[..31]).is_err());
        assert!(parse_public_key(&[0u8; 32]).is_err(), "the identity point is weak");
        assert_eq!(device_id(&pk).len(), 22);
        let loc = Location::new(21.0287, 105.8524, 5).unwrap();
        let text =
            signed_text("r1", "a1", AttendanceKind::CheckIn, "DC1.x", Some(t("2026-07-01T08:00:00Z")), Some(&loc));
        assert_eq!(text, "doan-attendance-v1|r1|a1|check_in|DC1.x|1782892800|21028700|105852400");
        let sig = sk.sign(text.as_bytes()).to_bytes();
        assert!(check_signature(&pk, &text, &sig).is_ok());
        assert_eq!(check_signature(&pk, &text.replace("r1", "r2"), &sig), Err(Refusal::ForgedSignature));
        assert_eq!(check_signature(&pk, &text, &sig[..10]), Err(Refusal::ForgedSignature));
        assert_eq!(
            signed_text("", "a1", AttendanceKind::CheckOut, "", None, None),
            "doan-attendance-v1||a1|check_out||||"
        );
    }

    #[test]
    fn check_out_windows_and_minutes() {
        let inn = t("2026-07-01T08:00:00Z");
        let ends = t("2026-07-01T11:00:00Z");
        assert!(check_out_window(inn, ends, t("2026-07-01T12:59:00Z")).is_ok());
        assert!(check_out_window(inn, ends, t("2026-07-01T13:00:01Z")).is_err());
        assert!(check_out_window(inn, ends, t("2026-07-01T07:59:00Z")).is_err());
        assert_eq!(minutes_between(inn, t("2026-07-01T10:30:59Z")), 150);
    }
}
