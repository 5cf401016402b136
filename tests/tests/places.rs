//! An activity's places: registrations beyond its capacity wait in line, a cancellation gives
//! the place to the first in line, a waiting member cannot check in, and concurrent
//! registrations never take more places than there are. In both modes.

use doan_proto::activities as act;
use doan_proto::membership::UnitLevel::*;
use doan_proto::notifications as notif;
use doan_tests::TestPlatform;
use doan_tests::client::SETTLE;
use doan_tests::client::{Gateway, authed, create_unit, member_login, officer, open_activity_with_places};
use doan_tests::{eventually, real_servers};
use tonic::Code;

type Part = act::Participation;

async fn register(gw: &Gateway, token: &str, activity_id: &str) -> Result<Part, tonic::Status> {
    let r = authed(token, act::RegisterForActivityRequest { activity_id: activity_id.into() });
    gw.activities.clone().register_for_activity(r).await.map(|r| r.into_inner().participation.expect("participation"))
}

async fn cancel(gw: &Gateway, token: &str, activity_id: &str) -> Result<Part, tonic::Status> {
    let r = authed(token, act::CancelRegistrationRequest { activity_id: activity_id.into() });
    gw.activities.clone().cancel_registration(r).await.map(|r| r.into_inner().participation.expect("participation"))
}

async fn check_in(gw: &Gateway, token: &str, activity_id: &str) -> Result<Part, tonic::Status> {
    let r = authed(token, act::CheckInRequest { activity_id: activity_id.into(), ..Default::default() });
    gw.activities.clone().check_in(r).await.map(|r| r.into_inner().participation.expect("participation"))
}

async fn activity(gw: &Gateway, token: &str, activity_id: &str) -> act::Activity {
    let r = authed(token, act::GetActivityRequest { activity_id: activity_id.into() });
    gw.activities.clone().get_activity(r).await.expect("get activity").into_inner().activity.expect("activity")
}

const REGISTERED: i32 = act::ParticipationState::Registered as i32;
const WAITLISTED: i32 = act::ParticipationState::Waitlisted as i32;
const CANCELLED: i32 = act::ParticipationState::Cancelled as i32;
const CHECKED_IN: i32 = act::ParticipationState::CheckedIn as i32;

async fn with_capacity(gw: &Gateway, officer: &str, unit: &str, capacity: i32) -> String {
    open_activity_with_places(gw, officer, unit, "Hiến máu tình nguyện", 2, capacity).await.activity_id
}

