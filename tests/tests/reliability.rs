//! Reliability on the real servers: retries and dead letters in RabbitMQ, and a broker outage
//! while members are admitted loses nothing (the outbox holds the events until it is back).
//! The in-process bus has the same tests in `doan-platform` (bus::memory).

use std::sync::Arc;
use std::time::Duration;

use doan_platform::Shutdown;
use doan_platform::bus::dead_letters::MemoryDeadLetters;
use doan_platform::bus::rabbit::{QueueNames, RabbitBus};
use doan_platform::bus::testing::FlakyHandler as Flaky;
use doan_platform::bus::{Consumer, EventBus, Topology};
use doan_proto::events::EventEnvelope;
use doan_tests::client::{Gateway, admission, authed, create_tree, officer};
use doan_tests::proxy::TcpProxy;
use doan_tests::{TestPlatform, eventually, real_servers, run_id};
use lapin::options::BasicPublishOptions;
use prost::Message;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_retries_dead_letters_and_keeps_consuming() {
    let Some(urls) = real_servers("rabbitmq_retries_dead_letters_and_keeps_consuming").await else { return };
    let id = run_id();
    let mut settings = doan_tests::base_settings().broker;
    settings.url = SecretString::from(urls.amqp.clone());
    settings.exchange = format!("doan.test.{id}");
    settings.queue_prefix = format!("doan.test.{id}");
    settings.max_attempts = 3;
    settings.retry_base_ms = 20;
    let bus = RabbitBus::new(settings.clone(), Topology::new([("flaky", vec!["test.Event"])]));
    let handler = Arc::new(Flaky::default());
    let shutdown = Shutdown::new();
    let dead_letters = Arc::new(MemoryDeadLetters::default());
    bus.subscribe(
        Consumer { name: "flaky", event_types: vec!["test.Event"], handler: handler.clone(), dead_letters },
        shutdown.clone(),
    )
    .await
    .expect("subscribe");

    let publish = |event_id: &str, payload: &str| {
        let e = EventEnvelope {
            event_id: event_id.into(),
            event_type: "test.Event".into(),
            payload: payload.into(),
            ..Default::default()
        };
        (e.clone(), e.encode_to_vec())
    };
    // A poison message straight onto the exchange.
    let conn = lapin::Connection::connect(&urls.amqp, lapin::ConnectionProperties::default()).await.unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.basic_publish(
        settings.exchange.as_str().into(),
        "test.Event".into(),
        BasicPublishOptions::default(),
        b"\xff\xffgarbage",
        Default::default(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    for (event_id, payload) in [("retry-once", "fail:1"), ("never", "fail:99"), ("fine", "ok"), ("fine", "ok")] {
        let (e, bytes) = publish(event_id, payload);
        bus.publish(&e, &bytes).await.expect("publish with confirm");
    }

    eventually("retried and healthy events are handled", Duration::from_secs(20), || {
        let handled = handler.handled();
        async move {
            (handled.iter().filter(|h| *h == "retry-once").count() == 1
                && handled.iter().filter(|h| *h == "fine").count() == 2)
                .then_some(())
        }
    })
    .await;
    let names = QueueNames::new(&settings.queue_prefix, "flaky");
    // Operators list dead letters without taking them out of the queue.
    let dead = eventually("both bad messages reach the dead-letter queue", Duration::from_secs(20), || {
        let bus = &bus;
        async move { bus.dead_letters("flaky", 10).await.ok().filter(|d| d.len() >= 2) }
    })
    .await;
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("does not decode")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("failed 3 times")), "{reasons:?}");
    let never = dead.iter().find(|d| d.event_id == "never").expect("the exhausted message is listed by event id");
    assert_eq!((never.attempts, never.event_type.as_str()), (3, "test.Event"));
    assert_eq!(bus.dead_letters("flaky", 10).await.unwrap().len(), 2, "listing leaves them in the queue");
    assert_eq!(handler.attempts_of("never"), 3, "bounded retries");
    // A replay of one event id hands it back for a fresh round of attempts.
    assert_eq!(bus.replay_dead_letters("flaky", Some("never")).await.unwrap(), 1);
    eventually("the replayed message is attempted again", Duration::from_secs(20), || {
        let attempts = handler.attempts_of("never");
        async move { (attempts == 6).then_some(()) }
    })
    .await;
    eventually("it is dead-lettered again, beside the poison message", Duration::from_secs(20), || {
        let bus = &bus;
        async move { bus.dead_letters("flaky", 10).await.ok().filter(|d| d.len() == 2) }
    })
    .await;
    shutdown.cancel();
    for q in [names.main, names.retry, names.dead] {
        let _ = ch.queue_delete(q.as_str().into(), Default::default()).await;
    }
    let _ = ch.exchange_delete(settings.exchange.as_str().into(), Default::default()).await;
}

