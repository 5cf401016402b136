//! Steady load for fault tests: admissions and check-ins at a fixed pace through the gateway,
//! recording which the platform acknowledged. Calls that fail (the fault) are counted, not
//! retried: only acknowledged operations must have their effects.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doan_platform::config::Settings;
use doan_proto::activities as act;

use crate::client::{Gateway, admission, authed, create_tree, member_login, officer, open_activity};

/// Who and what the load acts on.
pub struct LoadSetup {
    /// Gateway clients.
    pub gw: Gateway,
    /// An officer of the branch's province.
    pub officer: String,
    /// The branch members are admitted to.
    pub branch: String,
    /// The activity members check in to.
    pub activity_id: String,
    /// Members (id, token) who will check in, one check-in each.
    pub members: Vec<(String, String)>,
}

/// What the platform acknowledged under load.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    /// Member ids of acknowledged admissions.
    pub admitted: Vec<String>,
    /// Member ids of acknowledged check-ins.
    pub checked_in: Vec<String>,
    /// Failed calls by gRPC code.
    pub failures: BTreeMap<String, usize>,
}

impl LoadResult {
    /// One line for reports.
    pub fn summary(&self) -> String {
        format!(
            "{} admissions and {} check-ins acknowledged; failed calls: {:?}",
            self.admitted.len(),
            self.checked_in.len(),
            self.failures
        )
    }
}

/// A tree, an officer, `members` members with tokens, and an activity they all can see.
pub async fn prepare(settings: &Settings, gateway: std::net::SocketAddr, members: u32, tag: &str) -> LoadSetup {
    let gw = Gateway::connect(gateway).await.expect("connect");
    let admin = gw.login("admin", crate::ADMIN_PASSWORD).await.expect("admin logs in");
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, &format!("load.{tag}")).await;
    let mut list = Vec::new();
    for n in 0..members {
        list.push(member_login(&gw, &officer, &tree.branch, 9000 + n).await);
    }
    let activity = open_activity(&gw, &officer, &tree.province, "Tiếp sức mùa thi", 3).await;
    // Every member is known to activities and awards before the load starts.
    let ids: Vec<String> = list.iter().map(|(id, _)| id.clone()).collect();
    let tally =
        crate::effects::settle_in(settings, &crate::effects::ADMISSION_EFFECTS, &ids, Duration::from_secs(30)).await;
    assert!(tally.is_exact(), "set-up admissions: {}", tally.report());
    LoadSetup { gw, officer, branch: tree.branch, activity_id: activity.activity_id, members: list }
}

/// Runs the load for `duration`: an admission every `admit_every`, a check-in (by the next
/// member, while members last) every `check_in_every`. Each call has a 5 s deadline.
pub async fn run(setup: &LoadSetup, duration: Duration, admit_every: Duration, check_in_every: Duration) -> LoadResult {
    let result = Arc::new(Mutex::new(LoadResult::default()));
    let mut calls = tokio::task::JoinSet::new();
    let start = tokio::time::Instant::now();
    let mut admit_tick = tokio::time::interval(admit_every);
    let mut check_in_tick = tokio::time::interval(check_in_every);
    let (mut n, mut next_member) = (0u32, 0usize);
    let fail = |result: &Arc<Mutex<LoadResult>>, status: tonic::Status| {
        *result.lock().expect("load result").failures.entry(format!("{:?}", status.code())).or_default() += 1;
    };
    while start.elapsed() < duration {
        tokio::select! {
            _ = admit_tick.tick() => {
                n += 1;
                let mut request = authed(&setup.officer, admission(&setup.branch, 20_000 + n));
                request.set_timeout(Duration::from_secs(5));
                let (mut client, result) = (setup.gw.membership.clone(), result.clone());
                calls.spawn(async move {
                    match client.admit_member(request).await {
                        Ok(r) => {
                            let id = r.into_inner().member.expect("member").member_id;
                            result.lock().expect("load result").admitted.push(id);
                        }
                        Err(status) => fail(&result, status),
                    }
                });
            }
            _ = check_in_tick.tick() => {
                let Some((member_id, token)) = setup.members.get(next_member).cloned() else { continue };
                next_member += 1;
                let mut request = authed(&token, act::CheckInRequest { activity_id: setup.activity_id.clone(), ..Default::default() });
                request.set_timeout(Duration::from_secs(5));
                let (mut client, result) = (setup.gw.activities.clone(), result.clone());
                calls.spawn(async move {
                    match client.check_in(request).await {
                        Ok(_) => result.lock().expect("load result").checked_in.push(member_id),
                        Err(status) => fail(&result, status),
                    }
                });
            }
        }
    }
    while calls.join_next().await.is_some() {}
    result.lock().expect("load result").clone()
}
