//! New passwords are checked against breached-password lists without the network, in both
//! modes: the shipped list (common passwords, keyboard runs, Vietnamese favourites) and the
//! operator's Pwned Passwords range file. A refused password names the field and changes
//! nothing: the account is not activated, the officer not appointed.

use doan_proto::membership as mem;
use doan_tests::client::{Gateway, admission, authed, create_tree};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, real_servers, run_id};
use tonic::Code;

/// A password only the operator's list holds.
const OPERATORS_OWN: &str = "Hoa phượng đỏ sân trường 2026";

/// The operator's range file: uppercase SHA-1 and a count per line, sorted.
fn operator_file() -> std::path::PathBuf {
    use sha1::Digest;
    let mut lines: Vec<String> = ["leaked one here", OPERATORS_OWN, "another leaked one"]
        .iter()
        .map(|p| {
            let hex: String = sha1::Sha1::digest(p.as_bytes()).iter().map(|b| format!("{b:02X}")).collect();
            format!("{hex}:3")
        })
        .collect();
    lines.sort();
    let path = std::env::temp_dir().join(format!("doan-pwned-{}.txt", run_id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn refused_as_breached(r: Result<impl std::fmt::Debug, tonic::Status>) {
    let status = r.expect_err("a breached password is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("invalid password:") && status.message().contains("breached"), "{status:?}");
}

async fn passwords(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let appoint = |password: &str| {
        let mut m = gw.membership.clone();
        let request = authed(
            &admin,
            mem::AppointOfficerRequest {
                unit_id: tree.province.clone(),
                username: "bt.tinhdoan".into(),
                full_name: "Lê Văn Bí Thư".into(),
                password: password.into(),
                kind: mem::PositionKind::Secretary as i32,
                ..Default::default()
            },
        );
        async move { m.appoint_officer(request).await }
    };
    for weak in ["Matkhau@123", "1q2w3e4r5t", "qwertyuiop", OPERATORS_OWN] {
        refused_as_breached(appoint(weak).await);
    }
    assert!(gw.login("bt.tinhdoan", "Matkhau@123").await.is_err(), "no officer was appointed");
    appoint("Sen hồng nở giữa đầm 1975").await.expect("a password in no list");
    gw.login("bt.tinhdoan", "Sen hồng nở giữa đầm 1975").await.expect("the officer logs in");

    // A member activating their account.
    let request = admission(&tree.branch, 41);
    let (citizen_id, date_of_birth) = (request.citizen_id.clone(), request.date_of_birth.clone());
    let member =
        gw.membership.clone().admit_member(authed(&admin, request)).await.unwrap().into_inner().member.unwrap();
    let activate = |password: &str| {
        let mut m = gw.membership.clone();
        let request = mem::ActivateMemberAccountRequest {
            member_number: member.member_number.clone(),
            citizen_id: citizen_id.clone(),
            date_of_birth: date_of_birth.clone(),
            password: password.into(),
        };
        async move { m.activate_member_account(request).await }
    };
    refused_as_breached(activate("anhyeuem123").await);
    assert!(gw.login(&member.member_number, "anhyeuem123").await.is_err(), "not activated");
    activate("Trăng rằm tháng tám 2008").await.expect("activates with a password in no list");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breached_passwords_are_refused_embedded() {
    let mut settings = base_settings();
    settings.auth.breached_passwords_file = Some(operator_file());
    let tp = TestPlatform::embedded_with(settings).await.expect("start");
    passwords(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breached_passwords_are_refused_on_the_real_servers() {
    let Some(urls) = real_servers("breached_passwords_are_refused_on_the_real_servers").await else { return };
    let run = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &run).await.expect("settings");
    settings.auth.breached_passwords_file = Some(operator_file());
    let tp = TestPlatform::servers_with(urls, run, settings).await.expect("start");
    passwords(&tp).await;
    tp.stop().await.expect("stop");
}

#[test]
fn a_broken_list_stops_the_start() {
    let path = std::env::temp_dir().join(format!("doan-not-pwned-{}.txt", run_id()));
    std::fs::write(&path, "these are not hashes\n").unwrap();
    assert!(doan_platform::passwords::BreachedPasswords::open(Some(&path)).is_err());
}
