//! Scenario 9: a national day of action. Members of a district (imported through the gateway)
//! check in to their school's activity through the gateway with the rotating code the
//! organiser's device shows (refreshed as it rotates) and their location inside the venue's
//! geofence, open loop at rising rates; each check-in is one member at one place. Measured:
//! the check-in call (all), and from the call to the notice on the member's live watch (a
//! sample of members), against a raw baseline in the same run: one PostgreSQL transaction of two
//! inserts (a participation and its outbox row), committed, at the same rate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doan_platform::auth::{Role, TokenIssuer};
use doan_proto::activities as act;
use doan_proto::notifications as notif;
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, authed, until_known};
use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, RwLock};

use crate::stats::{Table, f};

/// Members watched for end-to-end latency at each rate.
const WATCHED: usize = 100;

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// One member: id, branch, token.
struct Member {
    id: String,
    token: String,
    school: usize,
}

/// The district's members as membership holds them, each with a token minted by the
/// deployment's signing key (as Login would issue it), and the school each branch belongs to.
async fn members(tp: &TestPlatform, branches: &[String]) -> anyhow::Result<Vec<Member>> {
    let db = tp.database("membership").await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT member_id, unit_id, full_name FROM members ORDER BY member_id".to_string(),
        ))
        .await?;
    let key = tp.settings.auth.signing_key_pem.as_ref().expect("a signing key").expose_secret().to_string();
    let issuer = TokenIssuer::from_pem(&key, &tp.settings.auth.issuer, 3600)?;
    let school_of: HashMap<&str, usize> = branches.iter().enumerate().map(|(i, b)| (b.as_str(), i / 30)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get("", "member_id")?;
        let unit: String = r.try_get("", "unit_id")?;
        let name: String = r.try_get("", "full_name").unwrap_or_default();
        let Some(&school) = school_of.get(unit.as_str()) else { continue };
        let (token, _) =
            issuer.issue(&format!("bench-{id}"), Role::Member, Some(unit), Some(id.clone()), &name, None)?;
        out.push(Member { id, token, school });
    }
    Ok(out)
}

/// Offered and achieved rate, call and end-to-end latencies of one step.
struct Step {
    offered: u32,
    calls: usize,
    errors: usize,
    achieved: f64,
    call_ms: Vec<f64>,
    e2e_ms: Vec<f64>,
    drained_s: f64,
}

