//! Retention of personal data, in both modes: a member removed (xóa tên) more than
//! `retention.removed_members_days` ago keeps their member number, unit, status and year of
//! birth, and loses their name, citizen ID, phone, email, ethnicity, religion, residence and the
//! history of those fields — in membership and in the other services' copies of the name. A
//! member removed more recently, and an active one, keep everything.

use std::time::Duration;

use chrono::Utc;
use doan_platform::clock::Clock;
use doan_proto::membership as mem;
use doan_tests::client::{Gateway, admission, authed, create_tree, officer};
use doan_tests::{ADMIN_PASSWORD, TestPlatform, base_settings, eventually, real_servers};
use sea_orm::ConnectionTrait;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(30);
const ANONYMOUS: &str = "Đoàn viên (đã ẩn danh)";

fn settings(s: &mut doan_platform::config::Settings) {
    s.retention.removed_members_days = 365;
    s.retention.interval_secs = 1;
    // Tokens outlive the year the clock is moved forward.
    s.auth.token_ttl_secs = 24 * 3600;
}

fn clock() -> Clock {
    Clock::fixed(Utc::now() - chrono::Duration::days(400))
}

/// The name awards' directory holds for `member_id`.
async fn awards_name(tp: &TestPlatform, member_id: &str) -> Option<String> {
    let db = tp.database("awards").await.ok()?;
    let st = doan_platform::db::statement(
        &db,
        "SELECT full_name FROM directory_members WHERE member_id = $1",
        vec![member_id.to_string().into()],
    );
    db.query_one_raw(st).await.ok()??.try_get("", "full_name").ok()
}

