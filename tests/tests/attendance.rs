//! Attendance that cannot be cheated: the rotating signed code, the check-in window, the
//! geofence, device keys and offline records (late, replayed, forged, from the wrong device),
//! anti-cheating flags held for the organiser's review, check-out and the review of hours.
//! Each security case has its own test (embedded); the real servers run them all on one
//! platform. Time is a fixed clock the tests move (tokens keep real time).

use std::time::Duration;

use chrono::{DateTime, Utc};
use doan_platform::clock::Clock;
use doan_proto::activities as act;
use doan_proto::events::{EventEnvelope, HoursApproved, ParticipationRecorded};
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, authed, create_unit, member_login, officer, until_known};
use doan_tests::effects::{ADMISSION_EFFECTS, CHECK_IN_EFFECTS, counts, settle};
use doan_tests::{TestPlatform, base_settings, real_servers};
use ed25519_dalek::{Signer, SigningKey};
use prost::Message;
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

type Part = act::Participation;

/// Hoàn Kiếm Lake, Hà Nội, and the Reunification Palace, Thành phố Hồ Chí Minh.
const HANOI: (f64, f64) = (21.0287, 105.8524);
const SAIGON: (f64, f64) = (10.7769, 106.7009);

struct Scene {
    tp: TestPlatform,
    gw: Gateway,
    clock: Clock,
    /// The organiser: secretary of the school's Union.
    org: String,
    school: String,
    branch: String,
    next_member: std::sync::atomic::AtomicU32,
}

/// A member of the scene: id and token.
struct Member {
    id: String,
    token: String,
}

/// A device of a member's app: its key and id.
struct Device {
    key: SigningKey,
    id: String,
}

fn now_rounded() -> DateTime<Utc> {
    // The middle of a 30-second step, so that moving the clock by whole steps is exact.
    let t = Utc::now().timestamp();
    DateTime::from_timestamp(t - t.rem_euclid(30) + 10, 0).unwrap()
}

fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(doan_platform::convert::timestamp(t))
}

fn loc(p: (f64, f64), accuracy_m: i32) -> act::Location {
    act::Location { latitude: p.0, longitude: p.1, accuracy_m }
}

impl Scene {
    async fn embedded() -> Self {
        let clock = Clock::fixed(now_rounded());
        let tp = TestPlatform::embedded_at(base_settings(), &[], clock.clone()).await.expect("start");
        Self::build(tp, clock).await
    }

    async fn servers(urls: doan_tests::ServerUrls) -> Self {
        let clock = Clock::fixed(now_rounded());
        let tp = TestPlatform::servers_at(urls, clock.clone(), |_| {}).await.expect("start");
        Self::build(tp, clock).await
    }

    async fn build(tp: TestPlatform, clock: Clock) -> Self {
        let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
        let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
        let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
        let province = create_unit(&gw, &admin, &root, "Thành đoàn Hà Nội", Provincial).await;
        let school = create_unit(&gw, &admin, &province, "Đoàn trường Đại học Bách khoa", Grassroots).await;
        let branch = create_unit(&gw, &admin, &school, "Chi đoàn K68", Branch).await;
        let org = officer(&gw, &admin, &school, "bithu.bachkhoa").await;
        Self { tp, gw, clock, org, school, branch, next_member: 700.into() }
    }