/// Runs the scenario: `n` members imported, then for each rate in `rates` a step of `seconds`.
pub async fn run(tp: &TestPlatform, postgres: &str, rates: &[u32], seconds: u32) -> anyhow::Result<Table> {
    let needed: usize = rates.iter().map(|r| (*r * seconds) as usize).sum::<usize>() + WATCHED * rates.len();
    let (gw, officer, district, branches, _path) = crate::bulk::district(tp, 300).await?;
    let file = crate::bulk::csv_file(&crate::bulk::rows(&branches, needed));
    let (import_s, _) = crate::bulk::import(&gw, &officer, &district, &file).await?;
    eprintln!("day of action: {needed} members imported in {import_s:.1} s");
    let mut people = members(tp, &branches).await?;
    anyhow::ensure!(people.len() >= needed, "imported {} of {needed}", people.len());

    // One activity per school (grassroots unit), with a geofenced venue, proved by code.
    let schools = branches.len().div_ceil(30);
    let school_units: Vec<String> = {
        let db = tp.database("membership").await?;
        let mut units = Vec::new();
        for b in branches.iter().step_by(30) {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT parent_id FROM units WHERE unit_id = '{b}'"),
                ))
                .await?
                .expect("a branch");
            units.push(row.try_get::<String>("", "parent_id")?);
        }
        units
    };
    let now = chrono::Utc::now();
    let mut activities = Vec::with_capacity(schools);
    for unit in &school_units {
        let request = act::CreateActivityRequest {
            unit_id: unit.clone(),
            title: "Ngày Chủ nhật xanh".into(),
            starts_at: Some(doan_platform::convert::timestamp(now - chrono::Duration::minutes(5))),
            ends_at: Some(doan_platform::convert::timestamp(now + chrono::Duration::hours(3))),
            points: 1,
            check_in_mode: act::CheckInMode::Code as i32,
            venue: Some(act::Venue { latitude: 21.0287, longitude: 105.8524, radius_m: 500 }),
            ..Default::default()
        };
        let a = until_known("activities knows the school", || {
            let mut c = gw.activities.clone();
            let r = authed(&officer, request.clone());
            async move { c.create_activity(r).await }
        })
        .await;
        activities.push(a.activity.expect("activity").activity_id);
    }
    // The organisers' devices: each code refreshed every 10 s (it rotates every 30 s).
    let codes: Arc<RwLock<Vec<String>>> = Arc::new(RwLock::new(vec![String::new(); schools]));
    let refresh = {
        let (codes, gw, officer, activities) = (codes.clone(), gw.clone(), officer.clone(), activities.clone());
        tokio::spawn(async move {
            loop {
                for (i, a) in activities.iter().enumerate() {
                    let r = authed(&officer, act::GetCheckInCodeRequest { activity_id: a.clone() });
                    if let Ok(c) = gw.activities.clone().get_check_in_code(r).await {
                        codes.write().await[i] = c.into_inner().code;
                    }
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        })
    };
    while codes.read().await.iter().any(String::is_empty) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every member known to activities before the load.
    let activities_db = tp.database("activities").await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let row = activities_db
            .query_one_raw(Statement::from_string(
                activities_db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM directory_members".to_string(),
            ))
            .await?
            .expect("a count");
        if row.try_get::<i64>("", "n")? as usize >= needed || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let raw = RawBaseline::new(postgres).await?;
    let mut table = Table::new(&[
        "path",
        "offered /s",
        "calls",
        "errors",
        "achieved /s",
        "p50 ms",
        "p99 ms",
        "check-in → notice p50 ms",
        "p99 ms",
        "all notices in (s after the last call)",
    ]);
    for &rate in rates {
        let n = (rate * seconds) as usize;
        let batch: Vec<Member> = people.drain(..n + WATCHED).collect();
        let step = step(tp, &gw, &batch, &activities, &codes, rate, seconds).await?;
        let raw_step = raw.step(rate, seconds).await?;
        table.row(vec![
            "raw PostgreSQL: 2 INSERTs + COMMIT".into(),
            rate.to_string(),
            raw_step.calls.to_string(),
            raw_step.errors.to_string(),
            f(raw_step.achieved, 0),
            f(pct(&raw_step.call_ms, 0.50), 2),
            f(pct(&raw_step.call_ms, 0.99), 2),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
        table.row(vec![
            "CheckIn through the gateway (code + geofence)".into(),
            step.offered.to_string(),
            step.calls.to_string(),
            step.errors.to_string(),
            f(step.achieved, 0),
            f(pct(&step.call_ms, 0.50), 2),
            f(pct(&step.call_ms, 0.99), 2),
            f(pct(&step.e2e_ms, 0.50), 2),
            f(pct(&step.e2e_ms, 0.99), 2),
            f(step.drained_s, 1),
        ]);
        eprintln!(
            "day of action at {rate}/s: achieved {:.0}/s, call p99 {:.1} ms, e2e p99 {:.1} ms",
            step.achieved,
            pct(&step.call_ms, 0.99),
            pct(&step.e2e_ms, 0.99)
        );
    }
    refresh.abort();
    raw.drop_table().await?;
    Ok(table)
}

/// One step: `rate` check-ins per second for `seconds`, open loop; the first [`WATCHED`]
/// members of `batch` watch their inbox and check in spread through the step.
async fn step(
    tp: &TestPlatform,
    gw: &Gateway,
    batch: &[Member],
    activities: &[String],
    codes: &Arc<RwLock<Vec<String>>>,
    rate: u32,
    seconds: u32,
) -> anyhow::Result<Step> {
    let (watched, rest) = batch.split_at(WATCHED);
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let e2e: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut watchers = Vec::new();
    for m in watched {
        let mut stream = gw
            .notifications
            .clone()
            .watch_notifications(authed(&m.token, notif::WatchNotificationsRequest {}))
            .await?
            .into_inner();
        let (sent, e2e, id) = (sent.clone(), e2e.clone(), m.id.clone());
        watchers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if msg.notification.is_some_and(|n| n.kind == notif::NotificationKind::CheckInConfirmed as i32)
                    && let Some(t) = sent.lock().await.get(&id)
                {
                    e2e.lock().await.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }));
    }
    // The watched members are spread evenly through the step.
    let n = (rate * seconds) as usize;
    let every = (n / WATCHED).max(1);
    let mut order: Vec<&Member> = Vec::with_capacity(n);
    let (mut w, mut r) = (watched.iter(), rest.iter());
    for i in 0..n {
        let next = if i % every == 0 { w.next().or_else(|| r.next()) } else { r.next().or_else(|| w.next()) };
        if let Some(m) = next {
            order.push(m);
        }
    }
    let notices_db = tp.database("notifications").await?;
    let before = notices(&notices_db).await?;
    let call_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
    let errors: Arc<Mutex<usize>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut calls = Vec::with_capacity(order.len());
    for m in &order {
        tick.tick().await;
        let code = codes.read().await[m.school].clone();
        let request = act::CheckInRequest {
            activity_id: activities[m.school].clone(),
            code,
            location: Some(act::Location { latitude: 21.0290, longitude: 105.8526, accuracy_m: 15 }),
            device: None,
        };
        let (mut client, token, id) = (gw.activities.clone(), m.token.clone(), m.id.clone());
        let (sent, call_ms, errors) = (sent.clone(), call_ms.clone(), errors.clone());
        calls.push(tokio::spawn(async move {
            let at = Instant::now();
            sent.lock().await.insert(id, at);
            match client.check_in(authed(&token, request)).await {
                Ok(_) => call_ms.lock().await.push(at.elapsed().as_secs_f64() * 1000.0),
                Err(e) => {
                    let mut errors = errors.lock().await;
                    if *errors < 3 {
                        eprintln!("check-in failed: {e}");
                    }
                    *errors += 1;
                }
            }
        }));
    }
    for c in calls {
        c.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let last_call = Instant::now();
    let expected = order.len() - *errors.lock().await;
    while notices(&notices_db).await? - before < expected as i64 && last_call.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained_s = last_call.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for w in watchers {
        w.abort();
    }
    let mut call_ms = call_ms.lock().await.clone();
    call_ms.sort_by(|a, b| a.total_cmp(b));
    let mut e2e_ms = e2e.lock().await.clone();
    e2e_ms.sort_by(|a, b| a.total_cmp(b));
    let errors = *errors.lock().await;
    Ok(Step {
        offered: rate,
        calls: order.len(),
        errors,
        achieved: (order.len() - errors) as f64 / elapsed,
        call_ms,
        e2e_ms,
        drained_s,
    })
}

async fn notices(db: &sea_orm::DatabaseConnection) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM notifications WHERE kind = 2".to_string(),
        ))
        .await?
        .expect("a count");
    Ok(row.try_get::<i64>("", "n")?)
}

