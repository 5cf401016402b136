//! The Helm chart cannot drift from the binary: every process is started as its own OS
//! process with exactly the args and environment the chart renders (exported by
//! `helm/validate.py --export-processes`), Secrets filled with local values and service
//! host names pointed at loopback, and the member journey runs through that gateway.
//!
//! Needs the export (`DOAN_CHART_PROCESSES`, set by .ci/run) and the real servers. Only the
//! broker exchange, queue prefix and Redis prefix are replaced, to isolate this run.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use doan_tests::client::{check_access_rules, journey};
use doan_tests::{ADMIN_PASSWORD, ServerUrls, eventually, real_servers, run_id};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio::process::{Child, Command};

fn skip(reason: &str) {
    use std::io::Write;
    if std::env::var("DOAN_REQUIRE_SERVERS").as_deref() == Ok("1") && std::env::var("DOAN_CHART_PROCESSES").is_ok() {
        panic!("chart_processes: {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED (chart processes): {reason}");
}

/// The value of a Secret key the chart references, for this run; `None` for the optional keys
/// a fresh install's Secrets leave out (`previous-keys` before the first key rotation).
fn secret(name: &str, key: &str, urls: &ServerUrls, run: &str, keys: &(String, String, String)) -> Option<String> {
    Some(match (name, key) {
        ("doan-databases", svc) => format!("{}/doan_test_{run}_{svc}", urls.postgres),
        ("doan-broker", "url") => urls.amqp.clone(),
        ("doan-redis", "url") => urls.redis.clone(),
        ("doan-auth", "signing-key.pem") => keys.0.clone(),
        ("doan-auth", "verifying-key.pem") => keys.1.clone(),
        ("doan-auth", "bootstrap-admin-password") => ADMIN_PASSWORD.into(),
        ("doan-pii", "encryption-key") => keys.2.clone(),
        ("doan-attendance", "code-key") => keys.2.clone(),
        ("doan-credentials", "key") => keys.2.clone(),
        ("doan-pii", "previous-keys") => return None,
        other => panic!("the chart references a Secret key this test does not know: {other:?}"),
    })
}

/// `http://doan-<service>:<port>` (a Kubernetes Service) becomes `http://127.0.0.1:<port>`.
fn loopback(value: &str) -> String {
    match (value.strip_prefix("http://doan-"), value.rsplit_once(':')) {
        (Some(_), Some((_, port))) => format!("http://127.0.0.1:{port}"),
        _ => value.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chart_rendered_processes_run_the_journey() {
    let Ok(export) = std::env::var("DOAN_CHART_PROCESSES") else {
        return skip("DOAN_CHART_PROCESSES is not set (run `python helm/validate.py --export-processes FILE`)");
    };
    let Some(urls) = real_servers("chart_rendered_processes_run_the_journey").await else { return };
    let bin = std::env::var("DOAN_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug/doan").to_string());
    let processes: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&export).expect("read export")).expect("export is JSON");
    assert_eq!(processes.len(), 5, "four services and the gateway");

    let run = run_id();
    let admin = Database::connect(format!("{}/postgres", urls.postgres)).await.expect("postgres");
    for svc in ["membership", "activities", "awards", "notifications"] {
        admin.execute_unprepared(&format!("CREATE DATABASE doan_test_{run}_{svc}")).await.expect("create db");
    }
    let (private, public) = doan_platform::auth::generate_keypair().unwrap();
    let keys = (private, public, doan_platform::crypto::FieldCipher::generate_key());

    let mut children: Vec<Child> = Vec::new();
    let mut gateway_port = 0;
    // Services first, the gateway last, as the Deployments would settle.
    let order = ["membership", "activities", "awards", "notifications", "gateway"];
    for name in order {
        let p = &processes[name];
        let mut cmd = Command::new(&bin);
        cmd.args(p["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()));
        cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        for e in p["env"].as_array().unwrap() {
            let var = e["name"].as_str().unwrap();
            let value = match (&e["value"], &e["secret"]) {
                (Value::String(v), _) => loopback(v),
                (_, Value::Object(s)) => {
                    match secret(s["name"].as_str().unwrap(), s["key"].as_str().unwrap(), &urls, &run, &keys) {
                        Some(v) => v,
                        None => continue,
                    }
                }
                other => panic!("{var}: neither value nor secret: {other:?}"),
            };
            cmd.env(var, value);
        }
        cmd.env("DOAN__BROKER__EXCHANGE", format!("doan.test.{run}"))
            .env("DOAN__BROKER__QUEUE_PREFIX", format!("doan.test.{run}"))
            .env("DOAN__REDIS__KEY_PREFIX", format!("doan-test-{run}"))
            .env("DOAN__TELEMETRY__LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        children.push(cmd.spawn().unwrap_or_else(|e| panic!("start {bin} {name}: {e}")));
        let port = p["port"].as_u64().unwrap();
        if name == "gateway" {
            gateway_port = port;
        }
        let addr = format!("127.0.0.1:{port}");
        eventually(&format!("{name} listens on {addr}"), Duration::from_secs(30), || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await;
    }
    let gateway: std::net::SocketAddr = format!("127.0.0.1:{gateway_port}").parse().unwrap();
    let j = journey(gateway).await;
    check_access_rules(&j).await;

    for mut child in children {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    for svc in ["membership", "activities", "awards", "notifications"] {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS doan_test_{run}_{svc} WITH (FORCE)")).await;
    }
}