    async fn stop(self) {
        self.tp.stop().await.expect("stop");
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the clock by `seconds`.
    fn wait(&self, seconds: i64) {
        self.clock.set(self.now() + chrono::Duration::seconds(seconds));
    }

    /// A new member of the branch, known to activities.
    async fn member(&self) -> Member {
        let n = self.next_member.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (id, token) = member_login(&self.gw, &self.org, &self.branch, n).await;
        let tally =
            settle(&self.tp, &ADMISSION_EFFECTS[1..2], std::slice::from_ref(&id), Duration::from_secs(20)).await;
        assert!(tally.is_exact(), "{}", tally.report());
        Member { id, token }
    }

    /// An activity of the school in `mode`, open from 5 minutes ago for 2 hours (or from
    /// `starts_in` seconds from now), with an optional venue.
    async fn activity(&self, mode: act::CheckInMode, venue: Option<((f64, f64), i32)>, starts_in: i64) -> String {
        let start = self.now() + chrono::Duration::seconds(starts_in) - chrono::Duration::minutes(5);
        let request = act::CreateActivityRequest {
            unit_id: self.school.clone(),
            title: "Chủ nhật xanh".into(),
            description: String::new(),
            starts_at: ts(start),
            ends_at: ts(start + chrono::Duration::hours(2)),
            points: 3,
            capacity: 0,
            check_in_mode: mode as i32,
            venue: venue.map(|(p, radius_m)| act::Venue { latitude: p.0, longitude: p.1, radius_m }),
            ..Default::default()
        };
        until_known("activities learns the unit", || {
            let mut client = self.gw.activities.clone();
            let request = authed(&self.org, request.clone());
            async move { client.create_activity(request).await }
        })
        .await
        .activity
        .expect("activity")
        .activity_id
    }

    async fn code_activity(&self) -> String {
        self.activity(act::CheckInMode::Code, None, 0).await
    }

    /// The code the organiser's device shows now.
    async fn code(&self, activity_id: &str) -> String {
        let r = authed(&self.org, act::GetCheckInCodeRequest { activity_id: activity_id.into() });
        self.gw.activities.clone().get_check_in_code(r).await.expect("code").into_inner().code
    }

    /// Checks `m` in to (or out of) the activity online, with the device's proof if given.
    async fn attend(
        &self,
        kind: act::AttendanceKind,
        m: &Member,
        activity_id: &str,
        code: &str,
        location: Option<act::Location>,
        device: Option<&Device>,
    ) -> Result<Part, tonic::Status> {
        let device = device.map(|d| proof(d, "", activity_id, kind, code, None, location));
        let (activity_id, code) = (activity_id.to_string(), code.to_string());
        let mut client = self.gw.activities.clone();
        let participation = if kind == OUT {
            let r = act::CheckOutRequest { activity_id, code, location, device };
            client.check_out(authed(&m.token, r)).await?.into_inner().participation
        } else {
            let r = act::CheckInRequest { activity_id, code, location, device };
            client.check_in(authed(&m.token, r)).await?.into_inner().participation
        };
        Ok(participation.expect("participation"))
    }

    /// Registers a new device key for `m`.
    async fn device(&self, m: &Member, seed: u8) -> Device {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let id = self.register_key(m, &key).await.expect("device registered").device_id;
        Device { key, id }
    }

    async fn register_key(&self, m: &Member, key: &SigningKey) -> Result<act::Device, tonic::Status> {
        let r = authed(
            &m.token,
            act::RegisterDeviceRequest {
                public_key: key.verifying_key().to_bytes().to_vec(),
                label: "Điện thoại".into(),
            },
        );
        self.gw.activities.clone().register_device(r).await.map(|r| r.into_inner().device.expect("device"))
    }

    async fn sync(&self, m: &Member, records: Vec<act::OfflineRecord>) -> Vec<act::OfflineResult> {
        let r = authed(&m.token, act::SyncOfflineAttendanceRequest { records });
        self.gw.activities.clone().sync_offline_attendance(r).await.expect("sync").into_inner().results
    }

    async fn participations(&self, activity_id: &str, pending_review_only: bool) -> Vec<Part> {
        let r = authed(
            &self.org,
            act::ListParticipationsRequest {
                activity_id: activity_id.into(),
                pending_review_only,
                ..Default::default()
            },
        );
        self.gw.activities.clone().list_participations(r).await.expect("list").into_inner().participations
    }

    async fn review(
        &self,
        participation_id: &str,
        decision: act::ReviewDecision,
        note: &str,
    ) -> Result<Part, tonic::Status> {
        let r = authed(
            &self.org,
            act::ReviewAttendanceRequest {
                participation_id: participation_id.into(),
                decision: decision as i32,
                note: note.into(),
            },
        );
        self.gw
            .activities
            .clone()
            .review_attendance(r)
            .await
            .map(|r| r.into_inner().participation.expect("participation"))
    }

    /// The payloads of activities' outbox events of type `T`.
    async fn outbox<T: Message + Default + doan_proto::events::IntegrationEvent>(&self) -> Vec<T> {
        let db = self.tp.database("activities").await.expect("activities database");
        let sql = format!("SELECT envelope FROM outbox WHERE event_type = '{}'", T::EVENT_TYPE);
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("outbox");
        rows.iter()
            .map(|r| {
                let bytes: Vec<u8> = r.try_get("", "envelope").expect("envelope");
                T::decode(EventEnvelope::decode(&bytes[..]).expect("envelope").payload.as_slice()).expect("payload")
            })
            .collect()
    }

    async fn recorded_for(&self, participation_id: &str) -> usize {
        self.outbox::<ParticipationRecorded>().await.iter().filter(|e| e.participation_id == participation_id).count()
    }
}

/// The proof an online call carries: the device's signature of the claim.
fn proof(
    d: &Device,
    record_id: &str,
    activity_id: &str,
    kind: act::AttendanceKind,
    code: &str,
    scanned_at: Option<DateTime<Utc>>,
    location: Option<act::Location>,
) -> act::DeviceProof {
    act::DeviceProof {
        device_id: d.id.clone(),
        signature: sign(&d.key, record_id, activity_id, kind, code, scanned_at, location),
    }
}

/// Signs the text of `doan.activities.v1.OfflineRecord.signature`, written out here as a
/// client would from the proto's comment (not with the server's function).
fn sign(
    key: &SigningKey,
    record_id: &str,
    activity_id: &str,
    kind: act::AttendanceKind,
    code: &str,
    scanned_at: Option<DateTime<Utc>>,
    location: Option<act::Location>,
) -> Vec<u8> {
    let kind = match kind {
        act::AttendanceKind::CheckOut => "check_out",
        _ => "check_in",
    };
    let e6 = |v: f64| ((v * 1e6).round() as i64).to_string();
    let (lat, lon) = location.map(|l| (e6(l.latitude), e6(l.longitude))).unwrap_or_default();
    let scanned = scanned_at.map(|t| t.timestamp().to_string()).unwrap_or_default();
    let text = format!("doan-attendance-v1|{record_id}|{activity_id}|{kind}|{code}|{scanned}|{lat}|{lon}");
    key.sign(text.as_bytes()).to_bytes().to_vec()
}

/// An offline record signed by `d`, its id a new UUID in lower case.
fn record(
    d: &Device,
    activity_id: &str,
    kind: act::AttendanceKind,
    code: &str,
    scanned_at: DateTime<Utc>,
    location: Option<act::Location>,
) -> act::OfflineRecord {
    record_with_id(d, &uuid::Uuid::new_v4().to_string(), activity_id, kind, code, scanned_at, location)
}

/// An offline record with the id the app chose (as it wrote it), signed by `d`.
fn record_with_id(
    d: &Device,
    record_id: &str,
    activity_id: &str,
    kind: act::AttendanceKind,
    code: &str,
    scanned_at: DateTime<Utc>,
    location: Option<act::Location>,
) -> act::OfflineRecord {
    let record_id = record_id.to_string();
    act::OfflineRecord {
        signature: sign(&d.key, &record_id, activity_id, kind, code, Some(scanned_at), location),
        record_id,
        activity_id: activity_id.into(),
        kind: kind as i32,
        code: code.into(),
        scanned_at: ts(scanned_at),
        location,
        device_id: d.id.clone(),
    }
}

/// Waits (up to 20 s) until `key` has at least `want` rows by `sql`; returns the count.
async fn eventually_count(db: &sea_orm::DatabaseConnection, sql: &str, key: &str, want: i64) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = counts(db, sql).await.expect("count").get(key).copied().unwrap_or(0);
        if n >= want || tokio::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const IN: act::AttendanceKind = act::AttendanceKind::CheckIn;
const OUT: act::AttendanceKind = act::AttendanceKind::CheckOut;
const ACCEPTED: i32 = act::OfflineOutcome::Accepted as i32;
const REFUSED: i32 = act::OfflineOutcome::Refused as i32;
const PENDING: i32 = act::ReviewState::Pending as i32;
const NOT_NEEDED: i32 = act::ReviewState::NotNeeded as i32;

fn refused_for(result: &act::OfflineResult, reason: act::RefusalReason) {
    assert_eq!((result.outcome, result.reason), (REFUSED, reason as i32), "{result:?}");
    assert!(result.participation.is_none());
}

fn flag_kinds(p: &Part) -> Vec<i32> {
    p.flags.iter().map(|f| f.kind).collect()
}

// ---- the security cases ------------------------------------------------------------------

/// A code lives for its step and the next (30 to 60 s); an older one is refused, and a member
/// can neither check in without a code nor with one forged or of another activity.
async fn expired_code(s: &Scene) {
    let m = s.member().await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    s.wait(61);
    let err = s.attend(IN, &m, &id, &code, None, None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("expired"), "{err:?}");
    // One step old is still good.
    let code = s.code(&id).await;
    s.wait(30);
    assert_eq!(
        s.attend(IN, &m, &id, &code, None, None).await.unwrap().state,
        act::ParticipationState::CheckedIn as i32
    );
}

async fn forged_code(s: &Scene) {
    let m = s.member().await;
    let id = s.code_activity().await;
    let other = s.code_activity().await;
    let code = s.code(&id).await;
    let (head, tag) = code.rsplit_once('.').unwrap();
    let flipped = format!("{head}.{}{}", if tag.starts_with('A') { 'B' } else { 'A' }, &tag[1..]);
    let bad = [String::new(), flipped, s.code(&other).await, "DC1.x.1.AAAA".into(), "x".repeat(121)];
    for bad in bad {
        let err = s.attend(IN, &m, &id, &bad, None, None).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}: {err:?}");
        assert!(err.message().contains("code"), "names the field: {err:?}");
    }
    // A self-reported activity needs no code; nothing was recorded for the code activity.
    assert!(s.participations(&id, false).await.is_empty());
    let open = s.activity(act::CheckInMode::Self_, None, 0).await;
    s.attend(IN, &m, &open, "", None, None).await.expect("the member's word");
}

