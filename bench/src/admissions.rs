//! Scenario 3: admissions through the gateway at N concurrent clients, against raw
//! PostgreSQL single-row INSERTs (a commit each) from N connections into a table of the same
//! shape, and COPY of the same rows as the ceiling a bulk import will have to approach.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use doan_tests::client::{admission, authed};
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPoolOptions};

use crate::setup::World;
use crate::stats::{Sample, Table, f, run_load};

/// The shape of `members` (membership's table), for the baseline.
const CREATE: &str = "CREATE TABLE IF NOT EXISTS bench_members (
    seq BIGSERIAL PRIMARY KEY, member_id VARCHAR NOT NULL UNIQUE, full_name VARCHAR NOT NULL,
    date_of_birth DATE NOT NULL, sex INTEGER NOT NULL, ethnicity_enc TEXT NOT NULL, religion_enc TEXT NOT NULL,
    citizen_id_enc TEXT NOT NULL, citizen_id_index VARCHAR NOT NULL UNIQUE, phone_enc TEXT NOT NULL,
    email VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, unit_path TEXT NOT NULL, admitted_on DATE NOT NULL,
    resolution_number VARCHAR NOT NULL, status INTEGER NOT NULL, guardian_consent BOOLEAN NOT NULL,
    admitted_by VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)";

fn row(n: u64) -> [String; 18] {
    let enc = "x".repeat(80);
    [
        format!("00000000-0000-7000-8000-{n:012}"),
        "Nguyễn Thị Lan".into(),
        "2005-05-01".into(),
        "2".into(),
        enc.clone(),
        enc.clone(),
        enc.clone(),
        format!("{n:064}"),
        enc,
        "lan@example.vn".into(),
        "00000000-0000-7000-8000-000000000001".into(),
        "/00000000-0000-7000-8000-000000000000/00000000-0000-7000-8000-000000000001/".into(),
        "2026-11-01".into(),
        "15-NQ/ĐTN".into(),
        "1".into(),
        "f".into(),
        "00000000-0000-7000-8000-000000000002".into(),
        "2026-11-23T00:00:00Z".into(),
    ]
}

const INSERT: &str = "INSERT INTO bench_members (member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc,
    citizen_id_enc, citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, status,
    guardian_consent, admitted_by, created_at)
    VALUES ($1, $2, $3::date, $4::int, $5, $6, $7, $8, $9, $10, $11, $12, $13::date, $14, $15::int, $16::boolean, $17, $18::timestamptz)";

/// Runs the scenario for each client count; `scratch_db` is an empty PostgreSQL database.
pub async fn run(world: &World, scratch_db: &str, clients: &[usize], duration: Duration) -> anyhow::Result<Table> {
    let mut table = Table::new(&["path", "clients", "rows/s", "ratio vs INSERT", "p50 ms", "p99 ms", "errors"]);
    let pool = PgPoolOptions::new().max_connections(64).connect(scratch_db).await?;
    sqlx::query(CREATE).execute(&pool).await?;
    let counter = Arc::new(AtomicU64::new(1));
    for &c in clients {
        let conns = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        for _ in 0..c {
            conns.lock().await.push(PgConnection::connect(scratch_db).await?);
        }
        let per_worker: Arc<Vec<tokio::sync::Mutex<PgConnection>>> =
            Arc::new(std::mem::take(&mut *conns.lock().await).into_iter().map(tokio::sync::Mutex::new).collect());
        let ctr = counter.clone();
        let raw: Sample = run_load(c, duration, move |w| {
            let per_worker = per_worker.clone();
            let n = ctr.fetch_add(1, Ordering::Relaxed);
            async move {
                let mut conn = per_worker[w].lock().await;
                let mut q = sqlx::query(INSERT);
                for v in row(n) {
                    q = q.bind(v);
                }
                q.execute(&mut *conn).await?;
                Ok(())
            }
        })
        .await;

        let gw = world.gw.membership.clone();
        let (officer, branch) = (world.officer.clone(), world.branch.clone());
        let ctr = counter.clone();
        let ours: Sample = run_load(c, duration, move |_| {
            let mut client = gw.clone();
            let n = ctr.fetch_add(1, Ordering::Relaxed);
            let mut req = admission(&branch, (n % u64::from(u32::MAX)) as u32);
            req.citizen_id = format!("{:012}", 100_000_000_000u64 + n);
            let req = authed(&officer, req);
            async move { client.admit_member(req).await.map(|_| ()).map_err(anyhow::Error::from) }
        })
        .await;
        for (path, s) in [("raw PostgreSQL INSERT, commit each", &raw), ("AdmitMember through the gateway", &ours)] {
            table.row(vec![
                path.into(),
                c.to_string(),
                f(s.rate(), 0),
                f(s.rate() / raw.rate(), 2),
                f(s.pct_ms(0.5), 2),
                f(s.pct_ms(0.99), 2),
                s.errors.to_string(),
            ]);
        }
        eprintln!("admissions c={c}: raw {:.0}/s, ours {:.0}/s", raw.rate(), ours.rate());
    }
    // The ceiling: COPY of the same rows, one connection.
    let rows = 50_000u64;
    let mut conn = PgConnection::connect(scratch_db).await?;
    let mut data = String::new();
    let base = counter.fetch_add(rows, Ordering::Relaxed);
    for n in base..base + rows {
        data.push_str(&row(n).join("\t"));
        data.push('\n');
    }
    let start = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY bench_members (member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc, citizen_id_enc,
             citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, status,
             guardian_consent, admitted_by, created_at) FROM STDIN",
        )
        .await?;
    copy.send(data.as_bytes()).await?;
    copy.finish().await?;
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    table.row(vec![
        "raw PostgreSQL COPY (bulk-import ceiling)".into(),
        "1".into(),
        f(rate, 0),
        "—".into(),
        "—".into(),
        "—".into(),
        "0".into(),
    ]);
    Ok(table)
}
