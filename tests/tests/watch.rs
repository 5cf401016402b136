//! The live watch: every notice, in the member's inbox order, without polling for the ones
//! this replica commits; a bounded number of watches per member; the stream ends with the
//! token.

use std::collections::BTreeSet;
use std::time::Duration;

use doan_platform::bus::EventBus;
use doan_proto::events::{EventEnvelope, IntegrationEvent, ParticipationRecorded};
use doan_proto::notifications as notif;
use doan_tests::client::{Gateway, authed, create_tree, member_login, officer};
use doan_tests::{TestPlatform, base_settings, real_servers};
use prost::Message;
use sea_orm::{ConnectionTrait, Statement};
use tokio_stream::StreamExt;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_notices_reach_the_watch_in_inbox_order_real_servers() {
    let Some(urls) = real_servers("concurrent_notices_reach_the_watch_in_inbox_order_real_servers").await else {
        return;
    };
    let tp = TestPlatform::servers(urls).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "watch.order").await;
    let (member_id, token) = member_login(&gw, &officer, &tree.branch, 1).await;
    let mut watch = gw
        .notifications
        .clone()
        .watch_notifications(authed(&token, notif::WatchNotificationsRequest {}))
        .await
        .expect("watch opens")
        .into_inner();

    // 40 check-ins of one member published at once: the consumer handles them concurrently
    // (prefetch), so their transactions interleave.
    const N: usize = 40;
    let bus = doan::rabbit_bus(&tp.settings);
    let batch: Vec<_> = (0..N)
        .map(|i| {
            let payload = ParticipationRecorded {
                participation_id: doan_platform::convert::new_id(),
                activity_id: doan_platform::convert::new_id(),
                activity_title: format!("Hoạt động {i}"),
                member_id: member_id.clone(),
                unit_id: tree.branch.clone(),
                points: 1,
                checked_in_at: Some(doan_platform::convert::timestamp(chrono::Utc::now())),
                minutes: 0,
            };
            let envelope = EventEnvelope {
                event_id: doan_platform::convert::new_id(),
                event_type: ParticipationRecorded::EVENT_TYPE.into(),
                producer: "tests".into(),
                payload: payload.encode_to_vec(),
                ..Default::default()
            };
            let bytes = envelope.encode_to_vec();
            (envelope, bytes)
        })
        .collect();
    for result in bus.publish_many(&batch).await {
        result.expect("published");
    }
    bus.close().await;

    let mut titles = BTreeSet::new();
    while titles.len() < N {
        let next = tokio::time::timeout(Duration::from_secs(20), watch.next())
            .await
            .unwrap_or_else(|_| panic!("the watch stalled after {} of {N} notices", titles.len()));
        let n = next.expect("stream open").expect("notice").notification.expect("notification");
        if n.kind == notif::NotificationKind::CheckInConfirmed as i32 {
            assert!(titles.insert(n.body.clone()), "delivered twice: {}", n.body);
        }
    }
    // Inbox positions are 1..=N+1 (the welcome notice first), each once.
    let db = tp.database("notifications").await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT seq FROM notifications WHERE member_id = $1 ORDER BY seq",
            [member_id.clone().into()],
        ))
        .await
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.try_get::<i64>("", "seq").unwrap()).collect();
    assert_eq!(seqs, (1..=N as i64 + 1).collect::<Vec<_>>());
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_are_bounded_per_member_and_end_with_the_token() {
    let mut settings = base_settings();
    settings.auth.token_ttl_secs = 4;
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "watch.bounds").await;
    let (_, token) = member_login(&gw, &officer, &tree.branch, 2).await;
    let open = || {
        let mut client = gw.notifications.clone();
        let request = authed(&token, notif::WatchNotificationsRequest {});
        async move { client.watch_notifications(request).await }
    };
    let mut watches = Vec::new();
    for _ in 0..5 {
        watches.push(open().await.expect("a watch within the bound").into_inner());
    }
    let refused = open().await.expect_err("a sixth watch is refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    drop(watches.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    watches.push(open().await.expect("a closed watch frees its slot").into_inner());

    // The token lives 4 s: every stream ends with UNAUTHENTICATED soon after.
    let end = tokio::time::timeout(Duration::from_secs(10), watches[0].next()).await.expect("the stream ends");
    let status = end.expect("a final status").expect_err("an error status");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    tp.stop().await.expect("stop");
}

/// A notice committed by another replica (written straight into the database, past this
/// replica's hand-off) reaches the watch through the replica's one sweep of the watched owners'
/// inbox counters, within seconds, though no watch polls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_committed_on_another_replica_reaches_the_watch_by_the_sweep() {
    let tp = TestPlatform::embedded().await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "watch.sweep").await;
    let (member_id, token) = member_login(&gw, &officer, &tree.branch, 3).await;
    let mut watch = gw
        .notifications
        .clone()
        .watch_notifications(authed(&token, notif::WatchNotificationsRequest {}))
        .await
        .expect("watch opens")
        .into_inner();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let db = tp.database("notifications").await.unwrap();
    let notice = doan_notifications::domain::Notice {
        member_id: member_id.clone(),
        kind: doan_notifications::domain::NoticeKind::Announcement,
        title: "Từ bản sao khác".into(),
        body: "Ghi thẳng vào cơ sở dữ liệu".into(),
    };
    let meta = doan_notifications::storage::notices::Meta::default();
    doan_notifications::storage::notices::insert_all(&db, &[notice], "another-replica", &meta, chrono::Utc::now())
        .await
        .expect("written as another replica would");
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = watch.next().await.expect("open").expect("notice").notification.expect("notification");
            if n.source_event_id == "another-replica" {
                return n;
            }
        }
    })
    .await
    .expect("the sweep found it within seconds");
    assert_eq!(got.title, "Từ bản sao khác");
    tp.stop().await.expect("stop");
}
