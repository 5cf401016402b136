//! Nothing is lost at start-up: events published before their consumers ever ran, and
//! outbox rows pending when the process stopped, all reach every consumer exactly once; dead
//! letters survive a restart and can be replayed.

use std::time::Duration;

use doan::ServiceName;
use doan_platform::bus::EventBus;
use doan_platform::bus::dead_letters::{DbDeadLetters, DeadLetter, DeadLetterStore};
use doan_proto::events::{EventEnvelope, IntegrationEvent, MemberAdmitted};
use doan_tests::client::{Gateway, admission, authed, create_tree, officer};
use doan_tests::effects::{ADMISSION_EFFECTS, settle};
use doan_tests::{TestPlatform, base_settings, real_servers, run_id};
use prost::Message;

const CONSUMERS: [ServiceName; 3] = [ServiceName::Activities, ServiceName::Awards, ServiceName::Notifications];

/// Admits `n` members through the gateway of `tp`; returns their ids.
async fn admit(tp: &TestPlatform, n: u32, officer_name: &str) -> Vec<String> {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin logs in");
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, officer_name).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let r = gw.membership.clone().admit_member(authed(&officer, admission(&tree.branch, 500 + i))).await;
        ids.push(r.expect("admission is acknowledged").into_inner().member.expect("member").member_id);
    }
    ids
}

