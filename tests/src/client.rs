//! A client of the gateway, as the mobile app and integrators are, and the member journey.

use std::time::Duration;

use chrono::{Days, Utc};
use doan_proto::activities::activities_service_client::ActivitiesServiceClient;
use doan_proto::awards::awards_service_client::AwardsServiceClient;
use doan_proto::membership::membership_service_client::MembershipServiceClient;
use doan_proto::notifications::notifications_service_client::NotificationsServiceClient;
use doan_proto::{activities as act, awards as aw, membership as mem, notifications as notif};
use tonic::transport::Channel;
use tonic::{Code, Request};

use crate::{ADMIN_PASSWORD, eventually};

/// How long eventually-consistent reads may take in tests.
pub const SETTLE: Duration = Duration::from_secs(20);

/// Clients of every public service through one gateway channel.
#[derive(Clone)]
pub struct Gateway {
    /// membership.
    pub membership: MembershipServiceClient<Channel>,
    /// activities.
    pub activities: ActivitiesServiceClient<Channel>,
    /// awards.
    pub awards: AwardsServiceClient<Channel>,
    /// notifications.
    pub notifications: NotificationsServiceClient<Channel>,
}

impl Gateway {
    /// Connects to the gateway at `addr` over native gRPC.
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
        Ok(Self {
            membership: MembershipServiceClient::new(channel.clone()),
            activities: ActivitiesServiceClient::new(channel.clone()),
            awards: AwardsServiceClient::new(channel.clone()),
            notifications: NotificationsServiceClient::new(channel),
        })
    }

    /// Logs in and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let r = self
            .membership
            .clone()
            .login(mem::LoginRequest { username: username.into(), password: password.into(), ..Default::default() })
            .await?;
        Ok(r.into_inner().access_token)
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(token: &str, message: T) -> Request<T> {
    let mut r = Request::new(message);
    r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("token is ASCII"));
    r
}

/// Retries a call while it answers NOT_FOUND (a unit or member not yet in a read model).
pub async fn until_known<T, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    eventually(what, SETTLE, || {
        let fut = call();
        async move {
            match fut.await {
                Ok(r) => Some(r.into_inner()),
                Err(s) if s.code() == Code::NotFound => None,
                Err(s) => panic!("{what}: {s:?}"),
            }
        }
    })
    .await
}

/// A created tree: root → province → district → grassroots → branch, and a second province.
pub struct Tree {
    /// Root (central).
    pub root: String,
    /// A province.
    pub province: String,
    /// A branch under the province.
    pub branch: String,
    /// Another province (outside the first one's subtree).
    pub other_province: String,
}