/// An offline record synced twice is answered the same and counted once; a second record of
/// the same code from the same device, an old code with a new time, and another member's
/// record are refused as replays.
async fn replayed_offline(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 11).await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    let first = record(&d, &id, IN, &code, s.now(), None);
    s.wait(600);
    let once = s.sync(&m, vec![first.clone()]).await;
    assert_eq!(once[0].outcome, ACCEPTED, "{once:?}");
    let again = s.sync(&m, vec![first.clone()]).await;
    assert_eq!(again, once, "the same record, the same answer");
    let p = once[0].participation.clone().unwrap();
    assert!(p.offline);
    assert_eq!(s.recorded_for(&p.participation_id).await, 1, "one ParticipationRecorded");

    // The same code again from the same device, as a check-out: a new record, a replayed code.
    let replay = record(&d, &id, IN, &code, s.now() - chrono::Duration::seconds(600), None);
    refused_for(&s.sync(&m, vec![replay.clone()]).await[0], act::RefusalReason::Replayed);
    // An old code with a fresh time.
    let other = s.member().await;
    let od = s.device(&other, 12).await;
    let stale = record(&od, &id, IN, &code, s.now(), None);
    refused_for(&s.sync(&other, vec![stale]).await[0], act::RefusalReason::Replayed);
    // Member A's accepted record, submitted by another member (who registered the same key).
    let shared = Device { key: d.key.clone(), id: s.register_key(&other, &d.key).await.unwrap().device_id };
    assert_eq!(shared.id, d.id, "the id is the key's");
    refused_for(&s.sync(&other, vec![first]).await[0], act::RefusalReason::Replayed);
    // A refused record stays refused when synced again.
    refused_for(&s.sync(&m, vec![replay]).await[0], act::RefusalReason::Replayed);
}

