//! The platform as separate OS processes of the `doan` binary (the Kubernetes shape), for
//! tests that kill one with SIGKILL and start it again.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use doan_platform::config::Settings;
use secrecy::ExposeSecret;
use tokio::process::{Child, Command};

use crate::eventually;

/// The `doan` binary: `DOAN_BIN`, or the workspace's debug build.
pub fn doan_bin() -> Option<String> {
    let bin = std::env::var("DOAN_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug/doan").to_string());
    std::path::Path::new(&bin).exists().then_some(bin)
}

/// Running processes: the four services and the gateway.
pub struct Processes {
    bin: String,
    env: BTreeMap<&'static str, Vec<(String, String)>>,
    ports: BTreeMap<&'static str, u16>,
    children: BTreeMap<&'static str, Child>,
}

/// The processes, services first.
pub const PROCESSES: [&str; 5] = ["membership", "activities", "awards", "notifications", "gateway"];

async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr").port()
}

impl Processes {
    /// Starts every process of `settings` (real servers) on fresh loopback ports.
    pub async fn start(bin: String, settings: &Settings) -> Self {
        let mut ports = BTreeMap::new();
        for name in PROCESSES {
            ports.insert(name, free_port().await);
        }
        let mut common = vec![
            ("DOAN__BROKER__URL".to_string(), settings.broker.url.expose_secret().to_string()),
            ("DOAN__BROKER__EXCHANGE".into(), settings.broker.exchange.clone()),
            ("DOAN__BROKER__QUEUE_PREFIX".into(), settings.broker.queue_prefix.clone()),
            ("DOAN__BROKER__RETRY_BASE_MS".into(), settings.broker.retry_base_ms.to_string()),
            ("DOAN__REDIS__URL".into(), settings.redis.url.expose_secret().to_string()),
            ("DOAN__REDIS__KEY_PREFIX".into(), settings.redis.key_prefix.clone()),
            ("DOAN__AUTH__VERIFYING_KEY_PEM".into(), settings.auth.verifying_key_pem.clone().unwrap_or_default()),
            ("DOAN__TELEMETRY__LOG_LEVEL".into(), "warn".into()),
            ("DOAN__JOBS__BATCH_SIZE".into(), settings.jobs.batch_size.to_string()),
            ("DOAN__JOBS__BATCH_PAUSE_MS".into(), settings.jobs.batch_pause_ms.to_string()),
            ("DOAN__JOBS__LEASE_SECS".into(), settings.jobs.lease_secs.to_string()),
            ("DOAN__JOBS__REMINDERS_EVERY_SECS".into(), settings.jobs.reminders_every_secs.to_string()),
            ("DOAN__TELEMETRY__LOG_FORMAT".into(), "text".into()),
        ];
        for svc in &PROCESSES[..4] {
            let own = settings.service(svc).expect("service");
            let upper = svc.to_uppercase();
            common.push((format!("DOAN__{upper}__UPSTREAM"), format!("http://127.0.0.1:{}", ports[svc])));
            common.push((format!("DOAN__{upper}__DATABASE_URL"), own.database_url.expose_secret().to_string()));
            common.push((format!("DOAN__{upper}__LISTEN"), format!("127.0.0.1:{}", ports[svc])));
        }
        common.push(("DOAN__GATEWAY__LISTEN".into(), format!("127.0.0.1:{}", ports["gateway"])));
        let mut env = BTreeMap::new();
        for name in PROCESSES {
            let mut vars = common.clone();
            if name == "membership" {
                let auth = &settings.auth;
                vars.push((
                    "DOAN__AUTH__SIGNING_KEY_PEM".into(),
                    auth.signing_key_pem.as_ref().expect("key").expose_secret().to_string(),
                ));
                vars.push((
                    "DOAN__AUTH__BOOTSTRAP_ADMIN_PASSWORD".into(),
                    auth.bootstrap_admin_password.as_ref().expect("password").expose_secret().to_string(),
                ));
                vars.push((
                    "DOAN__PII__ENCRYPTION_KEY".into(),
                    settings.pii.encryption_key.as_ref().expect("key").expose_secret().to_string(),
                ));
            }
            if name == "awards" {
                vars.push((
                    "DOAN__CREDENTIALS__KEY".into(),
                    settings.credentials.key.as_ref().expect("key").expose_secret().to_string(),
                ));
            }
            if name == "activities" {
                vars.push((
                    "DOAN__ATTENDANCE__CODE_KEY".into(),
                    settings.attendance.code_key.as_ref().expect("key").expose_secret().to_string(),
                ));
            }
            env.insert(name, vars);
        }
        let mut processes = Self { bin, env, ports, children: BTreeMap::new() };
        for name in PROCESSES {
            processes.spawn(name).await;
        }
        processes
    }

    /// The gateway's address.
    pub fn gateway(&self) -> std::net::SocketAddr {
        format!("127.0.0.1:{}", self.ports["gateway"]).parse().expect("addr")
    }

    async fn spawn(&mut self, name: &'static str) {
        let mut cmd = Command::new(&self.bin);
        cmd.arg(name)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env[name].iter().cloned())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {} {name}: {e}", self.bin));
        self.children.insert(name, child);
        let addr = format!("127.0.0.1:{}", self.ports[name]);
        eventually(&format!("{name} listens on {addr}"), Duration::from_secs(30), || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()) }
        })
        .await;
    }

    /// Kills `name` with SIGKILL (no shutdown of any kind) and waits until it is gone.
    pub async fn kill(&mut self, name: &'static str) {
        if let Some(mut child) = self.children.remove(name) {
            child.start_kill().expect("SIGKILL");
            let _ = child.wait().await;
        }
    }

    /// Starts `name` again after [`Processes::kill`].
    pub async fn restart(&mut self, name: &'static str) {
        self.spawn(name).await;
    }

    /// Stops everything.
    pub async fn stop(mut self) {
        for name in PROCESSES.iter().rev() {
            self.kill(name).await;
        }
    }
}
