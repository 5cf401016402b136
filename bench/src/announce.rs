//! Scenario 10: a province-wide announcement. A province's officer sends an ANNOUNCEMENT to the
//! province (`Audience.unit_id`) through the gateway; the notifications service resolves its
//! active members from its directory, writes each one's notice and push delivery in chunks, and
//! its dispatcher sends every push through the FCM and APNs adapters to local fakes (FCM: 9
//! connections, 900 in flight; APNs: 4 connections, 1,000 in flight, as the design memo says).
//! The province's members (and one device each: 80 % Android, 20 % iOS) are seeded straight
//! into the service's database with COPY.
//!
//! Measured: from CreateBroadcast to every inbox row written (the broadcast SENT, its notices
//! counted) and to the fakes having answered every push; against, in the same run, the same
//! pushes sent straight through the adapters (no service, no database) and a raw multi-row
//! INSERT (and a raw COPY, the ceiling) of the same notice and delivery rows. Then `watchers`
//! members open a live WatchNotifications stream each, the database's transactions are counted
//! while they idle (whatever per-watch or per-replica polling there is), and a second
//! announcement to the province measures the latency from CreateBroadcast returning to each
//! stream receiving its notice.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use doan_notifications::channels::{Channels, Outcome, Push};
use doan_notifications::domain::notices::NoticeKind;
use doan_notifications::domain::preferences::Language;
use doan_notifications::domain::templates;
use doan_platform::auth::{Role, TokenIssuer};
use doan_platform::clock::Clock;
use doan_platform::config::ChannelsSettings;
use doan_platform::convert::new_id;
use doan_proto::notifications as notif;
use doan_proto::notifications::notifications_service_client::NotificationsServiceClient;
use doan_tests::client::{Gateway, authed, create_tree, member_name, officer};
use doan_tests::fakes::{FakeApns, FakeFcm};
use doan_tests::{ADMIN_PASSWORD, ServerUrls, TestPlatform};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Postgres, QueryBuilder};
use tonic::transport::Channel;

use crate::stats::{Table, f};

/// When each watch received the broadcast's notice (its id and the instant), by watch.
type Arrivals = Arc<Mutex<Vec<Option<(String, Instant)>>>>;

/// Members per seeded branch.
const PER_BRANCH: usize = 300;
/// Live watches per HTTP/2 connection of the watching clients.
const WATCHES_PER_CONNECTION: usize = 100;
/// FCM lane as the design memo sets it (§5): connections, requests in flight.
const FCM_LANE: (usize, usize) = (9, 900);
/// APNs lane: connections per endpoint, requests in flight.
const APNS_LANE: (usize, usize) = (4, 1000);
/// How long one fan-out may take before the scenario gives up on it.
const FANOUT_LIMIT: Duration = Duration::from_secs(600);
/// The idle window over which the watches' fallback polls are counted (each watch polls once
/// 30–35 s after it opened).
const POLL_WINDOW: Duration = Duration::from_secs(40);
/// Recipients a raw transaction writes (the service's `fanout_chunk`).
const RAW_CHUNK: usize = 2_000;

const ANDROID: i32 = 1;
const IOS: i32 = 2;

const TITLE: &str = "Phát động Tháng Thanh niên năm 2027";
const BODY: &str = "Ban Thường vụ Tỉnh đoàn đề nghị các cơ sở Đoàn tổ chức lễ ra quân Tháng Thanh niên \
    vào sáng Chủ nhật 7/3, đăng ký công trình thanh niên và báo cáo kết quả trước ngày 31/3. \
    Đoàn viên theo dõi hướng dẫn chi tiết trên ứng dụng.";

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// One seeded member and their device.
struct Member {
    id: String,
    branch: String,
    name: String,
    platform: i32,
    token: String,
}

/// The two fakes.
struct Fakes {
    fcm: FakeFcm,
    apns: FakeApns,
}

impl Fakes {
    /// Pushes both fakes answered 200.
    fn sent(&self) -> usize {
        self.fcm.sent_count() + self.apns.sent_count()
    }
}

/// A seeded FCM registration token (about the length of a real one).
fn fcm_token() -> String {
    let hex: String = (0..5).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    format!("{}:APA91b{}", &hex[..22], &hex[22..152])
}

