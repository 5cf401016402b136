//! Time and rules are inputs: Vietnam dates at any hour, the admission and award rules in
//! force on the decision's date (compiled in, or a deployment's own files), back-dating only
//! by a supervising officer, admissions decided at grassroots level, one root unit however
//! many try, and every read of personal data logged with the RPC and a purpose.

use chrono::{DateTime, Days, NaiveDate, Utc};
use doan_platform::clock::Clock;
use doan_proto::awards as aw;
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, admission, authed, create_unit, individual_award, officer, until_known};
use doan_tests::{TestPlatform, base_settings};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

fn dated(branch: &str, n: u32, admitted_on: NaiveDate) -> mem::AdmitMemberRequest {
    let mut r = admission(branch, n);
    r.admitted_on = admitted_on.format("%Y-%m-%d").to_string();
    r.date_of_birth = (admitted_on - Days::new(20 * 365)).format("%Y-%m-%d").to_string();
    r
}

struct Tree {
    province: String,
    district: String,
    grassroots: String,
    branch: String,
}

async fn tree(gw: &Gateway, admin: &str) -> Tree {
    let root = create_unit(gw, admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(gw, admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let district = create_unit(gw, admin, &province, "Quận đoàn Hoàn Kiếm", District).await;
    let grassroots = create_unit(gw, admin, &district, "Đoàn phường Hàng Bạc", Grassroots).await;
    let branch = create_unit(gw, admin, &grassroots, "Chi đoàn khu phố 1", Branch).await;
    Tree { province, district, grassroots, branch }
}

async fn access_log(tp: &TestPlatform, member_id: &str) -> Vec<(String, String)> {
    let db = tp.database("membership").await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT rpc, purpose FROM pii_access_log WHERE member_id = ? ORDER BY id",
            [member_id.into()],
        ))
        .await
        .unwrap();
    rows.iter().map(|r| (r.try_get("", "rpc").unwrap(), r.try_get("", "purpose").unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vietnam_dates_rules_in_force_and_admission_authority() {
    // 01:00 on 24 November in Hà Nội; still the 23rd in UTC.
    let clock = Clock::fixed(at("2026-11-23T18:00:00Z"));
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let tp = TestPlatform::embedded_at(base_settings(), &[], clock).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let t = tree(&gw, &admin).await;
    let branch_officer = officer(&gw, &admin, &t.branch, "bt.chidoan").await;
    let grassroots_officer = officer(&gw, &admin, &t.grassroots, "bt.phuong").await;
    let district_officer = officer(&gw, &admin, &t.district, "bt.quan").await;
    let m = || gw.membership.clone();

    // Today in Vietnam is today, at 01:00 too.
    let admitted = m()
        .admit_member(authed(&grassroots_officer, dated(&t.branch, 1, today)))
        .await
        .expect("an admission dated today (Vietnam) is accepted at 01:00")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(admitted.admission_rule, "charter-12", "the decision records the rule version");
    let future = m().admit_member(authed(&grassroots_officer, dated(&t.branch, 2, today + Days::new(1)))).await;
    let status = future.expect_err("tomorrow is refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("2026-11-24 in Vietnam"), "{status:?}");

    // A branch officer proposes; the grassroots unit decides.
    let proposal = m().admit_member(authed(&branch_officer, dated(&t.branch, 3, today))).await;
    assert_eq!(proposal.expect_err("a branch officer cannot admit").code(), Code::PermissionDenied);

    // Back-dating beyond 90 days needs an officer above the deciding unit.
    let back = today - Days::new(120);
    let deep = m().admit_member(authed(&grassroots_officer, dated(&t.branch, 4, back))).await;
    assert_eq!(deep.expect_err("too far back for the deciding unit").code(), Code::PermissionDenied);
    let supervised = m().admit_member(authed(&district_officer, dated(&t.branch, 4, back))).await;
    assert!(supervised.is_ok(), "a district officer supervises: {supervised:?}");
    // The age rule applies on the admission date, not today.
    let mut young = dated(&t.branch, 5, back);
    young.date_of_birth = (back - Days::new(15 * 365)).format("%Y-%m-%d").to_string();
    let refused = m().admit_member(authed(&district_officer, young)).await.expect_err("too young on admitted_on");
    assert!(refused.message().contains("date_of_birth"), "{refused:?}");

    // A chi đoàn cơ sở holds members and its own officers admit.
    let cdcs = create_unit(&gw, &admin, &t.district, "Chi đoàn cơ sở Công ty Điện lực", GrassrootsBranch).await;
    let cdcs_officer = officer(&gw, &admin, &cdcs, "bt.dienluc").await;
    let own = m().admit_member(authed(&cdcs_officer, dated(&cdcs, 6, today))).await;
    assert!(own.is_ok(), "{own:?}");
    let nested = m()
        .create_unit(authed(
            &admin,
            mem::CreateUnitRequest { parent_id: cdcs.clone(), name: "Tổ 1".into(), level: 5, ..Default::default() },
        ))
        .await;
    assert_eq!(nested.expect_err("a chi đoàn cơ sở has no child units").code(), Code::FailedPrecondition);

    // Personal data: the admission's response is logged; an officer's read states a purpose.
    assert_eq!(
        access_log(&tp, &admitted.member_id).await,
        [("AdmitMember".to_string(), "admission record returned to the admitting officer".to_string())]
    );
    let no_purpose = m()
        .get_member(authed(
            &grassroots_officer,
            mem::GetMemberRequest { member_id: admitted.member_id.clone(), ..Default::default() },
        ))
        .await
        .expect_err("an officer says why");
    assert!(no_purpose.message().contains("purpose"), "{no_purpose:?}");
    m().get_member(authed(
        &grassroots_officer,
        mem::GetMemberRequest {
            member_id: admitted.member_id.clone(),
            purpose_code: mem::AccessPurpose::Admission as i32,
            purpose: "xét kết nạp Đảng".into(),
        },
    ))
    .await
    .expect("read with a purpose");
    assert_eq!(
        access_log(&tp, &admitted.member_id).await.last().unwrap(),
        &("GetMember".into(), "admission: xét kết nạp Đảng".into()),
        "the purpose from the fixed list, then the note"
    );
    m().get_member(authed(
        &grassroots_officer,
        mem::GetMemberRequest {
            member_id: admitted.member_id.clone(),
            purpose_code: mem::AccessPurpose::IdentityVerification as i32,
            ..Default::default()
        },
    ))
    .await
    .expect("a purpose needs no note");
    assert_eq!(
        access_log(&tp, &admitted.member_id).await.last().unwrap(),
        &("GetMember".into(), "identity_verification".into())
    );

    // Awards: the authority in force on the decision date; a province issues no Giấy khen.
    let province_officer = officer(&gw, &admin, &t.province, "bt.thanhdoan").await;
    let mut commendation = individual_award("12-QĐ/TĐTN", &admitted.member_id);
    commendation.form = aw::AwardForm::CertificateOfCommendation as i32;
    commendation.decision_date = today.format("%Y-%m-%d").to_string();
    let status = until_known("awards learns the member", || {
        let mut client = gw.awards.clone();
        let request = authed(&province_officer, commendation.clone());
        async move {
            match client.record_award_decision(request).await {
                Err(s) if s.code() == Code::NotFound => Err(s),
                other => Ok(tonic::Response::new(other)),
            }
        }
    })
    .await;
    assert_eq!(status.expect_err("not the province's form").code(), Code::FailedPrecondition);
    let mut merit = individual_award("13-QĐ/TĐTN", &admitted.member_id);
    merit.decision_date = today.format("%Y-%m-%d").to_string();
    let recorded = gw.awards.clone().record_award_decision(authed(&province_officer, merit)).await.expect("merit");
    assert_eq!(recorded.into_inner().decision.unwrap().award_rule, "awards-2022");
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_root_however_many_try_at_once() {
    let tp = TestPlatform::embedded().await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (mut client, admin) = (gw.membership.clone(), admin.clone());
        tries.spawn(async move {
            let request = mem::CreateUnitRequest {
                parent_id: String::new(),
                name: format!("Gốc {i}"),
                level: 1,
                ..Default::default()
            };
            client.create_unit(authed(&admin, request)).await.map(|_| ()).map_err(|s| s.code())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = tries.join_next().await {
        outcomes.push(r.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|r| r.is_ok() || *r == Err(Code::FailedPrecondition)), "{outcomes:?}");
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_replaces_a_rule_file_and_a_broken_one_stops_start_up() {
    let dir = std::env::temp_dir().join(format!("doan-rules-{}", doan_tests::run_id()));
    std::fs::create_dir_all(&dir).unwrap();
    // This deployment lets the deciding unit record admissions up to a year back.
    let admission = include_str!("../../rules/admission.toml").replace("backdate_days = 90", "backdate_days = 365");
    std::fs::write(dir.join("admission.toml"), admission).unwrap();
    let mut settings = base_settings();
    settings.rules.dir = Some(dir.clone());
    let tp = TestPlatform::embedded_with(settings.clone()).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let t = tree(&gw, &admin).await;
    let grassroots_officer = officer(&gw, &admin, &t.grassroots, "bt.rules").await;
    let today = doan_platform::clock::vietnam_date(Utc::now());
    let back = gw
        .membership
        .clone()
        .admit_member(authed(&grassroots_officer, dated(&t.branch, 1, today - Days::new(200))))
        .await;
    assert!(back.is_ok(), "the deployment's window applies: {back:?}");
    tp.stop().await.expect("stop");

    std::fs::write(dir.join("awards.toml"), "[[version]]\nid = \"x\"\nvalid_from = \"2020-01-01\"\nsource = \"s\"\n")
        .unwrap();
    let err = match TestPlatform::embedded_with(settings).await {
        Ok(_) => panic!("a broken rule file must stop start-up"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("awards.toml"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
