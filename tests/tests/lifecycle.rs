//! A member's life after admission and the officers who run it, through the gateway in both
//! modes: positions per unit and term give (and end) access; removal, discipline, Party
//! admission and the monthly age-out proposals; live statistics of a subtree; every status
//! change reaches every read model.

use std::time::Duration;

use chrono::{Days, Months, Utc};
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, admission, authed, create_unit};
use doan_tests::effects::directories_converge;
use doan_tests::real_servers;
use tonic::Code;

fn vietnam_today() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(7)).date_naive()
}

async fn appoint(gw: &Gateway, by: &str, r: mem::AppointOfficerRequest) -> mem::Account {
    gw.membership
        .clone()
        .appoint_officer(authed(by, r))
        .await
        .unwrap_or_else(|s| panic!("appoint: {s:?}"))
        .into_inner()
        .account
        .expect("account")
}

async fn login(gw: &Gateway, username: &str, unit: &str) -> Result<mem::LoginResponse, tonic::Status> {
    gw.membership
        .clone()
        .login(mem::LoginRequest {
            username: username.into(),
            password: "officer-password-1".into(),
            unit_id: unit.into(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn admit(gw: &Gateway, token: &str, request: mem::AdmitMemberRequest) -> mem::Member {
    gw.membership
        .clone()
        .admit_member(authed(token, request))
        .await
        .unwrap_or_else(|s| panic!("admit: {s:?}"))
        .into_inner()
        .member
        .expect("member")
}

async fn member(gw: &Gateway, token: &str, id: &str) -> mem::Member {
    gw.membership
        .clone()
        .get_member(authed(
            token,
            mem::GetMemberRequest {
                member_id: id.into(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "kiểm tra hồ sơ".into(),
            },
        ))
        .await
        .expect("get member")
        .into_inner()
        .member
        .expect("member")
}

async fn statistics(gw: &Gateway, token: &str, unit: &str) -> mem::GetUnitStatisticsResponse {
    gw.membership
        .clone()
        .get_unit_statistics(authed(token, mem::GetUnitStatisticsRequest { unit_id: unit.into(), year: 0 }))
        .await
        .expect("statistics")
        .into_inner()
}

async fn lifecycle(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Lâm Đồng", Provincial).await;
    let other_province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Đắk Lắk", Provincial).await;
    let school = create_unit(&gw, &admin, &province, "Đoàn trường Đại học Đà Lạt", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn K46 Sinh học", Branch).await;
    let today = vietnam_today();
    let yesterday = today.pred_opt().unwrap().to_string();

    // Positions: the school's secretary since yesterday for the 2022-2027 term, also on the
    // province's executive committee.
    let secretary = appoint(
        &gw,
        &admin,
        mem::AppointOfficerRequest {
            unit_id: school.clone(),
            username: "bithu.dalat".into(),
            full_name: "Lê Thị Hoa".into(),
            password: "officer-password-1".into(),
            kind: mem::PositionKind::Secretary as i32,
            term: "2022-2027".into(),
            starts_on: yesterday.clone(),
            ..Default::default()
        },
    )
    .await;
    let at_school = login(&gw, "bithu.dalat", "").await.expect("login");
    assert_eq!(at_school.account.as_ref().unwrap().unit_id, school);
    let committee = gw
        .membership
        .clone()
        .assign_position(authed(
            &admin,
            mem::AssignPositionRequest {
                unit_id: province.clone(),
                account_id: secretary.account_id.clone(),
                kind: mem::PositionKind::ExecutiveCommitteeMember as i32,
                term: "2025-2030".into(),
                ends_on: today.to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect("assign")
        .into_inner()
        .position
        .expect("position");
    assert!(committee.in_force);
    let at_province = login(&gw, "bithu.dalat", "").await.expect("login");
    assert_eq!(at_province.account.as_ref().unwrap().unit_id, province, "the highest unit by default");
    // The province position ends today: the token ends at midnight in Vietnam.
    let midnight = (today + Days::new(1)).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - 7 * 3600;
    assert!(at_province.expires_at.unwrap().seconds <= midnight, "token outlives the position");
    let chosen = login(&gw, "bithu.dalat", &school).await.expect("login for the school");
    assert_eq!(chosen.account.unwrap().unit_id, school);
    let nowhere = login(&gw, "bithu.dalat", &other_province).await.expect_err("no position there");
    assert_eq!(nowhere.code(), Code::PermissionDenied);
    let token = chosen.access_token;

    // Invalid positions.
    let bad = gw
        .membership
        .clone()
        .assign_position(authed(
            &admin,
            mem::AssignPositionRequest {
                unit_id: school.clone(),
                account_id: secretary.account_id.clone(),
                kind: mem::PositionKind::Secretary as i32,
                starts_on: today.to_string(),
                ends_on: yesterday.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("ends_on"), "{}", bad.message());

    // A branch officer (a member of the branch, age 30 today) proposes; the school decides.
    let thirty = today.checked_sub_months(Months::new(12 * 30)).unwrap();
    let mut in_post = admission(&branch, 500);
    in_post.date_of_birth = thirty.to_string();
    let in_post = admit(&gw, &token, in_post).await;
    appoint(
        &gw,
        &token,
        mem::AppointOfficerRequest {
            unit_id: branch.clone(),
            username: "bithu.k46".into(),
            full_name: "Phạm Văn Nam".into(),
            password: "officer-password-1".into(),
            kind: mem::PositionKind::Secretary as i32,
            member_id: in_post.member_id.clone(),
            ..Default::default()
        },
    )
    .await;
    let branch_officer = login(&gw, "bithu.k46", "").await.expect("branch officer").access_token;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(admit(&gw, &token, admission(&branch, 510 + n)).await.member_id);
    }
    let mut due = admission(&branch, 520);
    due.date_of_birth = thirty.to_string();
    let due = admit(&gw, &token, due).await.member_id;

    // Removal.
    let remove = |id: &str, reason: &str, on: &str| mem::RemoveMemberRequest {
        member_id: id.into(),
        reason: reason.into(),
        decided_on: on.into(),
    };
    let proposes = gw
        .membership
        .clone()
        .remove_member(authed(&branch_officer, remove(&ids[0], "Bỏ sinh hoạt 6 tháng", "")))
        .await
        .unwrap_err();
    assert_eq!(proposes.code(), Code::PermissionDenied, "{proposes:?}");
    for (request, field) in [
        (remove(&ids[0], "", ""), "reason"),
        (remove(&ids[0], "Bỏ sinh hoạt", "2999-01-01"), "decided_on"),
        (remove(&ids[0], "Bỏ sinh hoạt", "2000-01-01"), "decided_on"),
        (remove("x", "Bỏ sinh hoạt", ""), "member_id"),
    ] {
        let status = gw.membership.clone().remove_member(authed(&token, request)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(status.message().contains(field), "{field}: {}", status.message());
    }
    assert_eq!(member(&gw, &token, &ids[0]).await.status, mem::MemberStatus::Active as i32, "nothing half-written");
    let removed = gw
        .membership
        .clone()
        .remove_member(authed(&token, remove(&ids[0], "Bỏ sinh hoạt 6 tháng không lý do", "")))
        .await
        .expect("remove")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(removed.status, mem::MemberStatus::Removed as i32);
    let record = member(&gw, &token, &ids[0]).await;
    assert_eq!(
        (record.status_reason.as_str(), record.status_changed_on.clone()),
        ("Bỏ sinh hoạt 6 tháng không lý do", today.to_string())
    );
    let again = gw.membership.clone().remove_member(authed(&token, remove(&ids[0], "Lần nữa", ""))).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    // Discipline: a reprimand, then an expulsion.
    let discipline = |kind: mem::DisciplineKind, number: &str| mem::DisciplineMemberRequest {
        member_id: ids[1].clone(),
        kind: kind as i32,
        decision_number: number.into(),
        decided_on: today.to_string(),
        signer: "Lê Thị Hoa".into(),
        reason: "Vi phạm quy chế thi".into(),
    };
    let reprimand = gw
        .membership
        .clone()
        .discipline_member(authed(&token, discipline(mem::DisciplineKind::Reprimand, "01-QĐKL/ĐTN")))
        .await
        .expect("reprimand")
        .into_inner();
    assert_eq!(reprimand.member.unwrap().status, mem::MemberStatus::Active as i32);
    let unspecified = gw
        .membership
        .clone()
        .discipline_member(authed(&token, discipline(mem::DisciplineKind::Unspecified, "x")))
        .await
        .unwrap_err();
    assert!(unspecified.message().contains("kind"), "{}", unspecified.message());
    let expelled = gw
        .membership
        .clone()
        .discipline_member(authed(&token, discipline(mem::DisciplineKind::Expulsion, "02-QĐKL/ĐTN")))
        .await
        .expect("expulsion")
        .into_inner();
    assert_eq!(expelled.member.unwrap().status, mem::MemberStatus::Expelled as i32);
    let records = gw
        .membership
        .clone()
        .list_disciplinary_records(authed(&token, mem::ListDisciplinaryRecordsRequest { member_id: ids[1].clone() }))
        .await
        .expect("records")
        .into_inner()
        .records;
    assert_eq!(records.len(), 2);

    // Party admission: recorded once, the member stays active.
    let party = |id: &str| mem::RecordPartyAdmissionRequest {
        member_id: id.into(),
        admitted_on: today.to_string(),
        decision_number: "125-QĐ/ĐU".into(),
    };
    let recorded = gw.membership.clone().record_party_admission(authed(&token, party(&ids[2]))).await.expect("party");
    assert_eq!(recorded.into_inner().member.unwrap().status, mem::MemberStatus::Active as i32);
    assert_eq!(member(&gw, &token, &ids[2]).await.party_admitted_on, today.to_string());
    let twice = gw.membership.clone().record_party_admission(authed(&token, party(&ids[2]))).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    // Age-out: the member who is 30 is proposed; the branch secretary (a member holding a
    // position) is proposed as kept.
    let proposals = gw
        .membership
        .clone()
        .list_age_out_proposals(authed(
            &token,
            mem::ListAgeOutProposalsRequest { unit_id: school.clone(), month: String::new() },
        ))
        .await
        .expect("proposals")
        .into_inner()
        .proposals;
    let states: Vec<(String, i32, String)> =
        proposals.iter().map(|p| (p.member.as_ref().unwrap().member_id.clone(), p.state, p.note.clone())).collect();
    assert_eq!(
        states,
        vec![
            (in_post.member_id.clone(), mem::AgeOutState::Kept as i32, "position in force".to_string()),
            (due.clone(), mem::AgeOutState::Proposed as i32, String::new()),
        ]
    );
    let month = proposals[0].month.clone();
    let unproposed = gw
        .membership
        .clone()
        .decide_age_out(authed(
            &token,
            mem::DecideAgeOutRequest {
                unit_id: school.clone(),
                month: month.clone(),
                confirm_member_ids: vec![ids[3].clone()],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unproposed.code(), Code::FailedPrecondition);
    let decided = gw
        .membership
        .clone()
        .decide_age_out(authed(
            &token,
            mem::DecideAgeOutRequest {
                unit_id: school.clone(),
                month,
                confirm_member_ids: vec![due.clone()],
                keep_member_ids: vec![in_post.member_id.clone()],
                keep_reason: "Bí thư chi đoàn đương nhiệm".into(),
            },
        ))
        .await
        .expect("decide")
        .into_inner()
        .proposals;
    assert_eq!(decided.len(), 2);
    assert_eq!(member(&gw, &token, &due).await.status, mem::MemberStatus::AgedOut as i32);
    assert_eq!(member(&gw, &token, &in_post.member_id).await.status, mem::MemberStatus::Active as i32);

    // Live statistics of the province: 3 active (two admitted, one kept past 30), one of each
    // way out, everything admitted this year.
    let stats = statistics(&gw, &admin, &province).await;
    assert_eq!(stats.active_members, 3, "{stats:?}");
    let by_status: Vec<(i32, u64)> = stats.by_status.iter().map(|s| (s.status, s.count)).collect();
    assert_eq!(by_status, vec![(1, 3), (3, 1), (4, 1), (5, 1)]);
    assert_eq!((stats.admitted, stats.removed, stats.expelled, stats.aged_out, stats.party_admitted), (6, 1, 1, 1, 1));
    assert_eq!((stats.female, stats.male, stats.ethnicity_kinh, stats.ethnicity_minority), (3, 0, 3, 0));
    assert_eq!(stats.by_age_band.iter().map(|b| b.count).sum::<u64>(), 3);
    assert_eq!(stats.by_age_band.iter().find(|b| b.band == "25-30").unwrap().count, 1);
    assert_eq!(statistics(&gw, &admin, &other_province).await.active_members, 0);
    assert_eq!(statistics(&gw, &admin, &root).await.active_members, 3, "rolled up to the root");
    let outside = gw
        .membership
        .clone()
        .get_unit_statistics(authed(&token, mem::GetUnitStatisticsRequest { unit_id: other_province.clone(), year: 0 }))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::PermissionDenied);
    let bad_year = gw
        .membership
        .clone()
        .get_unit_statistics(authed(&token, mem::GetUnitStatisticsRequest { unit_id: school.clone(), year: 1800 }))
        .await
        .unwrap_err();
    assert!(bad_year.message().contains("year"));

    // Ending a position ends its access at once in membership, and at login.
    let school_position = gw
        .membership
        .clone()
        .list_positions(authed(&admin, mem::ListPositionsRequest { unit_id: school.clone(), include_ended: false }))
        .await
        .expect("positions")
        .into_inner()
        .positions
        .into_iter()
        .find(|p| p.account_id == secretary.account_id)
        .expect("the secretary's position");
    let ended = gw
        .membership
        .clone()
        .end_position(authed(
            &admin,
            mem::EndPositionRequest {
                position_id: school_position.position_id.clone(),
                ended_on: yesterday.clone(),
                reason: "Chuyển công tác".into(),
            },
        ))
        .await
        .expect("end")
        .into_inner()
        .position
        .unwrap();
    assert!(!ended.in_force);
    let refused = gw
        .membership
        .clone()
        .list_positions(authed(&token, mem::ListPositionsRequest { unit_id: school.clone(), include_ended: true }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let gone = login(&gw, "bithu.dalat", &school).await.unwrap_err();
    assert_eq!(gone.code(), Code::PermissionDenied);
    let history = gw
        .membership
        .clone()
        .list_positions(authed(&admin, mem::ListPositionsRequest { unit_id: school.clone(), include_ended: true }))
        .await
        .expect("positions")
        .into_inner()
        .positions;
    assert!(history.iter().any(|p| p.position_id == school_position.position_id && p.end_reason == "Chuyển công tác"));

    // Every read model holds every member with their status.
    directories_converge(&tp.settings, Duration::from_secs(20)).await;
    doan_tests::effects::subtree_totals_match_members(&tp.settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_life_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    lifecycle(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_life_on_the_real_servers() {
    let Some(urls) = real_servers("a_members_life_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    lifecycle(&tp).await;
    tp.stop().await.expect("stop");
}