/// A record whose signature does not verify, with the device's key or after a field changed,
/// is refused; an online proof likewise.
async fn forged_signature(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 21).await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    let mut forged = record(&d, &id, IN, &code, s.now(), None);
    forged.signature = sign(&SigningKey::from_bytes(&[99; 32]), &forged.record_id, &id, IN, &code, Some(s.now()), None);
    let mut moved = record(&d, &id, IN, &code, s.now(), Some(loc(HANOI, 10)));
    moved.location = Some(loc(SAIGON, 10));
    let mut short = record(&d, &id, IN, &code, s.now(), None);
    short.signature.truncate(10);
    let results = s.sync(&m, vec![forged, moved, short]).await;
    for r in &results {
        refused_for(r, act::RefusalReason::ForgedSignature);
    }
    let mut bad = proof(&d, "", &id, IN, &code, None, None);
    bad.signature[0] ^= 1;
    let r = authed(
        &m.token,
        act::CheckInRequest { activity_id: id.clone(), code: code.clone(), location: None, device: Some(bad) },
    );
    let err = s.gw.activities.clone().check_in(r).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("device.signature"), "{err:?}");
    assert!(s.participations(&id, false).await.is_empty(), "nothing recorded");
}

/// A device that is not the caller's, or was revoked, cannot sign for them.
async fn wrong_device(s: &Scene) {
    let a = s.member().await;
    let b = s.member().await;
    let bd = s.device(&b, 31).await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    // B's device signs a record, which A submits.
    refused_for(
        &s.sync(&a, vec![record(&bd, &id, IN, &code, s.now(), None)]).await[0],
        act::RefusalReason::WrongDevice,
    );
    let err = s.attend(IN, &a, &id, &code, None, Some(&bd)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // B revokes the device (a lost phone): what it signs is refused from then on.
    let r = authed(&b.token, act::RevokeDeviceRequest { device_id: bd.id.clone() });
    let revoked = s.gw.activities.clone().revoke_device(r).await.unwrap().into_inner().device.unwrap();
    assert!(revoked.revoked_at.is_some());
    refused_for(
        &s.sync(&b, vec![record(&bd, &id, IN, &code, s.now(), None)]).await[0],
        act::RefusalReason::WrongDevice,
    );
    // A registered device of the member's own works.
    let ad = s.device(&a, 32).await;
    let listed = s.gw.activities.clone().list_devices(authed(&a.token, act::ListDevicesRequest {})).await.unwrap();
    assert_eq!(
        listed.into_inner().devices.iter().map(|d| d.device_id.clone()).collect::<Vec<_>>(),
        vec![ad.id.clone()]
    );
    assert_eq!(s.sync(&a, vec![record(&ad, &id, IN, &code, s.now(), None)]).await[0].outcome, ACCEPTED);
}

/// Before the window opens, and for check-out after its grace, attendance is refused online
/// and offline.
async fn out_of_window(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 41).await;
    let tomorrow = s.activity(act::CheckInMode::Code, None, 86_400).await;
    let code = s.code(&tomorrow).await;
    let err = s.attend(IN, &m, &tomorrow, &code, None, None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    refused_for(
        &s.sync(&m, vec![record(&d, &tomorrow, IN, &code, s.now(), None)]).await[0],
        act::RefusalReason::OutOfWindow,
    );
    // Checked in now; check-out is open until 2 hours after the end.
    let id = s.activity(act::CheckInMode::Self_, None, 0).await;
    s.attend(IN, &m, &id, "", None, None).await.unwrap();
    s.wait(2 * 3600 + 3 * 3600);
    let err = s.attend(OUT, &m, &id, "", None, None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("check-out is open"), "{err:?}");
    // Without a check-in there is nothing to check out of.
    let other = s.member().await;
    let err = s.attend(OUT, &other, &id, "", None, None).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
}

/// At an activity with a venue, a location outside its radius (or none) is refused.
async fn out_of_geofence(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 51).await;
    let id = s.activity(act::CheckInMode::Code, Some((HANOI, 150)), 0).await;
    let code = s.code(&id).await;
    let far = (HANOI.0 + 0.01, HANOI.1); // about 1.1 km north
    for location in [None, Some(loc(far, 20))] {
        let err = s.attend(IN, &m, &id, &code, location, None).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{location:?}: {err:?}");
    }
    refused_for(
        &s.sync(&m, vec![record(&d, &id, IN, &code, s.now(), Some(loc(far, 20)))]).await[0],
        act::RefusalReason::OutOfGeofence,
    );
    let err = s.attend(IN, &m, &id, &code, Some(loc((91.0, 0.0), 5)), None).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a latitude out of range: {err:?}");
    let near = (HANOI.0 + 0.0005, HANOI.1); // about 55 m
    let p = s.attend(IN, &m, &id, &code, Some(loc(near, 15)), None).await.expect("inside");
    assert_eq!((p.state, p.review_state), (act::ParticipationState::CheckedIn as i32, NOT_NEEDED));
}