async fn places(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Bến Tre", Provincial).await;
    let school = create_unit(&gw, &admin, &province, "Đoàn trường THPT Chuyên", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn 12A1", Branch).await;
    let org = officer(&gw, &admin, &school, "bithu.chuyen").await;
    let mut members = Vec::new();
    for n in 0..8 {
        members.push(member_login(&gw, &org, &branch, 900 + n).await.1);
    }
    let id = with_capacity(&gw, &org, &school, 2).await;

    // Two places: the first two register, the next two wait in line, in order.
    let mut got = Vec::new();
    for token in &members[..4] {
        got.push(register(&gw, token, &id).await.expect("register"));
    }
    let states: Vec<(i32, i32)> = got.iter().map(|p| (p.state, p.waitlist_position)).collect();
    assert_eq!(states, vec![(REGISTERED, 0), (REGISTERED, 0), (WAITLISTED, 1), (WAITLISTED, 2)]);
    let a = activity(&gw, &org, &id).await;
    assert_eq!((a.capacity, a.places_taken, a.waitlisted), (2, 2, 2));
    // Registering again changes nothing.
    let again = register(&gw, &members[2], &id).await.unwrap();
    assert_eq!((again.participation_id.as_str(), again.state), (got[2].participation_id.as_str(), WAITLISTED));

    // A waiting member cannot check in; a registered one can, and then cannot cancel.
    let refused = check_in(&gw, &members[2], &id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(check_in(&gw, &members[0], &id).await.unwrap().state, CHECKED_IN);
    let refused = cancel(&gw, &members[0], &id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // The second registered member cancels: the first in line takes the place, the second
    // moves up; cancelling twice changes nothing.
    let cancelled = cancel(&gw, &members[1], &id).await.unwrap();
    assert_eq!(cancelled.state, CANCELLED);
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(cancel(&gw, &members[1], &id).await.unwrap().cancelled_at, cancelled.cancelled_at);
    let promoted = register(&gw, &members[2], &id).await.unwrap();
    assert_eq!((promoted.state, promoted.waitlist_position), (REGISTERED, 0));
    // The promoted member is told, once; the one who cancelled is not.
    let offered = |token: String| {
        let gw = gw.clone();
        async move {
            let r = gw
                .notifications
                .clone()
                .list_notifications(authed(&token, notif::ListNotificationsRequest::default()))
                .await
                .ok()?
                .into_inner();
            Some(r.notifications.into_iter().filter(|n| n.kind == notif::NotificationKind::PlaceOffered as i32).count())
        }
    };
    let told = eventually("the promoted member is told of the place", SETTLE, || {
        let f = offered(members[2].clone());
        async move { f.await.filter(|n| *n > 0) }
    })
    .await;
    assert_eq!(told, 1);
    assert_eq!(offered(members[1].clone()).await, Some(0));
    let second = register(&gw, &members[3], &id).await.unwrap();
    assert_eq!((second.state, second.waitlist_position), (WAITLISTED, 1));
    assert_eq!(check_in(&gw, &members[2], &id).await.unwrap().state, CHECKED_IN);

    // Registering after a cancellation joins the end of the line.
    let back = register(&gw, &members[1], &id).await.unwrap();
    assert_eq!((back.state, back.waitlist_position), (WAITLISTED, 2));
    // A waiting member who cancels frees no place: the line closes up.
    assert_eq!(cancel(&gw, &members[3], &id).await.unwrap().state, CANCELLED);
    assert_eq!(register(&gw, &members[1], &id).await.unwrap().waitlist_position, 1);
    let a = activity(&gw, &org, &id).await;
    assert_eq!((a.places_taken, a.waitlisted), (2, 1));

    // Nobody registered for it: nothing to cancel; a malformed id is named.
    let other = with_capacity(&gw, &org, &school, 0).await;
    assert_eq!(cancel(&gw, &members[4], &other).await.unwrap_err().code(), Code::NotFound);
    let bad = cancel(&gw, &members[4], "x").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("activity_id"), "{bad:?}");
    // Without a limit everyone gets a place; checking in without registering takes one.
    assert_eq!(check_in(&gw, &members[4], &other).await.unwrap().state, CHECKED_IN);

    // Concurrent registrations for 3 places: exactly 3 get one, the rest wait, in a line
    // numbered 1..; a full activity refuses an unregistered check-in.
    let crowded = with_capacity(&gw, &org, &school, 3).await;
    let mut calls = tokio::task::JoinSet::new();
    for token in members.clone() {
        let (gw, crowded) = (gw.clone(), crowded.clone());
        calls.spawn(async move { register(&gw, &token, &crowded).await });
    }
    let results: Vec<Part> = calls.join_all().await.into_iter().map(|r| r.expect("register")).collect();
    assert_eq!(results.iter().filter(|p| p.state == REGISTERED).count(), 3);
    let mut line: Vec<i32> = results.iter().filter(|p| p.state == WAITLISTED).map(|p| p.waitlist_position).collect();
    line.sort();
    // Positions were computed as each registration committed; the line now holds 5.
    assert_eq!(line.len(), 5);
    let a = activity(&gw, &org, &crowded).await;
    assert_eq!((a.places_taken, a.waitlisted), (3, 5));
    let late = with_capacity(&gw, &org, &school, 1).await;
    register(&gw, &members[0], &late).await.unwrap();
    assert_eq!(check_in(&gw, &members[1], &late).await.unwrap_err().code(), Code::FailedPrecondition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_wait_in_line_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    places(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_wait_in_line_on_the_real_servers() {
    let Some(urls) = real_servers("places_wait_in_line_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    places(&tp).await;
    tp.stop().await.expect("stop");
}