/// A platform on the real servers reaching RabbitMQ through a proxy the test controls.
async fn behind_broker_proxy(
    urls: doan_tests::ServerUrls,
    adjust: impl FnOnce(&mut doan_platform::config::Settings),
) -> (TcpProxy, TestPlatform) {
    let amqp_target =
        urls.amqp.split('@').nth(1).and_then(|r| r.split('/').next()).unwrap_or("127.0.0.1:5672").to_string();
    let proxy = TcpProxy::start(amqp_target).await.expect("proxy");
    let id = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &id).await.expect("settings");
    settings.broker.url = SecretString::from(format!("amqp://guest:guest@{}/%2f", proxy.addr));
    adjust(&mut settings);
    let tp = TestPlatform::servers_with(urls, id, settings).await.expect("start");
    (proxy, tp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_outage_loses_no_admission() {
    let Some(urls) = real_servers("broker_outage_loses_no_admission").await else { return };
    let (proxy, tp) = behind_broker_proxy(urls, |_| {}).await;
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.outage").await;

    proxy.cut().await;
    let mut admitted = Vec::new();
    for n in 0..5 {
        let m = gw.membership.clone().admit_member(authed(&officer, admission(&tree.branch, 100 + n))).await;
        admitted.push(m.expect("admission works while the broker is down").into_inner().member.unwrap().member_id);
    }
    let membership_db = tp.database("membership").await.unwrap();
    let pending = doan_platform::outbox::pending(&membership_db).await.unwrap();
    assert!(pending >= 5, "events wait in the outbox while the broker is down ({pending} pending)");

    proxy.restore();
    let notifications = tp.database("notifications").await.unwrap();
    for member in &admitted {
        eventually(
            "every admission's welcome notice arrives after the broker returns",
            Duration::from_secs(60),
            || {
                let db = notifications.clone();
                let member = member.clone();
                async move { (doan_tests::notices_of(&db, &member).await.ok()? == 1).then_some(()) }
            },
        )
        .await;
    }
    let pending = doan_platform::outbox::entity::Entity::find()
        .filter(doan_platform::outbox::entity::Column::PublishedAt.is_null())
        .count(&membership_db)
        .await
        .unwrap();
    assert_eq!(pending, 0, "the relay published everything");
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_blocked_broker_releases_the_relay_and_nothing_is_lost() {
    let Some(urls) = real_servers("a_blocked_broker_releases_the_relay_and_nothing_is_lost").await else { return };
    let (proxy, tp) = behind_broker_proxy(urls, |s| s.broker.publish_timeout_ms = 1000).await;
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.blocked").await;

    // The broker takes the connection but answers nothing (as when it blocks publishers).
    proxy.stall();
    let mut admitted = Vec::new();
    for n in 0..3 {
        let m = gw.membership.clone().admit_member(authed(&officer, admission(&tree.branch, 300 + n))).await;
        admitted.push(m.expect("admission works while the broker is blocked").into_inner().member.unwrap().member_id);
    }
    let membership_db = tp.database("membership").await.unwrap();
    // Each bounded wait gives up, records the failure and releases the rows (no lock held
    // forever): attempts grow while the broker stays blocked.
    eventually("the relay records failed attempts instead of hanging", Duration::from_secs(20), || {
        let db = membership_db.clone();
        async move {
            let rows = doan_platform::outbox::entity::Entity::find()
                .filter(doan_platform::outbox::entity::Column::PublishedAt.is_null())
                .all(&db)
                .await
                .ok()?;
            rows.iter().any(|r| r.attempts >= 2).then_some(())
        }
    })
    .await;
    proxy.resume();
    let notifications = tp.database("notifications").await.unwrap();
    for member in &admitted {
        eventually("every welcome notice arrives once the broker answers", Duration::from_secs(60), || {
            let db = notifications.clone();
            let member = member.clone();
            async move { (doan_tests::notices_of(&db, &member).await.ok()? == 1).then_some(()) }
        })
        .await;
    }
    tp.stop().await.expect("stop");
}