/// An offline record synced later than the configured limit (72 hours) is refused.
async fn late_offline(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 61).await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    let late = record(&d, &id, IN, &code, s.now(), None);
    s.wait(72 * 3600 + 60);
    refused_for(&s.sync(&m, vec![late]).await[0], act::RefusalReason::Late);
}

// ---- flags, check-out and review ---------------------------------------------------------

/// Each anti-cheating check raises its flag and holds the check-in for review, earning
/// nothing until the organiser approves it; approval releases the points everywhere.
async fn flags_and_review(s: &Scene) {
    // One person in two places.
    let m = s.member().await;
    let first = s.activity(act::CheckInMode::Self_, None, 0).await;
    let second = s.activity(act::CheckInMode::Self_, None, 0).await;
    let p1 = s.attend(IN, &m, &first, "", None, None).await.unwrap();
    assert_eq!((p1.review_state, p1.flags.len()), (NOT_NEEDED, 0));
    let p2 = s.attend(IN, &m, &second, "", None, None).await.unwrap();
    assert_eq!(flag_kinds(&p2), vec![act::FlagKind::Overlap as i32]);
    assert_eq!(p2.review_state, PENDING);
    assert_eq!(s.recorded_for(&p2.participation_id).await, 0, "points withheld");
    assert_eq!(s.recorded_for(&p1.participation_id).await, 1);

    // Check-ins for others: one device, two members at one activity.
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    let a = s.member().await;
    let b = s.member().await;
    let phone = s.device(&a, 71).await;
    let shared = Device { key: phone.key.clone(), id: s.register_key(&b, &phone.key).await.unwrap().device_id };
    assert_eq!(s.attend(IN, &a, &id, &code, None, Some(&phone)).await.unwrap().review_state, NOT_NEEDED);
    let pb = s.attend(IN, &b, &id, &code, None, Some(&shared)).await.unwrap();
    assert_eq!(flag_kinds(&pb), vec![act::FlagKind::SharedDevice as i32]);

    // Code reuse across devices: checked in from one phone, out from another.
    let c = s.member().await;
    let c1 = s.device(&c, 72).await;
    let c2 = s.device(&c, 73).await;
    s.attend(IN, &c, &id, &code, None, Some(&c1)).await.unwrap();
    s.wait(1800);
    let code = s.code(&id).await;
    let pc = s.attend(OUT, &c, &id, &code, None, Some(&c2)).await.unwrap();
    assert_eq!(flag_kinds(&pc), vec![act::FlagKind::CodeReuse as i32]);
    assert_eq!((pc.review_state, pc.minutes), (PENDING, 30));

    // Impossible travel: Hà Nội, then Thành phố Hồ Chí Minh 20 minutes later.
    let t = s.member().await;
    let north = s.activity(act::CheckInMode::Self_, Some((HANOI, 200)), 0).await;
    let south = s.activity(act::CheckInMode::Self_, Some((SAIGON, 200)), 0).await;
    s.attend(IN, &t, &north, "", Some(loc(HANOI, 10)), None).await.unwrap();
    s.attend(OUT, &t, &north, "", Some(loc(HANOI, 10)), None).await.unwrap();
    s.wait(1200);
    let pt = s.attend(IN, &t, &south, "", Some(loc(SAIGON, 10)), None).await.unwrap();
    assert_eq!(flag_kinds(&pt), vec![act::FlagKind::ImpossibleTravel as i32], "{pt:?}");
    assert!(pt.flags[0].detail.contains("km/h"), "{:?}", pt.flags[0]);

    // The organiser sees what waits, declines one (with a reason) and approves another.
    let pending = s.participations(&id, true).await;
    let mut ids: Vec<&str> = pending.iter().map(|p| p.participation_id.as_str()).collect();
    ids.sort();
    let mut expected = vec![pb.participation_id.as_str(), pc.participation_id.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    let err = s.review(&pb.participation_id, act::ReviewDecision::Decline, "").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a decline says why: {err:?}");
    let declined = s.review(&pb.participation_id, act::ReviewDecision::Decline, "Điểm danh hộ").await.unwrap();
    assert_eq!(declined.review_state, act::ReviewState::Declined as i32);
    assert_eq!(declined.review_note, "Điểm danh hộ");
    assert!(!declined.reviewed_by.is_empty() && declined.reviewed_at.is_some());
    let err = s.review(&pb.participation_id, act::ReviewDecision::Approve, "").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "decided once: {err:?}");
    let err = s.attend(OUT, &b, &id, &s.code(&id).await, None, Some(&shared)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a declined attendance does not check out: {err:?}");
    assert_eq!(s.recorded_for(&pb.participation_id).await, 0, "a declined check-in earns nothing");
    assert_eq!(s.participations(&id, false).await.len(), 3, "declined is kept, never deleted");

    // A repeat of the first check-in returns it: it is not a new claim to be in two places.
    let again = s.attend(IN, &m, &first, "", None, None).await.unwrap();
    assert_eq!((again.review_state, again.flags.len()), (NOT_NEEDED, 0));
    let approved = s.review(&p2.participation_id, act::ReviewDecision::Approve, "Đã xác minh").await.unwrap();
    assert_eq!(approved.review_state, act::ReviewState::Approved as i32);
    assert_eq!(s.recorded_for(&p2.participation_id).await, 1, "approval releases the points");
    // Checked out after the approval (at the same instant): the hours still wait, and their
    // approval publishes them once, without the points again.
    let out = s.attend(OUT, &m, &second, "", None, None).await.unwrap();
    assert_eq!(out.review_state, PENDING);
    s.review(&p2.participation_id, act::ReviewDecision::Approve, "").await.unwrap();
    let hours = s.outbox::<HoursApproved>().await;
    assert_eq!(hours.iter().filter(|h| h.participation_id == p2.participation_id).count(), 1);
    assert_eq!(s.recorded_for(&p2.participation_id).await, 1);
    // Every service that acts on a check-in now holds one effect of each of the member's two
    // accepted check-ins (the first activity's and the approved second).
    for effect in &CHECK_IN_EFFECTS[1..] {
        let db = s.tp.database(effect.service).await.unwrap();
        let n = eventually_count(&db, effect.sql, &m.id, 2).await;
        assert_eq!(n, 2, "{}: one effect per accepted check-in", effect.name);
    }
}

/// Hours run from check-in to check-out and wait for the organiser; approval publishes them
/// once.
async fn hours(s: &Scene) {
    let m = s.member().await;
    let id = s.code_activity().await;
    let code = s.code(&id).await;
    let p = s.attend(IN, &m, &id, &code, None, None).await.unwrap();
    assert_eq!(p.review_state, NOT_NEEDED);
    let err = s.review(&p.participation_id, act::ReviewDecision::Approve, "").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "nothing waits yet: {err:?}");
    s.wait(90 * 60);
    let code = s.code(&id).await;
    let out = s.attend(OUT, &m, &id, &code, None, None).await.unwrap();
    assert_eq!((out.minutes, out.review_state), (90, PENDING));
    assert!(out.checked_out_at.is_some());
    let again = s.attend(OUT, &m, &id, &code, None, None).await.unwrap();
    assert_eq!(again, out, "a second check-out changes nothing");
    assert_eq!(s.participations(&id, true).await.len(), 1);
    let approved = s.review(&p.participation_id, act::ReviewDecision::Approve, "").await.unwrap();
    assert_eq!(approved.review_state, act::ReviewState::Approved as i32);
    let hours: Vec<HoursApproved> =
        s.outbox::<HoursApproved>().await.into_iter().filter(|h| h.participation_id == p.participation_id).collect();
    assert_eq!(hours.len(), 1);
    assert_eq!((hours[0].minutes, hours[0].member_id.as_str()), (90, m.id.as_str()));
    assert!(s.participations(&id, true).await.is_empty());
    assert_eq!(s.recorded_for(&p.participation_id).await, 1, "points went at check-in, once");
    // Membership's evidence credits the approved minutes instead of the scheduled length.
    let membership = s.tp.database("membership").await.unwrap();
    let sql = "SELECT participation_id AS k, CAST(minutes AS BIGINT) AS n FROM member_participations";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let credited = loop {
        let n = counts(&membership, sql).await.unwrap().get(&p.participation_id).copied().unwrap_or(0);
        if n == 90 || tokio::time::Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(credited, 90, "the evidence's minutes are the approved ones");
    // The member is told, once.
    let db = s.tp.database("notifications").await.unwrap();
    let sql = "SELECT member_id AS k, COUNT(*) AS n FROM notifications WHERE kind = 7 GROUP BY member_id";
    assert_eq!(eventually_count(&db, sql, &m.id, 1).await, 1, "the hours-approved notice");
}

/// An offline check-in and check-out synced together, in any order, give the attendance and
/// its hours; the organiser's view shows them as offline.
async fn offline_day(s: &Scene) {
    let m = s.member().await;
    let d = s.device(&m, 81).await;
    let id = s.activity(act::CheckInMode::Code, Some((HANOI, 300)), 0).await;
    let code_in = s.code(&id).await;
    let at_in = s.now();
    s.wait(3600);
    let code_out = s.code(&id).await;
    let at_out = s.now();
    s.wait(5 * 3600);
    let here = Some(loc(HANOI, 25));
    let out = record(&d, &id, OUT, &code_out, at_out, here);
    // An app that writes its UUIDs in upper case (iOS) is answered with its own ids.
    let upper = uuid::Uuid::new_v4().to_string().to_uppercase();
    let inn = record_with_id(&d, &upper, &id, IN, &code_in, at_in, here);
    let results = s.sync(&m, vec![out, inn]).await;
    assert_eq!(results.iter().map(|r| r.outcome).collect::<Vec<_>>(), vec![ACCEPTED, ACCEPTED], "{results:?}");
    assert_eq!(results[1].record_id, upper);
    let p = results[0].participation.clone().unwrap();
    assert_eq!((p.minutes, p.review_state, p.offline), (60, PENDING, true));
    let err =
        s.gw.activities
            .clone()
            .sync_offline_attendance(authed(&m.token, act::SyncOfflineAttendanceRequest { records: vec![] }))
            .await
            .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

/// Eight check-ins of one member at once to an activity without a limit of places (which on
/// PostgreSQL registers without the activity's row lock): one participation, one check-in, one
/// ParticipationRecorded; places are counted.
async fn concurrent_check_ins(s: &Scene) {
    let m = s.member().await;
    let id = s.activity(act::CheckInMode::Self_, None, 0).await;
    let (a, b, c, d) = tokio::join!(
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None)
    );
    let (e, f, g, h) = tokio::join!(
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None),
        s.attend(IN, &m, &id, "", None, None)
    );
    let ids: std::collections::BTreeSet<String> =
        [a, b, c, d, e, f, g, h].into_iter().map(|r| r.expect("every call succeeds").participation_id).collect();
    assert_eq!(ids.len(), 1, "one participation");
    let pid = ids.into_iter().next().unwrap();
    assert_eq!(s.recorded_for(&pid).await, 1, "one ParticipationRecorded");
    let r = authed(&s.org, act::GetActivityRequest { activity_id: id });
    let a = s.gw.activities.clone().get_activity(r).await.unwrap().into_inner().activity.unwrap();
    assert_eq!((a.capacity, a.places_taken), (0, 1));
}

