//! Scenario 2: the event pipeline. Check-ins at the activities service until the notice is
//! in the member's inbox (outbox → relay → RabbitMQ → inbox dedup → consumer write), against
//! raw lapin: publish with confirms and consume with acks of the same payload size on the same
//! broker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doan_proto::activities as act;
use doan_proto::activities::activities_service_client::ActivitiesServiceClient;
use doan_proto::events::{EventEnvelope, IntegrationEvent, ParticipationRecorded};
use doan_proto::notifications as notif;
use doan_proto::notifications::notifications_service_client::NotificationsServiceClient;
use doan_tests::client::{authed, until_known};
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use prost::Message;
use tokio::sync::Mutex;
use tonic::transport::Channel;

use crate::setup::World;
use crate::stats::{Table, f};

/// The figures of one side.
pub struct PipelineFigures {
    /// Events per second at full speed.
    pub throughput: f64,
    /// Events in the throughput run.
    pub events: usize,
    /// End-to-end latencies at the fixed rate, ms, sorted.
    pub latencies_ms: Vec<f64>,
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn create_activities(world: &World, n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for i in 0..n {
        let title = format!("bench-activity-{i}-{}", doan_tests::run_id());
        let a = until_known("activities knows the province", || {
            let mut c = world.gw.activities.clone();
            let req = authed(
                &world.officer,
                act::CreateActivityRequest {
                    unit_id: world.province.clone(),
                    title: title.clone(),
                    description: String::new(),
                    starts_at: Some(doan_platform::convert::timestamp(now - chrono::Duration::minutes(1))),
                    ends_at: Some(doan_platform::convert::timestamp(now + chrono::Duration::hours(3))),
                    points: 1,
                    capacity: 0,
                    ..Default::default()
                },
            );
            async move { c.create_activity(req).await }
        })
        .await
        .activity
        .unwrap();
        out.push((a.activity_id, title));
    }
    Ok(out)
}

/// Measures the platform's pipeline: `throughput_activities` × members check-ins at full
/// speed (each followed by its check-out, so that no member is in two places at once), then
/// `rate` check-ins per second for `seconds` with live watches measuring latency.
pub async fn pipeline(
    world: &World,
    throughput_activities: usize,
    rate: u32,
    seconds: u32,
) -> anyhow::Result<PipelineFigures> {
    let activities_addr = world.tp.platform.service_addrs["activities"];
    let channel = Channel::from_shared(format!("http://{activities_addr}"))?.connect().await?;
    let client = ActivitiesServiceClient::new(channel);
    let members = world.members.clone();
    // Directory must know every member before check-ins count.
    for (_, _, token) in &members {
        let mut c = client.clone();
        let token = token.clone();
        until_known("activities knows the member", || {
            let mut c2 = c.clone();
            let req = authed(&token, act::ListActivitiesRequest::default());
            async move { c2.list_activities(req).await }
        })
        .await;
        let _ = &mut c;
    }
    let notifications_db = world.tp.database("notifications").await?;
    let count_checkins = || {
        let db = notifications_db.clone();
        async move {
            use sea_orm::ConnectionTrait;
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM notifications WHERE kind = 2".to_string(),
                ))
                .await
                .ok()??;
            row.try_get::<i64>("", "n").ok()
        }
    };

    // Throughput: every (member, activity) pair once. One person is in one place at a time (a
    // check-in while checked in elsewhere is held for review, its event withheld), so each
    // member goes from activity to activity: check in, check out, next.
    let acts = create_activities(world, throughput_activities).await?;
    let total = acts.len() * members.len();
    let before = count_checkins().await.unwrap_or(0);
    let start = Instant::now();
    let mut workers = Vec::new();
    for (_, _, token) in &members {
        let (mut c, token, acts) = (client.clone(), token.clone(), acts.clone());
        workers.push(tokio::spawn(async move {
            for (activity_id, _) in acts {
                let _ = c
                    .check_in(authed(
                        &token,
                        act::CheckInRequest { activity_id: activity_id.clone(), ..Default::default() },
                    ))
                    .await;
                let _ = c.check_out(authed(&token, act::CheckOutRequest { activity_id, ..Default::default() })).await;
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    loop {
        let n = count_checkins().await.unwrap_or(0) - before;
        if n as usize >= total || start.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let throughput = total as f64 / start.elapsed().as_secs_f64();

    // Latency at a fixed rate, observed on each member's live watch.
    let latency_acts = create_activities(world, ((rate * seconds) as usize).div_ceil(members.len())).await?;
    let notif_addr = world.tp.platform.service_addrs["notifications"];
    let nchannel = Channel::from_shared(format!("http://{notif_addr}"))?.connect().await?;
    let sent: Arc<Mutex<HashMap<(String, String), Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut watchers = Vec::new();
    for (member_id, _, token) in &members {
        let mut stream = NotificationsServiceClient::new(nchannel.clone())
            .watch_notifications(authed(token, notif::WatchNotificationsRequest {}))
            .await?
            .into_inner();
        let (sent, latencies, member_id) = (sent.clone(), latencies.clone(), member_id.clone());
        watchers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let n = msg.notification.unwrap();
                let Some(title) = n.body.split('"').nth(1) else { continue };
                if let Some(t) = sent.lock().await.get(&(member_id.clone(), title.to_string())) {
                    latencies.lock().await.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }));
    }
    let mut schedule = Vec::new();
    for (activity_id, title) in &latency_acts {
        for (member_id, _, token) in &members {
            schedule.push((activity_id.clone(), title.clone(), member_id.clone(), token.clone()));
        }
    }
    schedule.truncate((rate * seconds) as usize);
    let expected = schedule.len();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let mut tick = tokio::time::interval(interval);
    let mut calls = Vec::new();
    for (activity_id, title, member_id, token) in schedule {
        tick.tick().await;
        let mut c = client.clone();
        let sent = sent.clone();
        calls.push(tokio::spawn(async move {
            sent.lock().await.insert((member_id, title), Instant::now());
            let request = act::CheckInRequest { activity_id: activity_id.clone(), ..Default::default() };
            let _ = c.check_in(authed(&token, request)).await;
            let _ = c.check_out(authed(&token, act::CheckOutRequest { activity_id, ..Default::default() })).await;
        }));
    }
    for c in calls {
        c.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.lock().await.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in watchers {
        w.abort();
    }
    let mut latencies_ms = latencies.lock().await.clone();
    latencies_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok(PipelineFigures { throughput, events: total, latencies_ms })
}

/// A payload the size of a real `ParticipationRecorded` envelope.
pub fn sample_envelope() -> Vec<u8> {
    let e = ParticipationRecorded {
        participation_id: doan_platform::convert::new_id(),
        activity_id: doan_platform::convert::new_id(),
        activity_title: "bench-activity-12-0123456789ab".into(),
        member_id: doan_platform::convert::new_id(),
        unit_id: doan_platform::convert::new_id(),
        checked_in_at: Some(doan_platform::convert::timestamp(chrono::Utc::now())),
        points: 1,
        minutes: 120,
    };
    EventEnvelope {
        event_id: doan_platform::convert::new_id(),
        event_type: ParticipationRecorded::EVENT_TYPE.into(),
        occurred_at: Some(doan_platform::convert::timestamp(chrono::Utc::now())),
        producer: "activities".into(),
        trace_context: Default::default(),
        payload: e.encode_to_vec(),
    }
    .encode_to_vec()
}

/// Raw lapin on the same broker: `events` messages published one at a time awaiting each
/// confirm (as the relay does) and consumed with an ack each; then `rate`/s for `seconds`.
pub async fn raw_lapin(amqp: &str, events: usize, rate: u32, seconds: u32) -> anyhow::Result<PipelineFigures> {
    let payload = sample_envelope();
    let conn = lapin::Connection::connect(amqp, lapin::ConnectionProperties::default()).await?;
    let publisher = conn.create_channel().await?;
    publisher.confirm_select(ConfirmSelectOptions::default()).await?;
    let consumer_ch = conn.create_channel().await?;
    consumer_ch.basic_qos(64, BasicQosOptions::default()).await?;
    let queue = format!("doan.bench.raw.{}", doan_tests::run_id());
    publisher
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions { durable: true, ..Default::default() },
            FieldTable::default(),
        )
        .await?;
    let mut consumer = consumer_ch
        .basic_consume(queue.as_str().into(), "bench".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await?;
    let received: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let rec = received.clone();
    let consume = tokio::spawn(async move {
        while let Some(Ok(d)) = consumer.next().await {
            let seq = usize::from_be_bytes(d.data[..8].try_into().unwrap());
            let _ = d.ack(BasicAckOptions::default()).await;
            rec.lock().await.push((seq, Instant::now()));
        }
    });
    let body = |seq: usize| {
        let mut b = seq.to_be_bytes().to_vec();
        b.extend_from_slice(&payload[8.min(payload.len())..]);
        b
    };
    let start = Instant::now();
    for seq in 0..events {
        publisher
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &body(seq),
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await?
            .await?;
    }
    while received.lock().await.len() < events {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let throughput = events as f64 / start.elapsed().as_secs_f64();
    received.lock().await.clear();

    let n = (rate * seconds) as usize;
    let mut sent_at = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    for seq in 0..n {
        tick.tick().await;
        sent_at.push(Instant::now());
        publisher
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &body(events + seq),
                lapin::BasicProperties::default().with_delivery_mode(2),
            )
            .await?
            .await?;
    }
    while received.lock().await.len() < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut latencies_ms: Vec<f64> = received
        .lock()
        .await
        .iter()
        .map(|(seq, at)| at.duration_since(sent_at[seq - events]).as_secs_f64() * 1000.0)
        .collect();
    latencies_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    consume.abort();
    let _ = publisher.queue_delete(queue.as_str().into(), Default::default()).await;
    let _ = conn.close(200, "bench done".into()).await;
    Ok(PipelineFigures { throughput, events, latencies_ms })
}

/// The scenario's table.
pub fn table(ours: &PipelineFigures, raw: &PipelineFigures, rate: u32) -> Table {
    let mut t = Table::new(&[
        "path",
        "events",
        "events/s",
        "ratio vs raw",
        &format!("p50 ms at {rate}/s"),
        &format!("p99 ms at {rate}/s"),
    ]);
    t.row(vec![
        "raw lapin (publish+confirm → consume+ack)".into(),
        raw.events.to_string(),
        f(raw.throughput, 0),
        "1.00".into(),
        f(pct(&raw.latencies_ms, 0.5), 2),
        f(pct(&raw.latencies_ms, 0.99), 2),
    ]);
    t.row(vec![
        "check-in → outbox → relay → RabbitMQ → inbox → notice (watch)".into(),
        ours.events.to_string(),
        f(ours.throughput, 0),
        f(ours.throughput / raw.throughput, 2),
        f(pct(&ours.latencies_ms, 0.5), 2),
        f(pct(&ours.latencies_ms, 0.99), 2),
    ]);
    t
}