async fn retention(tp: &TestPlatform, clock: Clock) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", ADMIN_PASSWORD).await.unwrap();
    let tree = create_tree(&gw, &admin).await;
    let province = officer(&gw, &admin, &tree.province, "retention.province").await;
    let admit = |n: u32| {
        let clock = clock.clone();
        let mut m = gw.membership.clone();
        let mut request = admission(&tree.branch, n);
        request.religion = "Công giáo".into();
        let today = doan_platform::clock::vietnam_date(clock.now());
        request.admitted_on = (today - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        request.date_of_birth = (today - chrono::Duration::days(18 * 366)).format("%Y-%m-%d").to_string();
        let request = authed(&province, request);
        async move { m.admit_member(request).await.expect("admit").into_inner().member.unwrap() }
    };
    let (old, recent, active) = (admit(51).await, admit(52).await, admit(53).await);
    let old_citizen_id = admission(&tree.branch, 51).citizen_id;
    // The member has an account with their name on it.
    let today = doan_platform::clock::vietnam_date(clock.now());
    gw.membership
        .clone()
        .activate_member_account(mem::ActivateMemberAccountRequest {
            member_number: old.member_number.clone(),
            citizen_id: old_citizen_id.clone(),
            date_of_birth: (today - chrono::Duration::days(18 * 366)).format("%Y-%m-%d").to_string(),
            password: "Sen hồng nở giữa đầm 1975".into(),
        })
        .await
        .expect("the member activates their account");
    gw.membership
        .clone()
        .update_member(authed(
            &province,
            mem::UpdateMemberRequest {
                member_id: old.member_id.clone(),
                fields: vec!["phone".into(), "hometown".into()],
                phone: "0987000111".into(),
                profile: Some(mem::MemberProfile { hometown: "Kim Bảng, Hà Nam".into(), ..Default::default() }),
                expected_version: 1,
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("a personal change, kept in the history");
    let remove = |member_id: String| {
        let mut m = gw.membership.clone();
        let request = authed(
            &province,
            mem::RemoveMemberRequest {
                member_id, reason: "Tự nguyện ra khỏi Đoàn".into(), decided_on: String::new()
            },
        );
        async move { m.remove_member(request).await.expect("remove") }
    };
    remove(old.member_id.clone()).await;
    eventually("awards knows the member's name", WAIT, || async {
        (awards_name(tp, &old.member_id).await.as_deref() == Some(old.full_name.as_str())).then_some(())
    })
    .await;
    // 400 days on: the first removal is past the year kept, the second is new.
    clock.set(Utc::now());
    remove(recent.member_id.clone()).await;

    let get = |member_id: String| {
        let mut m = gw.membership.clone();
        let request = authed(
            &province,
            mem::GetMemberRequest {
                member_id,
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                ..Default::default()
            },
        );
        async move { m.get_member(request).await.expect("get").into_inner().member.unwrap() }
    };
    let gone = eventually("the member removed a year ago is anonymised", WAIT, || async {
        Some(get(old.member_id.clone()).await).filter(|m| m.full_name == ANONYMOUS)
    })
    .await;
    assert_eq!(gone.member_number, old.member_number, "the member number stays");
    assert_eq!(gone.status, mem::MemberStatus::Removed as i32);
    assert_eq!(
        (gone.citizen_id.as_str(), gone.phone.as_str(), gone.email.as_str()),
        ("", "", ""),
        "identifiers are gone"
    );
    assert_eq!((gone.ethnicity.as_str(), gone.religion.as_str()), ("", ""), "sensitive data is gone");
    assert_eq!(&gone.date_of_birth[..4], &old.date_of_birth[..4], "the year of birth stays");
    assert!(gone.date_of_birth.ends_with("-01-01"), "{}", gone.date_of_birth);
    assert_eq!(gone.profile.unwrap().hometown, "");
    let history = gw
        .membership
        .clone()
        .get_member_history(authed(
            &province,
            mem::GetMemberHistoryRequest {
                member_id: old.member_id.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("history")
        .into_inner()
        .changes;
    assert!(
        history.iter().all(|c| c.field != "phone" && c.field != "hometown"),
        "the history of what was emptied is gone: {history:?}"
    );
    // Nothing writes the data back.
    let refused = gw
        .membership
        .clone()
        .update_member(authed(
            &province,
            mem::UpdateMemberRequest {
                member_id: old.member_id.clone(),
                fields: vec!["phone".into()],
                phone: "0987000111".into(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    // The application and the account name go too.
    let db = tp.database("membership").await.unwrap();
    let st = doan_platform::db::statement(
        &db,
        "SELECT full_name FROM accounts WHERE member_id = $1",
        vec![old.member_id.clone().into()],
    );
    let account_name: String =
        db.query_one_raw(st).await.unwrap().expect("the account").try_get("", "full_name").unwrap();
    assert_eq!(account_name, ANONYMOUS, "the account keeps no name");
    eventually("the other services hold the anonymous name", WAIT, || async {
        (awards_name(tp, &old.member_id).await.as_deref() == Some(ANONYMOUS)).then_some(())
    })
    .await;

    // The recently removed and the active member keep everything.
    for m in [&recent, &active] {
        let kept = get(m.member_id.clone()).await;
        assert_eq!((kept.full_name.as_str(), kept.religion.as_str()), (m.full_name.as_str(), "Công giáo"));
    }
    // No one is found by the anonymised member's citizen ID any more.
    let found = gw
        .membership
        .clone()
        .search_members(authed(
            &province,
            mem::SearchMembersRequest {
                unit_id: tree.province.clone(),
                citizen_id: old_citizen_id,
                purpose_code: mem::AccessPurpose::IdentityVerification as i32,
                ..Default::default()
            },
        ))
        .await
        .expect("search")
        .into_inner()
        .members;
    assert!(found.is_empty(), "{found:?}");
    let again = gw
        .membership
        .clone()
        .get_member(authed(&province, mem::GetMemberRequest { member_id: old.member_id.clone(), ..Default::default() }))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::InvalidArgument, "reading still needs a purpose");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_members_are_anonymised_after_the_retention_period_embedded() {
    let clock = clock();
    let mut s = base_settings();
    settings(&mut s);
    let tp = TestPlatform::embedded_at(s, &[], clock.clone()).await.expect("start");
    retention(&tp, clock).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_members_are_anonymised_after_the_retention_period_on_the_real_servers() {
    let Some(urls) =
        real_servers("removed_members_are_anonymised_after_the_retention_period_on_the_real_servers").await
    else {
        return;
    };
    let clock = clock();
    let tp = TestPlatform::servers_at(urls, clock.clone(), settings).await.expect("start");
    retention(&tp, clock).await;
    tp.stop().await.expect("stop");
}
