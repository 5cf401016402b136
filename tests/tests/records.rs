//! Admission as a workflow and the member record, through the gateway in both modes: an
//! application filed by the person (no account) or the branch, guardian consent for a child,
//! the branch's proposal, the grassroots decision; the full record changed by the member
//! (contact) and officers (the rest), versioned and readable as history.

use std::time::Duration;

use chrono::{Days, Months, Utc};
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, admission, authed, create_unit, member_login, officer};
use doan_tests::effects::directories_converge;
use doan_tests::real_servers;
use tonic::Code;

fn vietnam_today() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(7)).date_naive()
}

async fn records(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Hà Giang", Provincial).await;
    let school = create_unit(&gw, &admin, &province, "Đoàn trường THPT Chuyên Hà Giang", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn 10A1", Branch).await;
    let school_officer = officer(&gw, &admin, &school, "bithu.chuyen").await;
    let branch_officer = officer(&gw, &admin, &branch, "bithu.10a1").await;
    let m = gw.membership.clone();

    // A child applies alone, without an account.
    let today = vietnam_today();
    let mut child = admission(&branch, 900);
    child.full_name = "Sùng Thị Mỷ".into();
    child.ethnicity = "H'Mông".into();
    child.date_of_birth =
        today.checked_sub_months(Months::new(12 * 15)).unwrap().checked_sub_days(Days::new(2)).unwrap().to_string();
    let doc = |kind: &str, reference: &str| mem::ApplicationDocument { kind: kind.into(), reference: reference.into() };
    let filed = m
        .clone()
        .submit_application(mem::SubmitApplicationRequest {
            applicant: Some(child.clone()),
            documents: vec![doc("application_letter", "Đơn ngày 2/11/2026"), doc("personal_history", "Lý lịch số 45")],
        })
        .await
        .expect("anyone may apply")
        .into_inner();
    assert!(filed.needs_guardian_consent);
    let app = filed.application_id.clone();
    let again = m
        .clone()
        .submit_application(mem::SubmitApplicationRequest { applicant: Some(child.clone()), ..Default::default() })
        .await;
    assert_eq!(again.unwrap_err().code(), Code::AlreadyExists, "one open application per citizen ID");
    let missing = m
        .clone()
        .submit_application(mem::SubmitApplicationRequest { applicant: None, ..Default::default() })
        .await
        .unwrap_err();
    let twice = mem::SubmitApplicationRequest {
        applicant: Some(admission(&branch, 905)),
        documents: vec![doc("application_letter", "a"), doc("application_letter", "b")],
    };
    let twice = m.clone().submit_application(twice).await.unwrap_err();
    assert!(twice.message().contains("documents"), "{}", twice.message());
    assert!(missing.message().contains("applicant"), "{}", missing.message());
    let mut too_young = admission(&branch, 901);
    too_young.date_of_birth = today.checked_sub_months(Months::new(12 * 14)).unwrap().to_string();
    let young = m
        .clone()
        .submit_application(mem::SubmitApplicationRequest { applicant: Some(too_young), ..Default::default() })
        .await
        .unwrap_err();
    assert!(young.message().contains("date_of_birth"), "{}", young.message());

    // No proposal before the guardian consents.
    let propose = |id: &str| mem::ProposeApplicationRequest {
        application_id: id.into(),
        note: "Chi đoàn họp ngày 20/11".into(),
        documents: vec![doc("orientation_certificate", "Giấy chứng nhận cảm tình Đoàn số 7")],
    };
    let early = m.clone().propose_application(authed(&branch_officer, propose(&app))).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(early.message().contains("guardian"), "{}", early.message());
    let consent = mem::GuardianConsent {
        guardian_name: "Sùng A Páo".into(),
        relation: "Cha".into(),
        consented_on: today.to_string(),
        document: "Giấy đồng ý số 12/2026".into(),
    };
    m.clone()
        .record_guardian_consent(authed(
            &branch_officer,
            mem::RecordGuardianConsentRequest { application_id: app.clone(), consent: Some(consent) },
        ))
        .await
        .expect("consent");
    let proposed =
        m.clone().propose_application(authed(&branch_officer, propose(&app))).await.expect("propose").into_inner();
    assert_eq!(proposed.application.unwrap().state, mem::ApplicationState::Proposed as i32);

    // The branch proposes; the school decides.
    let decide = |id: &str| mem::DecideApplicationRequest {
        application_id: id.into(),
        admit: true,
        resolution_number: "21-NQ/ĐTN".into(),
        resolution_date: today.to_string(),
        signer: "Vàng Thị Hoa".into(),
        ..Default::default()
    };
    let branch_decides = m.clone().decide_application(authed(&branch_officer, decide(&app))).await.unwrap_err();
    assert_eq!(branch_decides.code(), Code::PermissionDenied);
    let bad_date = mem::DecideApplicationRequest { resolution_date: "2999-01-01".into(), ..decide(&app) };
    let refused = m.clone().decide_application(authed(&school_officer, bad_date)).await.unwrap_err();
    assert!(refused.message().contains("resolution_date"), "{}", refused.message());
    let admitted =
        m.clone().decide_application(authed(&school_officer, decide(&app))).await.expect("admit").into_inner();
    let member = admitted.member.unwrap();
    assert!(member.member_number.starts_with("DV") && member.guardian_consent);
    assert_eq!(admitted.application.unwrap().state, mem::ApplicationState::Admitted as i32);
    let read = m
        .clone()
        .get_application(authed(
            &school_officer,
            mem::GetApplicationRequest {
                application_id: app.clone(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "lưu hồ sơ".into(),
            },
        ))
        .await
        .expect("read")
        .into_inner()
        .application
        .unwrap();
    assert_eq!((read.member_id.as_str(), read.guardian.unwrap().relation.as_str()), (member.member_id.as_str(), "Cha"));
    assert_eq!(read.documents.len(), 3);
    let no_purpose = m
        .clone()
        .get_application(authed(
            &school_officer,
            mem::GetApplicationRequest { application_id: app.clone(), ..Default::default() },
        ))
        .await
        .unwrap_err();
    assert!(no_purpose.message().contains("purpose"));

    // An adult entered by the branch, rejected by the school.
    let entered = m
        .clone()
        .submit_application(authed(
            &branch_officer,
            mem::SubmitApplicationRequest { applicant: Some(admission(&branch, 902)), ..Default::default() },
        ))
        .await
        .expect("entered")
        .into_inner();
    assert!(!entered.needs_guardian_consent);
    let bare = mem::ProposeApplicationRequest { application_id: entered.application_id.clone(), ..Default::default() };
    m.clone().propose_application(authed(&branch_officer, bare)).await.expect("proposed without documents");
    let lacking =
        m.clone().decide_application(authed(&school_officer, decide(&entered.application_id))).await.unwrap_err();
    assert_eq!(lacking.code(), Code::FailedPrecondition);
    assert!(
        lacking.message().contains("application_letter, personal_history, orientation_certificate"),
        "{}",
        lacking.message()
    );
    let reject = mem::DecideApplicationRequest {
        application_id: entered.application_id.clone(),
        admit: false,
        rejection_reason: "Chưa hoàn thành lớp cảm tình Đoàn".into(),
        ..Default::default()
    };
    let rejected = m.clone().decide_application(authed(&school_officer, reject)).await.expect("reject").into_inner();
    assert_eq!(rejected.application.unwrap().state, mem::ApplicationState::Rejected as i32);
    let listed = m
        .clone()
        .list_applications(authed(
            &school_officer,
            mem::ListApplicationsRequest { unit_id: school.clone(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner()
        .applications;
    assert_eq!(listed.len(), 2);
    let admitted_only = m
        .clone()
        .list_applications(authed(
            &school_officer,
            mem::ListApplicationsRequest {
                unit_id: school.clone(),
                state: mem::ApplicationState::Admitted as i32,
                page_size: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .applications;
    assert_eq!(admitted_only.len(), 1);

    // The record: a member changes their contact, not their identity.
    let (own, own_token) = member_login(&gw, &school_officer, &branch, 903).await;
    let update = |fields: &[&str]| mem::UpdateMemberRequest {
        member_id: own.clone(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        phone: "0987654321".into(),
        full_name: "Nguyễn Thị Hồng Nhung".into(),
        ethnicity: "Tày".into(),
        profile: Some(mem::MemberProfile {
            residence: "Phường Minh Khai, Hà Giang".into(),
            occupation: "Học sinh".into(),
            hometown: "Vị Xuyên, Hà Giang".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mine = m
        .clone()
        .update_member(authed(&own_token, update(&["phone", "residence", "occupation"])))
        .await
        .expect("self-service")
        .into_inner()
        .member
        .unwrap();
    assert_eq!((mine.phone.as_str(), mine.version), ("0987654321", 2));
    assert_eq!(mine.profile.as_ref().unwrap().residence, "Phường Minh Khai, Hà Giang");
    let identity = m.clone().update_member(authed(&own_token, update(&["full_name"]))).await.unwrap_err();
    assert_eq!(identity.code(), Code::PermissionDenied);
    let stale = mem::UpdateMemberRequest {
        expected_version: 1,
        purpose_code: mem::AccessPurpose::RecordKeeping as i32,
        purpose: "cập nhật hồ sơ".into(),
        ..update(&["hometown"])
    };
    let stale = m.clone().update_member(authed(&school_officer, stale)).await.unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition, "{stale:?}");
    let officer_change = mem::UpdateMemberRequest {
        expected_version: 2,
        purpose_code: mem::AccessPurpose::RecordKeeping as i32,
        purpose: "cập nhật hồ sơ theo CCCD".into(),
        ..update(&["full_name", "ethnicity", "hometown"])
    };
    let changed = m
        .clone()
        .update_member(authed(&school_officer, officer_change))
        .await
        .expect("officer")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(
        (changed.full_name.as_str(), changed.ethnicity.as_str(), changed.version),
        ("Nguyễn Thị Hồng Nhung", "Tày", 3)
    );
    for (bad, field) in [
        (
            mem::UpdateMemberRequest {
                fields: vec!["member_number".into()],
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "x".into(),
                ..update(&[])
            },
            "fields",
        ),
        (
            mem::UpdateMemberRequest {
                phone: "1".into(),
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "x".into(),
                ..update(&["phone"])
            },
            "phone",
        ),
        (mem::UpdateMemberRequest { purpose: String::new(), ..update(&["hometown"]) }, "purpose"),
    ] {
        let status = m.clone().update_member(authed(&school_officer, bad)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(status.message().contains(field), "{field}: {}", status.message());
    }

    // History: who, when, what; personal values only with a purpose.
    let history = |token: &str, purpose: &str| {
        let m = m.clone();
        let request = authed(
            token,
            mem::GetMemberHistoryRequest {
                member_id: own.clone(),
                purpose: purpose.into(),
                purpose_code: if purpose.is_empty() { 0 } else { mem::AccessPurpose::RecordKeeping as i32 },
            },
        );
        async move { m.clone().get_member_history(request).await.expect("history").into_inner().changes }
    };
    let withheld = history(&school_officer, "").await;
    let fields: Vec<(&str, u64)> = withheld.iter().map(|c| (c.field.as_str(), c.version)).collect();
    assert_eq!(
        fields,
        vec![("hometown", 3), ("ethnicity", 3), ("full_name", 3), ("occupation", 2), ("residence", 2), ("phone", 2)]
    );
    let ethnicity = withheld.iter().find(|c| c.field == "ethnicity").unwrap();
    assert_eq!((ethnicity.before.as_str(), ethnicity.after.as_str()), ("", ""), "personal values withheld");
    let name = withheld.iter().find(|c| c.field == "full_name").unwrap();
    assert_ne!(name.before, "", "non-personal values are shown");
    let shown = history(&school_officer, "đối chiếu thay đổi").await;
    let ethnicity = shown.iter().find(|c| c.field == "ethnicity").unwrap();
    assert_eq!((ethnicity.before.as_str(), ethnicity.after.as_str()), ("Kinh", "Tày"));
    assert_eq!(history(&own_token, "").await.iter().find(|c| c.field == "phone").unwrap().after, "0987654321");

    // The counters followed the ethnicity; every directory holds the new name.
    let stats = m
        .clone()
        .get_unit_statistics(authed(
            &school_officer,
            mem::GetUnitStatisticsRequest { unit_id: school.clone(), year: 0 },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stats.ethnicity_kinh, stats.ethnicity_minority), (0, 2), "{stats:?}");
    directories_converge(&tp.settings, Duration::from_secs(20)).await;
    doan_tests::effects::subtree_totals_match_members(&tp.settings).await;
    let db = tp.database("notifications").await.unwrap();
    let names = doan_tests::effects::counts(
        &db,
        &format!(
            "SELECT full_name AS k, COUNT(*) AS n FROM directory_members WHERE member_id = '{own}' GROUP BY full_name"
        ),
    )
    .await
    .unwrap();
    assert!(names.contains_key("Nguyễn Thị Hồng Nhung"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_applications_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    records(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_applications_on_the_real_servers() {
    let Some(urls) = real_servers("records_and_applications_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls).await.expect("start");
    records(&tp).await;
    tp.stop().await.expect("stop");
}