/// Creates a unit.
pub async fn create_unit(gw: &Gateway, token: &str, parent: &str, name: &str, level: mem::UnitLevel) -> String {
    gw.membership
        .clone()
        .create_unit(authed(
            token,
            mem::CreateUnitRequest {
                parent_id: parent.into(),
                name: name.into(),
                level: level as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap_or_else(|s| panic!("create unit {name}: {s:?}"))
        .into_inner()
        .unit
        .expect("unit")
        .unit_id
}

/// Builds the tree as the administrator.
pub async fn create_tree(gw: &Gateway, admin: &str) -> Tree {
    use mem::UnitLevel::*;
    let root = create_unit(gw, admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(gw, admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let district = create_unit(gw, admin, &province, "Quận đoàn Ba Đình", District).await;
    let grassroots = create_unit(gw, admin, &district, "Đoàn trường THPT Phan Đình Phùng", Grassroots).await;
    let branch = create_unit(gw, admin, &grassroots, "Chi đoàn 12A1", Branch).await;
    let other_province = create_unit(gw, admin, &root, "Tỉnh đoàn Nghệ An", Provincial).await;
    Tree { root, province, branch, other_province }
}

/// A distinct Vietnamese name per `n` ("Nguyễn Thị" and one given name per digit), so that
/// admissions are not taken for duplicates of each other.
pub fn member_name(n: u32) -> String {
    const GIVEN: [&str; 10] = ["Lan", "Mai", "Hoa", "Cúc", "Đào", "Huệ", "Thảo", "Ngọc", "Hương", "Yến"];
    let digits: Vec<&str> = format!("{n:05}").bytes().map(|d| GIVEN[(d - b'0') as usize]).collect();
    format!("Nguyễn Thị {}", digits.join(" "))
}

/// A valid admission request for a branch; `n` varies the citizen ID and the name.
pub fn admission(branch: &str, n: u32) -> mem::AdmitMemberRequest {
    let today = Utc::now().date_naive();
    mem::AdmitMemberRequest {
        unit_id: branch.into(),
        full_name: member_name(n),
        date_of_birth: today.checked_sub_days(Days::new(18 * 366)).expect("date").format("%Y-%m-%d").to_string(),
        sex: mem::Sex::Female as i32,
        ethnicity: "Kinh".into(),
        religion: String::new(),
        citizen_id: format!("0012040{n:05}"),
        phone: "0912345678".into(),
        email: "lan@example.vn".into(),
        admitted_on: today.checked_sub_days(Days::new(1)).expect("date").format("%Y-%m-%d").to_string(),
        resolution_number: "15-NQ/ĐTN".into(),
        guardian_consent: false,
        confirm_possible_duplicate: false,
    }
}

/// A certificate of merit (Bằng khen) dated today, issued by the caller's unit to one member.
pub fn individual_award(decision_number: &str, member_id: &str) -> aw::RecordAwardDecisionRequest {
    aw::RecordAwardDecisionRequest {
        decision_number: decision_number.into(),
        decision_date: Utc::now().date_naive().format("%Y-%m-%d").to_string(),
        form: aw::AwardForm::CertificateOfMerit as i32,
        signer: "Bí thư Thành đoàn".into(),
        content: "Có thành tích xuất sắc trong phong trào Thanh niên tình nguyện".into(),
        recipients: vec![aw::Recipient { recipient: Some(aw::recipient::Recipient::MemberId(member_id.into())) }],
        issuing_unit_id: String::new(),
        ..Default::default()
    }
}

/// Appoints an officer and logs them in.
pub async fn officer(gw: &Gateway, admin: &str, unit: &str, username: &str) -> String {
    gw.membership
        .clone()
        .appoint_officer(authed(
            admin,
            mem::AppointOfficerRequest {
                unit_id: unit.into(),
                username: username.into(),
                full_name: "Trần Văn Bình".into(),
                password: "officer-password-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_or_else(|s| panic!("appoint {username}: {s:?}"));
    gw.login(username, "officer-password-1").await.expect("officer logs in")
}

/// What the journey produced, for further checks.
pub struct Journey {
    /// Gateway clients.
    pub gw: Gateway,
    /// The tree.
    pub tree: Tree,
    /// Admin token.
    pub admin: String,
    /// Province officer token.
    pub officer: String,
    /// Member token.
    pub member_token: String,
    /// Member id.
    pub member_id: String,
}

/// The first journey, through the gateway as a client would: admin logs in → creates units →
/// appoints an officer → officer admits a member → member logs in → officer creates an
/// activity → member checks in → officer records an award → the member's inbox holds the
/// three notices and the live watch delivered the award notice.
pub async fn journey(gateway: std::net::SocketAddr) -> Journey {
    let gw = Gateway::connect(gateway).await.expect("connect to the gateway");
    let admin = gw.login("admin", ADMIN_PASSWORD).await.expect("admin logs in");
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.hanoi").await;

    let member = gw
        .membership
        .clone()
        .admit_member(authed(&officer, admission(&tree.branch, 1)))
        .await
        .expect("officer admits a member")
        .into_inner()
        .member
        .expect("member");
    assert!(member.member_number.starts_with("DV"), "member number assigned: {}", member.member_number);
    assert_eq!(member.citizen_id, "001204000001");

    let activated = gw
        .membership
        .clone()
        .activate_member_account(mem::ActivateMemberAccountRequest {
            member_number: member.member_number.clone(),
            citizen_id: "001204000001".into(),
            date_of_birth: member.date_of_birth.clone(),
            password: "member-password-1".into(),
        })
        .await
        .expect("member activates the account")
        .into_inner();
    assert!(!activated.access_token.is_empty());
    let member_token = gw.login(&member.member_number, "member-password-1").await.expect("member logs in");

    // The member's app opens the live stream before anything else happens.
    let mut watch = gw
        .notifications
        .clone()
        .watch_notifications(authed(&member_token, notif::WatchNotificationsRequest {}))
        .await
        .expect("watch opens")
        .into_inner();

    let activity = open_activity(&gw, &officer, &tree.province, "Ngày Chủ nhật xanh", 5).await;
    let now = Utc::now();
    let ts = |t: chrono::DateTime<Utc>| Some(doan_platform::convert::timestamp(t));

    let first = until_known("activities learns the member", || {
        let mut client = gw.activities.clone();
        let request = authed(
            &member_token,
            act::CheckInRequest { activity_id: activity.activity_id.clone(), ..Default::default() },
        );
        async move { client.check_in(request).await }
    })
    .await
    .participation
    .expect("participation");
    assert_eq!(first.state, act::ParticipationState::CheckedIn as i32);
    let again = gw
        .activities
        .clone()
        .check_in(authed(
            &member_token,
            act::CheckInRequest { activity_id: activity.activity_id.clone(), ..Default::default() },
        ))
        .await
        .expect("second check-in is idempotent")
        .into_inner()
        .participation
        .expect("participation");
    assert_eq!(again, first, "a second check-in changes nothing");

    // Outside the window: a precondition, not an argument error; nothing is recorded.
    let later = gw
        .activities
        .clone()
        .create_activity(authed(
            &officer,
            act::CreateActivityRequest {
                unit_id: tree.province.clone(),
                title: "Hiến máu tình nguyện".into(),
                description: String::new(),
                starts_at: ts(now + chrono::Duration::days(1)),
                ends_at: ts(now + chrono::Duration::days(1) + chrono::Duration::hours(3)),
                points: 3,
                capacity: 0,
                ..Default::default()
            },
        ))
        .await
        .expect("activity tomorrow")
        .into_inner()
        .activity
        .expect("activity");
    let early = gw
        .activities
        .clone()
        .check_in(authed(
            &member_token,
            act::CheckInRequest { activity_id: later.activity_id.clone(), ..Default::default() },
        ))
        .await;
    assert_eq!(early.unwrap_err().code(), Code::FailedPrecondition, "check-in before the window opens");
    let registered = gw
        .activities
        .clone()
        .register_for_activity(authed(
            &member_token,
            act::RegisterForActivityRequest { activity_id: later.activity_id },
        ))
        .await
        .expect("registration before the window")
        .into_inner()
        .participation
        .expect("participation");
    assert_eq!(registered.state, act::ParticipationState::Registered as i32);
    let open_to_member = gw
        .activities
        .clone()
        .list_activities(authed(&member_token, act::ListActivitiesRequest::default()))
        .await
        .expect("a member lists the activities open to them")
        .into_inner();
    assert_eq!(open_to_member.activities.len(), 2);

    let standing = eventually("standing counts the check-in", SETTLE, || {
        let mut awards = gw.awards.clone();
        let token = member_token.clone();
        async move {
            let s = awards
                .get_member_standing(authed(&token, aw::GetMemberStandingRequest { member_id: String::new(), year: 0 }))
                .await
                .ok()?
                .into_inner();
            (s.points == 5).then_some(s)
        }
    })
    .await;
    assert_eq!(standing.participations, 1);

    let decision = until_known("awards learns the member", || {
        let mut client = gw.awards.clone();
        let request = authed(&officer, individual_award("123-QĐ/TĐTN", &member.member_id));
        async move { client.record_award_decision(request).await }
    })
    .await
    .decision
    .expect("decision");
    assert_eq!(decision.recipients.len(), 1);

    // The live watch delivers the award notice.
    let award_notice = tokio::time::timeout(SETTLE, async {
        while let Some(item) = watch.message().await.expect("watch stream") {
            let n = item.notification.expect("notification");
            if n.kind == notif::NotificationKind::AwardGranted as i32 {
                return n;
            }
        }
        panic!("watch stream ended before the award notice")
    })
    .await
    .expect("the award notice arrives on the live watch");
    assert!(award_notice.body.contains("123-QĐ/TĐTN"));

    let inbox = eventually("inbox holds three notices", SETTLE, || {
        let mut n = gw.notifications.clone();
        let token = member_token.clone();
        async move {
            let r = n
                .list_notifications(authed(&token, notif::ListNotificationsRequest::default()))
                .await
                .ok()?
                .into_inner();
            (r.notifications.len() >= 3).then_some(r)
        }
    })
    .await;
    let mut kinds: Vec<i32> = inbox.notifications.iter().map(|n| n.kind).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            notif::NotificationKind::Welcome as i32,
            notif::NotificationKind::CheckInConfirmed as i32,
            notif::NotificationKind::AwardGranted as i32
        ]
    );
    assert_eq!(inbox.unread_count, 3);

    Journey { gw, tree, admin, officer, member_token, member_id: member.member_id }
}

/// Checks who may do what after the journey: UNAUTHENTICATED without a token,
/// PERMISSION_DENIED outside one's subtree or role.
pub async fn check_access_rules(j: &Journey) {
    let gw = &j.gw;
    let no_token = gw
        .membership
        .clone()
        .get_member(mem::GetMemberRequest { member_id: j.member_id.clone(), ..Default::default() })
        .await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let bad_token = gw
        .membership
        .clone()
        .get_member(authed(
            "not-a-token",
            mem::GetMemberRequest { member_id: j.member_id.clone(), ..Default::default() },
        ))
        .await;
    assert_eq!(bad_token.unwrap_err().code(), Code::Unauthenticated);

    let outsider = officer(gw, &j.admin, &j.tree.other_province, "bt.nghean").await;
    let denied = gw
        .membership
        .clone()
        .get_member(authed(&outsider, mem::GetMemberRequest { member_id: j.member_id.clone(), ..Default::default() }))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied, "officer outside the subtree");
    let denied = gw.membership.clone().admit_member(authed(&outsider, admission(&j.tree.branch, 2))).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied, "admission outside the subtree");
    let denied = gw
        .awards
        .clone()
        .get_member_standing(authed(
            &outsider,
            aw::GetMemberStandingRequest { member_id: j.member_id.clone(), year: 0 },
        ))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied, "standing outside the subtree");

    let denied = gw
        .membership
        .clone()
        .list_members(authed(
            &j.member_token,
            mem::ListMembersRequest { unit_id: j.tree.branch.clone(), ..Default::default() },
        ))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied, "a member lists no one");
    // An officer's inbox is their account's own: directives reach it, never members' notices.
    let officer_inbox = gw
        .notifications
        .clone()
        .list_notifications(authed(&j.officer, notif::ListNotificationsRequest::default()))
        .await
        .expect("an officer reads their own inbox")
        .into_inner();
    assert!(officer_inbox.notifications.is_empty(), "the officer's inbox holds none of the member's notices");

    // The member reads their own record and card; the officer lists the subtree.
    let own = gw
        .membership
        .clone()
        .get_member(authed(
            &j.member_token,
            mem::GetMemberRequest { member_id: j.member_id.clone(), ..Default::default() },
        ))
        .await
        .expect("a member reads their own record");
    assert_eq!(own.into_inner().member.expect("member").ethnicity, "Kinh");
    let card = gw
        .membership
        .clone()
        .get_member_card(authed(&j.member_token, mem::GetMemberCardRequest::default()))
        .await
        .expect("card")
        .into_inner()
        .card
        .expect("card");
    assert_eq!(card.unit_name, "Chi đoàn 12A1");
    let listed = gw
        .membership
        .clone()
        .list_members(authed(
            &j.officer,
            mem::ListMembersRequest { unit_id: j.tree.province.clone(), ..Default::default() },
        ))
        .await
        .expect("officer lists the subtree")
        .into_inner();
    assert_eq!(listed.members.len(), 1);
    let root_listing = gw
        .membership
        .clone()
        .list_members(authed(
            &j.officer,
            mem::ListMembersRequest { unit_id: j.tree.root.clone(), ..Default::default() },
        ))
        .await;
    assert_eq!(root_listing.unwrap_err().code(), Code::PermissionDenied, "an officer cannot list above their unit");
}

/// Admits member `n` to `branch` as `officer`, activates the account and logs in; returns
/// the member id and token.
pub async fn member_login(gw: &Gateway, officer: &str, branch: &str, n: u32) -> (String, String) {
    let request = admission(branch, n);
    let (citizen_id, dob) = (request.citizen_id.clone(), request.date_of_birth.clone());
    let member = gw
        .membership
        .clone()
        .admit_member(authed(officer, request))
        .await
        .expect("officer admits a member")
        .into_inner()
        .member
        .expect("member");
    gw.membership
        .clone()
        .activate_member_account(mem::ActivateMemberAccountRequest {
            member_number: member.member_number.clone(),
            citizen_id,
            date_of_birth: dob,
            password: "member-password-1".into(),
        })
        .await
        .expect("member activates the account");
    let token = gw.login(&member.member_number, "member-password-1").await.expect("member logs in");
    (member.member_id, token)
}

/// Creates an activity of `unit` open for check-in now (from 5 minutes ago for 2 hours),
/// retrying while activities does not know the unit yet.
pub async fn open_activity(gw: &Gateway, officer: &str, unit: &str, title: &str, points: i32) -> act::Activity {
    open_activity_with_places(gw, officer, unit, title, points, 0).await
}

/// As [`open_activity`], with `capacity` places (0: no limit).
pub async fn open_activity_with_places(
    gw: &Gateway,
    officer: &str,
    unit: &str,
    title: &str,
    points: i32,
    capacity: i32,
) -> act::Activity {
    let now = Utc::now();
    let ts = |t: chrono::DateTime<Utc>| Some(doan_platform::convert::timestamp(t));
    until_known("activities learns the unit", || {
        let mut client = gw.activities.clone();
        let request = authed(
            officer,
            act::CreateActivityRequest {
                unit_id: unit.to_string(),
                title: title.to_string(),
                description: "Dọn vệ sinh bờ hồ".into(),
                starts_at: ts(now - chrono::Duration::minutes(5)),
                ends_at: ts(now + chrono::Duration::hours(2)),
                points,
                capacity,
                ..Default::default()
            },
        );
        async move { client.create_activity(request).await }
    })
    .await
    .activity
    .expect("activity")
}