// ---- one test per case (embedded), all of them on the real servers ------------------------

macro_rules! embedded {
    ($($name:ident => $scenario:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let s = Scene::embedded().await;
            $scenario(&s).await;
            s.stop().await;
        }
    )*};
}

embedded! {
    expired_code_is_refused => expired_code,
    forged_code_is_refused => forged_code,
    replayed_offline_record_is_refused => replayed_offline,
    forged_signature_is_refused => forged_signature,
    wrong_device_is_refused => wrong_device,
    out_of_window_is_refused => out_of_window,
    out_of_geofence_is_refused => out_of_geofence,
    late_offline_record_is_refused => late_offline,
    anti_cheating_flags_wait_for_review => flags_and_review,
    hours_wait_for_approval => hours,
    offline_check_in_and_out_sync_together => offline_day,
    concurrent_check_ins_of_one_member_count_once => concurrent_check_ins,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_on_the_real_servers() {
    let Some(urls) = real_servers("attendance_on_the_real_servers").await else { return };
    let s = Scene::servers(urls).await;
    expired_code(&s).await;
    forged_code(&s).await;
    replayed_offline(&s).await;
    forged_signature(&s).await;
    wrong_device(&s).await;
    out_of_window(&s).await;
    out_of_geofence(&s).await;
    flags_and_review(&s).await;
    hours(&s).await;
    offline_day(&s).await;
    concurrent_check_ins(&s).await;
    late_offline(&s).await;
    s.stop().await;
}