/// The raw baseline: a pool of 10 connections, one transaction of two inserts per call.
struct RawBaseline {
    db: sea_orm::DatabaseConnection,
}

impl RawBaseline {
    async fn new(url: &str) -> anyhow::Result<Self> {
        let mut options = sea_orm::ConnectOptions::new(url.to_string());
        options.max_connections(10).sqlx_logging(false);
        let db = Database::connect(options).await?;
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS bench_checkins (id TEXT PRIMARY KEY, member TEXT, at TIMESTAMPTZ); \
             CREATE TABLE IF NOT EXISTS bench_outbox (seq BIGSERIAL PRIMARY KEY, body BYTEA)",
        )
        .await?;
        Ok(Self { db })
    }

    async fn step(&self, rate: u32, seconds: u32) -> anyhow::Result<Step> {
        use sea_orm::TransactionTrait;
        let n = (rate * seconds) as usize;
        let call_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
        let errors: Arc<Mutex<usize>> = Arc::default();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut calls = Vec::with_capacity(n);
        for _ in 0..n {
            tick.tick().await;
            let (db, call_ms, errors) = (self.db.clone(), call_ms.clone(), errors.clone());
            calls.push(tokio::spawn(async move {
                let at = Instant::now();
                let id = doan_platform::convert::new_id();
                let work = async {
                    let txn = db.begin().await?;
                    txn.execute_unprepared(&format!(
                        "INSERT INTO bench_checkins VALUES ('{id}', '{id}', now()); \
                         INSERT INTO bench_outbox (body) VALUES (decode(repeat('ab', 200), 'hex'))"
                    ))
                    .await?;
                    txn.commit().await?;
                    Ok::<_, sea_orm::DbErr>(())
                };
                match work.await {
                    Ok(()) => call_ms.lock().await.push(at.elapsed().as_secs_f64() * 1000.0),
                    Err(_) => *errors.lock().await += 1,
                }
            }));
        }
        for c in calls {
            c.await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut call_ms = call_ms.lock().await.clone();
        call_ms.sort_by(|a, b| a.total_cmp(b));
        let errors = *errors.lock().await;
        Ok(Step {
            offered: rate,
            calls: n,
            errors,
            achieved: (n - errors) as f64 / elapsed,
            call_ms,
            e2e_ms: Vec::new(),
            drained_s: 0.0,
        })
    }

    async fn drop_table(&self) -> anyhow::Result<()> {
        self.db.execute_unprepared("DROP TABLE IF EXISTS bench_checkins; DROP TABLE IF EXISTS bench_outbox").await?;
        Ok(())
    }
}
