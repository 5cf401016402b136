//! The first journey through the gateway, in both modes, plus access rules and duplicate
//! delivery of every event.

use doan_proto::awards as aw;
use doan_proto::notifications as notif;
use doan_tests::client::{authed, check_access_rules, journey};
use doan_tests::{TestPlatform, real_servers, redeliver_everything};

async fn journey_and_duplicates(tp: &TestPlatform) {
    let j = journey(tp.platform.gateway_addr).await;
    check_access_rules(&j).await;

    // Every event delivered a second time has no second effect.
    redeliver_everything(tp).await.expect("redeliver");
    let inbox =
        j.gw.notifications
            .clone()
            .list_notifications(authed(&j.member_token, notif::ListNotificationsRequest::default()))
            .await
            .expect("inbox")
            .into_inner();
    assert_eq!(inbox.notifications.len(), 3, "duplicates added no notice");
    let standing =
        j.gw.awards
            .clone()
            .get_member_standing(authed(&j.member_token, aw::GetMemberStandingRequest::default()))
            .await
            .expect("standing")
            .into_inner();
    assert_eq!((standing.points, standing.participations), (5, 1), "duplicates added no points");

    // Mark read.
    let first = inbox.notifications[0].notification_id.clone();
    let read = j
        .gw
        .notifications
        .clone()
        .mark_notification_read(authed(&j.member_token, notif::MarkNotificationReadRequest { notification_id: first }))
        .await
        .expect("mark read")
        .into_inner();
    assert!(read.notification.expect("notice").read_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn journey_embedded() {
    let tp = TestPlatform::embedded().await.expect("start embedded platform");
    journey_and_duplicates(&tp).await;
    tp.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn journey_real_servers() {
    let Some(urls) = real_servers("journey_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start platform on the real servers");
    journey_and_duplicates(&tp).await;
    tp.stop().await.expect("clean stop");
}