/// A seeded APNs device token: 64 hexadecimal digits.
fn apns_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

async fn copy(conn: &mut PgConnection, statement: &str, rows: &str) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(rows.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Waits until the notifications directory holds `unit_id`, and returns its parent and path.
async fn directory_unit(conn: &mut PgConnection, unit_id: &str) -> anyhow::Result<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT parent_id, path FROM directory_units WHERE unit_id = $1")
                .bind(unit_id)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(r) = row {
            return Ok(r);
        }
        anyhow::ensure!(Instant::now() < deadline, "notifications never learnt unit {unit_id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Seeds `n` active members in branches under `parent` (path `parent_path`), each with one
/// device, into the notifications database.
async fn seed(conn: &mut PgConnection, parent: &str, parent_path: &str, n: usize) -> anyhow::Result<Vec<Member>> {
    let branches: Vec<String> = (0..n.div_ceil(PER_BRANCH)).map(|_| new_id()).collect();
    let mut rows = String::new();
    for (i, b) in branches.iter().enumerate() {
        rows.push_str(&format!("{b}\t{parent}\tChi đoàn {}\t5\t{parent_path}{b}/\t1\t1\t\n", i + 1));
    }
    copy(
        conn,
        "COPY directory_units (unit_id, parent_id, name, level, path, version, status, merged_into) FROM STDIN",
        &rows,
    )
    .await?;
    let members: Vec<Member> = (0..n)
        .map(|i| {
            let ios = i % 5 == 4;
            Member {
                id: new_id(),
                branch: branches[i / PER_BRANCH].clone(),
                name: member_name(i as u32),
                platform: if ios { IOS } else { ANDROID },
                token: if ios { apns_token() } else { fcm_token() },
            }
        })
        .collect();
    let mut rows = String::with_capacity(n * 160);
    for (i, m) in members.iter().enumerate() {
        rows.push_str(&format!("{}\tB{:010}\t{}\t{}\t{parent_path}{}/\t1\t1\n", m.id, i, m.name, m.branch, m.branch));
    }
    copy(
        conn,
        "COPY directory_members (member_id, member_number, full_name, unit_id, unit_path, version, status) FROM STDIN",
        &rows,
    )
    .await?;
    let now = Utc::now().to_rfc3339();
    let mut rows = String::with_capacity(n * 260);
    for m in &members {
        rows.push_str(&format!(
            "{}\t{}\t{}\t{}\tf\t{now}\t{now}\n",
            uuid::Uuid::new_v4().simple(),
            m.id,
            m.platform,
            m.token
        ));
    }
    copy(
        conn,
        "COPY devices (device_id, owner_id, platform, token, apns_sandbox, registered_at, last_seen_at) FROM STDIN",
        &rows,
    )
    .await?;
    sqlx::raw_sql("ANALYZE directory_units; ANALYZE directory_members; ANALYZE devices").execute(&mut *conn).await?;
    Ok(members)
}

/// What one broadcast took.
struct Fanout {
    /// The CreateBroadcast call, ms.
    call_ms: f64,
    /// When the call returned.
    returned: Instant,
    /// Seconds from the call to: recipients resolved, first push at a fake, every inbox row
    /// written (SENT), every push answered by the fakes.
    resolved_s: f64,
    first_push_s: f64,
    inbox_s: f64,
    pushes_s: f64,
    /// Notices of the broadcast counted at the end.
    notices: i64,
    /// Pushes the fakes answered 200.
    pushes: usize,
    /// Deliveries SENT at the end.
    settled: i64,
}

/// Sends an announcement from the province to the province and follows it to its last push.
async fn broadcast(
    gw: &Gateway,
    officer: &str,
    province: &str,
    title: &str,
    db: &mut PgConnection,
    fakes: &Fakes,
    n: usize,
) -> anyhow::Result<Fanout> {
    let base = fakes.sent();
    let t0 = Instant::now();
    let b = gw
        .notifications
        .clone()
        .create_broadcast(authed(
            officer,
            notif::CreateBroadcastRequest {
                unit_id: province.into(),
                kind: notif::BroadcastKind::Announcement as i32,
                title: title.into(),
                body: BODY.into(),
                audience: Some(notif::Audience { target: Some(notif::audience::Target::UnitId(province.into())) }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .broadcast
        .expect("broadcast");
    let returned = Instant::now();
    let call_ms = (returned - t0).as_secs_f64() * 1000.0;
    let secs = |at: Instant| (at - t0).as_secs_f64();
    let (mut resolved, mut first_push, mut inbox, mut pushes_done) = (None, None, None, None);
    let mut next_report = t0 + Duration::from_secs(1);
    loop {
        let now = Instant::now();
        let pushes = fakes.sent() - base;
        if first_push.is_none() && pushes > 0 {
            first_push = Some(now);
        }
        if pushes_done.is_none() && pushes >= n {
            pushes_done = Some(now);
        }
        if inbox.is_none() {
            let (status, is_resolved): (i32, bool) =
                sqlx::query_as("SELECT status, resolved FROM broadcasts WHERE broadcast_id = $1")
                    .bind(&b.broadcast_id)
                    .fetch_one(&mut *db)
                    .await?;
            if resolved.is_none() && is_resolved {
                resolved = Some(now);
            }
            if status == notif::BroadcastStatus::Sent as i32 {
                inbox = Some(now);
            }
        }
        if now >= next_report {
            eprintln!(
                "announce: {:5.1} s: resolved {}, inbox {}, pushes answered {pushes}",
                secs(now),
                resolved.is_some(),
                if inbox.is_some() { "complete" } else { "writing" }
            );
            next_report += Duration::from_secs(1);
        }
        if inbox.is_some() && pushes_done.is_some() {
            break;
        }
        if now - t0 > FANOUT_LIMIT {
            eprintln!("announce: gave up after {} s with {pushes} of {n} pushes", FANOUT_LIMIT.as_secs());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let notices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE broadcast_id = $1")
        .bind(&b.broadcast_id)
        .fetch_one(&mut *db)
        .await?;
    // The last round's outcomes are written just after the fakes answer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE broadcast_id = $1 AND state = 2")
        .bind(&b.broadcast_id)
        .fetch_one(&mut *db)
        .await?;
    let nan = f64::NAN;
    Ok(Fanout {
        call_ms,
        returned,
        resolved_s: resolved.map_or(nan, secs),
        first_push_s: first_push.map_or(nan, secs),
        inbox_s: inbox.map_or(nan, secs),
        pushes_s: pushes_done.map_or(nan, secs),
        notices,
        pushes: fakes.sent() - base,
        settled,
    })
}

/// The same pushes straight through the adapters: `in_flight` at once, or (with `rounds`) in
/// rounds of `in_flight` each awaited whole, as the dispatcher's rounds are. Returns seconds
/// and pushes the fakes answered 200.
async fn raw_pushes(
    settings: &ChannelsSettings,
    members: &[Member],
    fakes: &Fakes,
    in_flight: usize,
    rounds: bool,
) -> anyhow::Result<(f64, usize)> {
    let channels = Arc::new(Channels::from_settings(settings, Clock::system())?);
    let (title, body) = templates::push(NoticeKind::Announcement, Language::Vi, TITLE, BODY);
    let broadcast_id = new_id();
    let expires_at = Some(Utc::now() + chrono::Duration::days(7));
    let send = |m: &Member| {
        let channels = channels.clone();
        let push = Push {
            id: new_id(),
            token: m.token.clone(),
            title: title.clone(),
            body: body.clone(),
            data: vec![
                ("kind".into(), (NoticeKind::Announcement as i32).to_string()),
                ("notice_id".into(), new_id()),
                ("broadcast_id".into(), broadcast_id.clone()),
            ],
            urgent: false,
            expires_at,
            collapse_id: None,
        };
        let platform = m.platform;
        async move {
            match platform {
                ANDROID => channels.fcm.as_ref().expect("fcm").send(&push).await,
                _ => channels.apns.as_ref().expect("apns").send(&push, false).await,
            }
        }
    };
    let base = fakes.sent();
    let start = Instant::now();
    let mut sent = 0;
    if rounds {
        for round in members.chunks(in_flight) {
            let outcomes = futures_util::future::join_all(round.iter().map(&send)).await;
            sent += outcomes.iter().filter(|o| matches!(o, Outcome::Sent { .. })).count();
        }
    } else {
        sent = futures_util::stream::iter(members.iter().map(&send))
            .buffer_unordered(in_flight)
            .filter(|o| std::future::ready(matches!(o, Outcome::Sent { .. })))
            .count()
            .await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    anyhow::ensure!(sent == members.len(), "raw pushes: {sent} of {} sent", members.len());
    Ok((elapsed, fakes.sent() - base))
}

/// The inbox rows and push deliveries of `members` written raw: tables of the same shape and
/// indexes as `notifications` and `deliveries` (`LIKE … INCLUDING ALL`), 1,000 rows a
/// statement, 2,000 members a transaction (the service's chunk). Returns seconds.
async fn raw_insert(conn: &mut PgConnection, members: &[Member]) -> anyhow::Result<f64> {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_raw_notifications, bench_raw_deliveries; \
         CREATE TABLE bench_raw_notifications (LIKE notifications INCLUDING ALL); \
         CREATE TABLE bench_raw_deliveries (LIKE deliveries INCLUDING ALL)",
    )
    .execute(&mut *conn)
    .await?;
    let broadcast_id = new_id();
    let now = Utc::now().to_rfc3339();
    let expires = (Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let start = Instant::now();
    for chunk in members.chunks(RAW_CHUNK) {
        let mut tx = conn.begin().await?;
        for part in chunk.chunks(1_000) {
            let ids: Vec<String> = part.iter().map(|_| new_id()).collect();
            let mut q = QueryBuilder::<Postgres>::new(
                "INSERT INTO bench_raw_notifications (notification_id, member_id, kind, title, body, created_at, \
                 read_at, source_event_id, seq, broadcast_id, category, urgent) ",
            );
            q.push_values(part.iter().zip(&ids), |mut row, (m, id)| {
                row.push_bind(id.clone())
                    .push_bind(m.id.clone())
                    .push_bind(NoticeKind::Announcement as i32)
                    .push_bind(TITLE)
                    .push_bind(BODY)
                    .push_bind(now.clone())
                    .push_unseparated("::timestamptz")
                    .push("NULL")
                    .push_bind(broadcast_id.clone())
                    .push_bind(1_i64)
                    .push_bind(broadcast_id.clone())
                    .push_bind(7_i32)
                    .push_bind(false);
            });
            q.build().execute(&mut *tx).await?;
            let mut q = QueryBuilder::<Postgres>::new(
                "INSERT INTO bench_raw_deliveries (delivery_id, notification_id, owner_id, broadcast_id, kind, \
                 channel, device_id, state, attempts, next_attempt_at, lease_until, failure_reason, subject, text, \
                 expires_at, urgent, created_at, updated_at) ",
            );
            q.push_values(part.iter().zip(&ids), |mut row, (m, id)| {
                row.push_bind(new_id())
                    .push_bind(id.clone())
                    .push_bind(m.id.clone())
                    .push_bind(broadcast_id.clone())
                    .push_bind(NoticeKind::Announcement as i32)
                    .push_bind(1_i32)
                    .push_bind(uuid::Uuid::new_v4().simple().to_string())
                    .push_bind(1_i32)
                    .push_bind(0_i32)
                    .push_bind(now.clone())
                    .push_unseparated("::timestamptz")
                    .push_bind(now.clone())
                    .push_unseparated("::timestamptz")
                    .push_bind("")
                    .push("NULL")
                    .push("NULL")
                    .push_bind(expires.clone())
                    .push_unseparated("::timestamptz")
                    .push_bind(false)
                    .push_bind(now.clone())
                    .push_unseparated("::timestamptz")
                    .push_bind(now.clone())
                    .push_unseparated("::timestamptz");
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE bench_raw_notifications, bench_raw_deliveries").execute(&mut *conn).await?;
    Ok(elapsed)
}

/// The same rows as [`raw_insert`] with one text COPY per table, one transaction per chunk of
/// 2,000 recipients: the ceiling of what PostgreSQL takes on this machine. Returns seconds.
async fn raw_copy(conn: &mut PgConnection, members: &[Member]) -> anyhow::Result<f64> {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_raw_notifications, bench_raw_deliveries; \
         CREATE TABLE bench_raw_notifications (LIKE notifications INCLUDING ALL); \
         CREATE TABLE bench_raw_deliveries (LIKE deliveries INCLUDING ALL)",
    )
    .execute(&mut *conn)
    .await?;
    let broadcast_id = new_id();
    let now = Utc::now().to_rfc3339();
    let expires = (Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let kind = NoticeKind::Announcement as i32;
    let body = BODY.replace('\\', "\\\\");
    let start = Instant::now();
    for chunk in members.chunks(RAW_CHUNK) {
        let mut notices = String::with_capacity(chunk.len() * 600);
        let mut deliveries = String::with_capacity(chunk.len() * 300);
        for m in chunk {
            let id = new_id();
            notices.push_str(&format!(
                "{id}\t{}\t{kind}\t{TITLE}\t{body}\t{now}\t\\N\t{broadcast_id}\t1\t{broadcast_id}\t7\tf\n",
                m.id
            ));
            deliveries.push_str(&format!(
                "{}\t{id}\t{}\t{broadcast_id}\t{kind}\t1\t{}\t1\t0\t{now}\t{now}\t\t\\N\t\\N\t{expires}\tf\t{now}\t{now}\n",
                new_id(),
                m.id,
                uuid::Uuid::new_v4().simple()
            ));
        }
        let mut tx = conn.begin().await?;
        let mut copy = tx
            .copy_in_raw(
                "COPY bench_raw_notifications (notification_id, member_id, kind, title, body, created_at, read_at, \
                 source_event_id, seq, broadcast_id, category, urgent) FROM STDIN",
            )
            .await?;
        copy.send(notices.as_bytes()).await?;
        copy.finish().await?;
        let mut copy = tx
            .copy_in_raw(
                "COPY bench_raw_deliveries (delivery_id, notification_id, owner_id, broadcast_id, kind, channel, \
                 device_id, state, attempts, next_attempt_at, lease_until, failure_reason, subject, text, \
                 expires_at, urgent, created_at, updated_at) FROM STDIN",
            )
            .await?;
        copy.send(deliveries.as_bytes()).await?;
        copy.finish().await?;
        tx.commit().await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE bench_raw_notifications, bench_raw_deliveries").execute(&mut *conn).await?;
    Ok(elapsed)
}

/// Transactions the notifications database has run so far (each autocommit query is one).
async fn transactions(conn: &mut PgConnection) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Live watches, each recording when its first notice arrived.
struct Watches {
    opened: usize,
    failed: usize,
    open_s: f64,
    arrivals: Arrivals,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens a watch for each of `members` straight on the notifications service, with a token
/// signed by the deployment's key as Login would issue it.
async fn open_watches(tp: &TestPlatform, members: &[&Member]) -> anyhow::Result<Watches> {
    let auth = &tp.settings.auth;
    let key = auth.signing_key_pem.as_ref().expect("a signing key").expose_secret().to_string();
    let issuer = TokenIssuer::from_pem(&key, &auth.issuer, auth.token_ttl_secs)?;
    let tokens: Vec<String> = members
        .iter()
        .map(|m| {
            issuer
                .issue(
                    &format!("bench-{}", m.id),
                    Role::Member,
                    Some(m.branch.clone()),
                    Some(m.id.clone()),
                    &m.name,
                    None,
                )
                .map(|(t, _)| t)
        })
        .collect::<Result<_, _>>()?;
    let addr = tp.platform.service_addrs["notifications"];
    let mut channels = Vec::new();
    for _ in 0..members.len().div_ceil(WATCHES_PER_CONNECTION) {
        channels.push(Channel::from_shared(format!("http://{addr}"))?.connect().await?);
    }
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![None; members.len()]));
    let start = Instant::now();
    let opened: Vec<Option<tokio::task::JoinHandle<()>>> = futures_util::stream::iter(tokens.into_iter().enumerate())
        .map(|(i, token)| {
            let channel = channels[i / WATCHES_PER_CONNECTION].clone();
            let arrivals = arrivals.clone();
            async move {
                let mut client = NotificationsServiceClient::new(channel);
                let mut stream = client
                    .watch_notifications(authed(&token, notif::WatchNotificationsRequest {}))
                    .await
                    .ok()?
                    .into_inner();
                Some(tokio::spawn(async move {
                    while let Ok(Some(msg)) = stream.message().await {
                        let at = Instant::now();
                        let mut a = arrivals.lock().expect("arrivals");
                        if a[i].is_none() {
                            a[i] = Some((msg.notification.map(|n| n.broadcast_id).unwrap_or_default(), at));
                        }
                    }
                }))
            }
        })
        .buffer_unordered(200)
        .collect()
        .await;
    let open_s = start.elapsed().as_secs_f64();
    let failed = opened.iter().filter(|t| t.is_none()).count();
    let tasks: Vec<_> = opened.into_iter().flatten().collect();
    Ok(Watches { opened: tasks.len(), failed, open_s, arrivals, tasks })
}

fn fanout_rows(t: &mut Table, label: &str, n: usize, x: &Fanout, raw_insert_s: f64, raw_push_s: f64) {
    t.row(vec![
        format!("{label}: every inbox row written (SENT; {} notices counted)", x.notices),
        n.to_string(),
        f(x.inbox_s, 2),
        f(n as f64 / x.inbox_s, 0),
        f(raw_insert_s / x.inbox_s, 2),
    ]);
    t.row(vec![
        format!(
            "{label}: every push answered by the fakes ({} answered, {} deliveries settled SENT)",
            x.pushes, x.settled
        ),
        n.to_string(),
        f(x.pushes_s, 2),
        f(n as f64 / x.pushes_s, 0),
        f(raw_push_s / x.pushes_s, 2),
    ]);
}

fn phase_row(t: &mut Table, label: &str, n: usize, x: &Fanout) {
    let dispatch = x.pushes_s - x.first_push_s;
    t.row(vec![
        label.into(),
        f(x.call_ms, 1),
        f(x.resolved_s, 2),
        f(x.first_push_s, 2),
        f(x.inbox_s, 2),
        f(x.pushes_s, 2),
        f(n as f64 / dispatch, 0),
    ]);
}

/// Runs the scenario with `n` recipients and `watchers` live watches; returns the section.
pub async fn run(urls: &ServerUrls, n: usize, watchers: usize) -> anyhow::Result<String> {
    let fakes = Fakes { fcm: FakeFcm::start().await?, apns: FakeApns::start().await? };
    let run = doan_tests::run_id();
    let mut settings = TestPlatform::server_settings(urls, &run).await?;
    settings.gateway.rate_limit_per_minute = 0;
    for name in doan::ServiceName::ALL {
        settings.service_mut(name.as_str()).expect("service").max_db_connections = 10;
    }
    settings.channels.fcm = fakes.fcm.settings();
    (settings.channels.fcm.connections, settings.channels.fcm.max_in_flight) = FCM_LANE;
    settings.channels.apns = fakes.apns.settings();
    (settings.channels.apns.connections, settings.channels.apns.max_in_flight) = APNS_LANE;
    if std::env::var_os("DOAN_BENCH_LOG_STATEMENTS").is_some() {
        // Every statement of this run's notifications database in PostgreSQL's log, with its
        // duration (parameters left out), to split the fan-out into its statements.
        let url = settings.service("notifications").expect("notifications").database_url.expose_secret().to_string();
        let db = url.rsplit('/').next().unwrap_or_default().to_string();
        let mut admin = PgConnection::connect(&format!("{}/postgres", urls.postgres)).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {db} SET log_min_duration_statement = 0; ALTER DATABASE {db} SET log_parameter_max_length = 0"
        )))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        eprintln!("announce: logging every statement of {db}");
    }
    let tp = TestPlatform::servers_with(urls.clone(), run, settings).await?;
    let result = scenario(&tp, &fakes, n, watchers).await;
    tp.stop().await?;
    result
}

async fn scenario(tp: &TestPlatform, fakes: &Fakes, n: usize, watchers: usize) -> anyhow::Result<String> {
    let gw = Gateway::connect(tp.platform.gateway_addr).await?;
    let admin = gw.login("admin", ADMIN_PASSWORD).await?;
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bench.announce").await;
    let url = tp.settings.service("notifications").expect("notifications").database_url.expose_secret().to_string();
    let mut db = PgConnection::connect(&url).await?;
    directory_unit(&mut db, &tree.province).await?;
    // The seeded branches hang under the grassroots unit of the tree's branch.
    let (grassroots, _) = directory_unit(&mut db, &tree.branch).await?;
    let (_, grassroots_path) = directory_unit(&mut db, &grassroots).await?;
    anyhow::ensure!(grassroots_path.ends_with('/'), "a unit path ends with '/': {grassroots_path}");
    let started = Instant::now();
    let members = seed(&mut db, &grassroots, &grassroots_path, n).await?;
    let ios = members.iter().filter(|m| m.platform == IOS).count();
    eprintln!(
        "announce: {n} members and devices ({} Android, {ios} iOS) seeded in {:.1} s",
        n - ios,
        started.elapsed().as_secs_f64()
    );

    // The raw baselines first, on a quiet database.
    let raw_insert_s = raw_insert(&mut db, &members).await?;
    eprintln!("announce: raw INSERT of {n} notices + {n} deliveries: {raw_insert_s:.2} s");
    let raw_copy_s = raw_copy(&mut db, &members).await?;
    eprintln!("announce: raw COPY of {n} notices + {n} deliveries: {raw_copy_s:.2} s");
    let channels = tp.settings.channels.clone();
    let (raw_push_s, raw_pushed) = raw_pushes(&channels, &members, fakes, FCM_LANE.1 + APNS_LANE.1, false).await?;
    eprintln!("announce: raw adapters, {} in flight: {n} pushes in {raw_push_s:.2} s", FCM_LANE.1 + APNS_LANE.1);
    let batch = usize::try_from(channels.dispatch_batch).unwrap_or(1000);
    let (raw_rounds_s, raw_rounds_pushed) = raw_pushes(&channels, &members, fakes, batch, true).await?;
    eprintln!("announce: raw adapters, rounds of {batch}: {n} pushes in {raw_rounds_s:.2} s");

    // The announcement, nobody watching.
    let quiet = broadcast(&gw, &officer, &tree.province, TITLE, &mut db, fakes, n).await?;
    eprintln!(
        "announce: inbox {:.2} s, pushes {:.2} s (resolved {:.2} s, first push {:.2} s)",
        quiet.inbox_s, quiet.pushes_s, quiet.resolved_s, quiet.first_push_s
    );

    // Live watches, spread over the province's members.
    let s = watchers.min(n);
    let step = (n / s.max(1)).max(1);
    let watched: Vec<&Member> = members.iter().step_by(step).take(s).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_start = (transactions(&mut db).await?, Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_rate = (transactions(&mut db).await? - idle_start.0 - 1) as f64 / idle_start.1.elapsed().as_secs_f64();
    let watches = open_watches(tp, &watched).await?;
    eprintln!(
        "announce: {} watches open in {:.1} s ({} failed); counting queries for {} s",
        watches.opened,
        watches.open_s,
        watches.failed,
        POLL_WINDOW.as_secs()
    );
    // The opening queries reach the statistics within a second or two; the first fallback polls
    // come 30 s after each watch opened.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let window_start = (transactions(&mut db).await?, Instant::now());
    tokio::time::sleep(POLL_WINDOW).await;
    let window_s = window_start.1.elapsed().as_secs_f64();
    let window_tx = transactions(&mut db).await? - window_start.0 - 1;
    let watched_rate = window_tx as f64 / window_s;
    eprintln!(
        "announce: {window_tx} transactions in {window_s:.0} s with the watches idle ({watched_rate:.1}/s; \
         {idle_rate:.1}/s without them)"
    );

    // The second announcement, watched.
    let watched_fanout =
        broadcast(&gw, &officer, &tree.province, "Lịch sinh hoạt chủ điểm tháng 3", &mut db, fakes, n).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received = watches.arrivals.lock().expect("arrivals").iter().filter(|a| a.is_some()).count();
        if received >= watches.opened || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut latencies: Vec<f64> = watches
        .arrivals
        .lock()
        .expect("arrivals")
        .iter()
        .flatten()
        .map(|(_, at)| at.saturating_duration_since(watched_fanout.returned).as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    for t in &watches.tasks {
        t.abort();
    }
    eprintln!(
        "announce: watched: {} of {} notices on the watches, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        watches.opened,
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0)
    );

    let mut fanout = Table::new(&["path", "recipients", "seconds", "per second", "ratio vs raw"]);
    fanout.row(vec![
        "raw multi-row INSERT of the notices and push deliveries (tables LIKE notifications/deliveries INCLUDING ALL; 1,000 rows a statement, 2,000 recipients a transaction)".into(),
        n.to_string(),
        f(raw_insert_s, 2),
        f(n as f64 / raw_insert_s, 0),
        "1.00".into(),
    ]);
    fanout.row(vec![
        "raw COPY of the same rows into the same tables, one transaction per 2,000 recipients (ceiling)".into(),
        n.to_string(),
        f(raw_copy_s, 2),
        f(n as f64 / raw_copy_s, 0),
        f(raw_insert_s / raw_copy_s, 2),
    ]);
    fanout.row(vec![
        format!(
            "raw adapters: the same pushes straight through Fcm/Apns to the fakes, {} in flight ({} answered)",
            FCM_LANE.1 + APNS_LANE.1,
            raw_pushed
        ),
        n.to_string(),
        f(raw_push_s, 2),
        f(n as f64 / raw_push_s, 0),
        "1.00".into(),
    ]);
    fanout.row(vec![
        format!("raw adapters in rounds of {batch} awaited whole, as the dispatcher's ({raw_rounds_pushed} answered)"),
        n.to_string(),
        f(raw_rounds_s, 2),
        f(n as f64 / raw_rounds_s, 0),
        f(raw_push_s / raw_rounds_s, 2),
    ]);
    fanout_rows(&mut fanout, "CreateBroadcast, no watch open", n, &quiet, raw_insert_s, raw_push_s);
    fanout_rows(
        &mut fanout,
        &format!("CreateBroadcast, {} watches open", watches.opened),
        n,
        &watched_fanout,
        raw_insert_s,
        raw_push_s,
    );

    let mut phases = Table::new(&[
        "broadcast",
        "call ms",
        "resolved s",
        "first push s",
        "inbox complete s",
        "last push s",
        "pushes/s from first to last",
    ]);
    phase_row(&mut phases, "no watch open", n, &quiet);
    phase_row(&mut phases, &format!("{} watches open", watches.opened), n, &watched_fanout);

    let mut watch = Table::new(&[
        "live watches (one HTTP/2 stream each, 100 a connection, straight to notifications)",
        "opened in s",
        "database transactions/s while they idle (without watches)",
        "notices received",
        "CreateBroadcast returned → notice p50 ms",
        "p99 ms",
        "max ms",
    ]);
    watch.row(vec![
        format!("{} opened, {} refused", watches.opened, watches.failed),
        f(watches.open_s, 1),
        format!("{} ({})", f(watched_rate, 1), f(idle_rate, 1)),
        latencies.len().to_string(),
        f(pct(&latencies, 0.5), 0),
        f(pct(&latencies, 0.99), 0),
        f(pct(&latencies, 1.0), 0),
    ]);
    Ok(format!(
        "{} members of one province (in {} branches), one device each ({} Android through FCM, {ios} iOS through \
         APNs), seeded with COPY into the notifications database; FCM lane {} connections / {} in flight, APNs {} / \
         {}, `fanout_chunk` {}, `dispatch_batch` {batch}; the fakes run in the same process.\n\n{}\nPhases (seconds \
         from the CreateBroadcast call):\n\n{}\nLive watches during the second announcement:\n\n{}",
        n,
        n.div_ceil(PER_BRANCH),
        n - ios,
        FCM_LANE.0,
        FCM_LANE.1,
        APNS_LANE.0,
        APNS_LANE.1,
        tp.settings.broadcasts.fanout_chunk,
        fanout.markdown(),
        phases.markdown(),
        watch.markdown()
    ))
}