async fn consumers_that_never_ran_get_every_event(mut tp: TestPlatform) {
    let admitted = admit(&tp, 5, "never.ran").await;
    for name in CONSUMERS {
        tp.platform.start_service(name).await.expect("start a consumer");
    }
    let tally = settle(&tp, &ADMISSION_EFFECTS, &admitted, Duration::from_secs(30)).await;
    assert!(tally.is_exact(), "{}", tally.report());
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_that_never_ran_get_every_event_embedded() {
    let tp = TestPlatform::embedded_deferred(base_settings(), &CONSUMERS).await.expect("start");
    consumers_that_never_ran_get_every_event(tp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_that_never_ran_get_every_event_real_servers() {
    // Membership declares every consumer's queue: its events wait there, not in the void.
    let Some(urls) = real_servers("consumers_that_never_ran_get_every_event_real_servers").await else { return };
    let id = run_id();
    let settings = TestPlatform::server_settings(&urls, &id).await.expect("settings");
    let tp = TestPlatform::servers_deferred(urls, id, settings, &CONSUMERS).await.expect("start");
    consumers_that_never_ran_get_every_event(tp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_restart_with_pending_rows_delivers_each_event_once() {
    // The in-process bus refuses an event whose consumer is not listening, so the rows stay
    // pending; after a restart every consumer subscribes before any relay publishes.
    let mut tp = TestPlatform::embedded_deferred(base_settings(), &CONSUMERS).await.expect("start");
    let admitted = admit(&tp, 5, "restart.pending").await;
    let membership = tp.database("membership").await.unwrap();
    let pending = doan_platform::outbox::pending(&membership).await.unwrap();
    assert!(pending >= 5, "admissions wait in the outbox while no consumer listens ({pending} pending)");
    // Operators see it: the outbox lag grows while events wait.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let bus = tp.memory_bus.clone().expect("embedded");
    let backlog = doan_platform::metrics::measure(&membership, bus.as_ref(), "membership", false).await.unwrap();
    assert_eq!(backlog.outbox_pending, pending);
    assert!(backlog.outbox_lag >= Duration::from_secs(1), "{backlog:?}");
    tp.restart().await.expect("restart");
    let tally = settle(&tp, &ADMISSION_EFFECTS, &admitted, Duration::from_secs(30)).await;
    assert!(tally.is_exact(), "{}", tally.report());
    assert_eq!(doan_platform::outbox::pending(&membership).await.unwrap(), 0);
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_dead_letters_survive_a_restart_and_replay() {
    let mut tp = TestPlatform::embedded().await.expect("start");
    // A MemberAdmitted whose payload does not decode: each consumer dead-letters it at once.
    let poison = EventEnvelope {
        event_id: doan_platform::convert::new_id(),
        event_type: MemberAdmitted::EVENT_TYPE.into(),
        producer: "tests".into(),
        payload: b"\xff\xff not a MemberAdmitted".to_vec(),
        ..Default::default()
    };
    let bus = tp.memory_bus.clone().expect("embedded");
    bus.publish(&poison, &poison.encode_to_vec()).await.expect("publish");
    tp.restart().await.expect("restart");
    let listed = doan::dead_letters::list(&tp.settings, true, ServiceName::Notifications, 10).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].event_id, poison.event_id);
    assert!(listed[0].reason.contains("does not decode"), "{}", listed[0].reason);
    assert!(doan::dead_letters::describe(&listed[0]).contains(&poison.event_id));
    for service in [ServiceName::Activities, ServiceName::Awards] {
        assert_eq!(doan::dead_letters::list(&tp.settings, true, service, 10).await.unwrap().len(), 1);
    }
    let bus = tp.memory_bus.clone().expect("embedded");
    let db = tp.database("notifications").await.unwrap();
    let backlog = doan_platform::metrics::measure(&db, bus.as_ref(), "notifications", true).await.unwrap();
    assert_eq!((backlog.dead_letters, backlog.consumer_lag), (Some(1), Some(0)), "{backlog:?}");

    // A valid event given up on earlier (say, after its retry window) replays into a notice.
    let member_id = doan_platform::convert::new_id();
    let payload =
        MemberAdmitted { member_id: member_id.clone(), full_name: "Lê Văn Tám".into(), ..Default::default() };
    let envelope = EventEnvelope {
        event_id: doan_platform::convert::new_id(),
        event_type: MemberAdmitted::EVENT_TYPE.into(),
        producer: "tests".into(),
        payload: payload.encode_to_vec(),
        ..Default::default()
    };
    let notifications = tp.database("notifications").await.unwrap();
    DbDeadLetters::new(notifications.clone())
        .park(DeadLetter {
            id: 0,
            event_id: envelope.event_id.clone(),
            event_type: envelope.event_type.clone(),
            consumer: "notifications".into(),
            reason: "failed 30 times over 900s".into(),
            attempts: 30,
            dead_at: chrono::Utc::now(),
            body: envelope.encode_to_vec(),
        })
        .await
        .unwrap();
    let handled =
        doan::dead_letters::replay(&tp.settings, true, ServiceName::Notifications, None).await.expect("replay");
    assert_eq!(handled, 1, "the valid one is handled; the poison one stays");
    assert_eq!(doan_tests::notices_of(&notifications, &member_id).await.unwrap(), 1);
    let left = doan::dead_letters::list(&tp.settings, true, ServiceName::Notifications, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].reason.starts_with("replay failed"), "{}", left[0].reason);
    // Replaying again applies nothing twice.
    doan::dead_letters::replay(&tp.settings, true, ServiceName::Notifications, None).await.unwrap();
    assert_eq!(doan_tests::notices_of(&notifications, &member_id).await.unwrap(), 1);
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_row_that_does_not_decode_is_parked_and_the_rest_go_on() {
    use sea_orm::{ConnectionTrait, Statement};
    let tp = TestPlatform::embedded().await.expect("start");
    let membership = tp.database("membership").await.unwrap();
    // A row this code cannot read (written by a bug, or a future version).
    membership
        .execute_raw(Statement::from_sql_and_values(
            membership.get_database_backend(),
            "INSERT INTO outbox (event_id, event_type, envelope, created_at, attempts) VALUES (?, ?, ?, ?, 0)",
            [
                "garbage-1".into(),
                MemberAdmitted::EVENT_TYPE.into(),
                b"\xff\xff not an envelope".to_vec().into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await
        .unwrap();
    let admitted = admit(&tp, 2, "parked.rows").await;
    let tally = settle(&tp, &ADMISSION_EFFECTS, &admitted, Duration::from_secs(20)).await;
    assert!(tally.is_exact(), "rows behind the bad one are published: {}", tally.report());
    assert_eq!(doan_platform::outbox::parked(&membership).await.unwrap(), 1);
    assert_eq!(doan_platform::outbox::pending(&membership).await.unwrap(), 0);
    tp.stop().await.expect("stop");
}
