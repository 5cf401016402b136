//! Scenario 4: footprint. Idle and under-load RSS of each process and of `doan all`, and the
//! time from process start to health SERVING, with the release `doan` binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use doan_proto::membership as mem;
use doan_proto::membership::membership_service_client::MembershipServiceClient;
use doan_tests::client::authed;
use doan_tests::{ADMIN_PASSWORD, ServerUrls, run_id};
use sea_orm::{ConnectionTrait, Database};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::stats::{Table, f, run_load};

/// The release `doan` next to this benchmark's executable.
pub fn doan_binary() -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.parent().expect("exe dir").join("doan")
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn serving_after(addr: &str, started: Instant) -> anyhow::Result<Duration> {
    use tonic_health_client::*;
    let deadline = started + Duration::from_secs(30);
    loop {
        if check(addr).await {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(Instant::now() < deadline, "{addr} not SERVING after 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

mod tonic_health_client {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    /// True when the server at `addr` answers health SERVING.
    pub async fn check(addr: &str) -> bool {
        let Ok(endpoint) = tonic::transport::Endpoint::from_shared(addr.to_string()) else { return false };
        let Ok(channel) = endpoint.connect().await else { return false };
        let request = HealthCheckRequest { service: String::new() };
        matches!(HealthClient::new(channel).check(request).await,
            Ok(r) if r.get_ref().status == tonic_health::ServingStatus::Serving as i32)
    }
}

fn spawn(bin: &Path, args: &[&str], env: &[(String, String)], dir: &Path) -> anyhow::Result<Child> {
    let mut cmd = Command::new(bin);
    cmd.args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("DOAN__TELEMETRY__LOG_LEVEL", "warn");
    Ok(cmd.spawn()?)
}

/// Load through a gateway: GetUnit from 16 clients for `duration`; returns the peak RSS seen
/// of each pid while it runs.
async fn load(gateway: &str, pids: &[u32], duration: Duration) -> anyhow::Result<Vec<f64>> {
    let channel = Channel::from_shared(gateway.to_string())?.connect().await?;
    let mut client = MembershipServiceClient::new(channel);
    let token = client
        .login(mem::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into(), ..Default::default() })
        .await?
        .into_inner()
        .access_token;
    let unit = match client
        .create_unit(authed(
            &token,
            mem::CreateUnitRequest {
                parent_id: String::new(),
                name: "Trung ương Đoàn".into(),
                level: 1,
                ..Default::default()
            },
        ))
        .await
    {
        Ok(r) => r.into_inner().unit.unwrap().unit_id,
        Err(_) => anyhow::bail!("could not create the root unit"),
    };
    let peaks = std::sync::Arc::new(std::sync::Mutex::new(vec![0f64; pids.len()]));
    let (pids_owned, peaks_w) = (pids.to_vec(), peaks.clone());
    let sampler = tokio::spawn(async move {
        loop {
            for (i, pid) in pids_owned.iter().enumerate() {
                let rss = rss_mib(*pid);
                let mut p = peaks_w.lock().expect("peaks");
                p[i] = p[i].max(rss);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let _ = run_load(16, duration, move |_| {
        let mut c = client.clone();
        let req = authed(&token, mem::GetUnitRequest { unit_id: unit.clone() });
        async move { c.get_unit(req).await.map(|_| ()).map_err(anyhow::Error::from) }
    })
    .await;
    sampler.abort();
    let peak = peaks.lock().expect("peaks").clone();
    Ok(peak)
}

/// Runs the scenario.
pub async fn run(urls: &ServerUrls, duration: Duration) -> anyhow::Result<Table> {
    let bin = doan_binary();
    anyhow::ensure!(bin.exists(), "{} not found: build it with `cargo build --release -p doan`", bin.display());
    let mut table = Table::new(&["process", "mode", "start → SERVING ms", "idle RSS MiB", "peak RSS under load MiB"]);
    let dir = std::env::temp_dir().join(format!("doan-bench-{}", run_id()));
    std::fs::create_dir_all(&dir)?;
    let (private, public) = doan_platform::auth::generate_keypair()?;
    let pii = doan_platform::crypto::FieldCipher::generate_key();
    let mut env = vec![
        ("DOAN__AUTH__SIGNING_KEY_PEM".to_string(), private),
        ("DOAN__AUTH__VERIFYING_KEY_PEM".to_string(), public),
        ("DOAN__PII__ENCRYPTION_KEY".to_string(), pii),
        ("DOAN__AUTH__BOOTSTRAP_ADMIN_PASSWORD".to_string(), ADMIN_PASSWORD.to_string()),
        ("DOAN__GATEWAY__RATE_LIMIT_PER_MINUTE".to_string(), "0".to_string()),
    ];

    // Embedded: everything in one process.
    let mut all_env = env.clone();
    all_env.push(("DOAN__GATEWAY__LISTEN".into(), "127.0.0.1:18090".into()));
    all_env.push(("DOAN__EMBEDDED__DATA_DIR".into(), dir.join("data").display().to_string()));
    let started = Instant::now();
    let all = spawn(&bin, &["all"], &all_env, &dir)?;
    let ready = serving_after("http://127.0.0.1:18090", started).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = all.id().unwrap_or_default();
    let idle = rss_mib(pid);
    let loaded = load("http://127.0.0.1:18090", &[pid], duration).await?;
    table.row(vec![
        "doan all".into(),
        "embedded (SQLite, in-process bus)".into(),
        f(ready.as_secs_f64() * 1000.0, 0),
        f(idle, 1),
        f(loaded[0], 1),
    ]);
    drop(all);

    // One process per service on the real servers.
    let run = run_id();
    let admin = Database::connect(format!("{}/postgres", urls.postgres)).await?;
    let services = [("membership", 18091), ("activities", 18092), ("awards", 18093), ("notifications", 18094)];
    for (svc, port) in services {
        admin.execute_unprepared(&format!("CREATE DATABASE doan_bench_{run}_{svc}")).await?;
        let s = svc.to_uppercase();
        env.push((format!("DOAN__{s}__DATABASE_URL"), format!("{}/doan_bench_{run}_{svc}", urls.postgres)));
        env.push((format!("DOAN__{s}__LISTEN"), format!("127.0.0.1:{port}")));
        env.push((format!("DOAN__{s}__UPSTREAM"), format!("http://127.0.0.1:{port}")));
    }
    env.push(("DOAN__BROKER__URL".into(), urls.amqp.clone()));
    env.push(("DOAN__BROKER__EXCHANGE".into(), format!("doan.bench.{run}")));
    env.push(("DOAN__BROKER__QUEUE_PREFIX".into(), format!("doan.bench.{run}")));
    env.push(("DOAN__REDIS__URL".into(), urls.redis.clone()));
    env.push(("DOAN__GATEWAY__LISTEN".into(), "127.0.0.1:18095".into()));
    let mut children = Vec::new();
    let mut rows = Vec::new();
    for (svc, port) in services.iter().copied().chain([("gateway", 18095)]) {
        let started = Instant::now();
        let child = spawn(&bin, &[svc], &env, &dir)?;
        let ready = serving_after(&format!("http://127.0.0.1:{port}"), started).await?;
        rows.push((svc, ready));
        children.push(child);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pids: Vec<u32> = children.iter().map(|c| c.id().unwrap_or_default()).collect();
    let idle: Vec<f64> = pids.iter().map(|p| rss_mib(*p)).collect();
    let loaded = load("http://127.0.0.1:18095", &pids, duration).await?;
    for (i, (svc, ready)) in rows.into_iter().enumerate() {
        let mode = if svc == "gateway" { "own process (Redis)" } else { "own process (PostgreSQL, RabbitMQ)" };
        table.row(vec![svc.into(), mode.into(), f(ready.as_secs_f64() * 1000.0, 0), f(idle[i], 1), f(loaded[i], 1)]);
    }
    drop(children);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (svc, _) in services {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS doan_bench_{run}_{svc} WITH (FORCE)")).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(table)
}
