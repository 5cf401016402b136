//! Input as a hostile or careless client sends it, in both modes (PostgreSQL refuses a NUL
//! byte where SQLite stores it, so both must refuse it before storage): control characters in
//! every free-text field, decomposed Vietnamese, names of punctuation, timestamps no protobuf
//! runtime reads, and a 10 kB id. Each gets INVALID_ARGUMENT naming the field, with a short
//! message, and writes nothing.

use doan_proto::{activities as act, awards as aw, membership as mem};
use doan_tests::client::{Gateway, admission, authed, create_tree, individual_award, officer, until_known};
use doan_tests::{TestPlatform, real_servers};
use tonic::Code;

fn expect_invalid<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, field: &str) {
    let status = result.expect_err(&format!("a bad {field} must be rejected"));
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    assert!(status.message().contains(field), "the message names {field}: {:?}", status.message());
    assert!(status.message().len() < 300, "the message stays short: {} bytes", status.message().len());
}

async fn hostile_input(tp: TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin");
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.hostile").await;
    let m = || gw.membership.clone();

    // Control characters, field by field.
    let unit = |name: &str| mem::CreateUnitRequest {
        parent_id: tree.province.clone(),
        name: name.into(),
        level: 3,
        ..Default::default()
    };
    expect_invalid(m().create_unit(authed(&admin, unit("Quận\0đoàn"))).await, "name");
    expect_invalid(m().create_unit(authed(&admin, unit("Quận\u{202E}đoàn"))).await, "name");
    let admit = |n: u32, edit: fn(&mut mem::AdmitMemberRequest)| {
        let mut r = admission(&tree.branch, n);
        edit(&mut r);
        authed(&officer, r)
    };
    expect_invalid(m().admit_member(admit(1, |r| r.ethnicity = "Kinh\0".into())).await, "ethnicity");
    expect_invalid(m().admit_member(admit(2, |r| r.religion = "Phật\u{0}giáo".into())).await, "religion");
    expect_invalid(m().admit_member(admit(3, |r| r.email = "lan\0@example.vn".into())).await, "email");
    expect_invalid(m().admit_member(admit(4, |r| r.resolution_number = "15\0-NQ".into())).await, "resolution_number");
    expect_invalid(m().admit_member(admit(5, |r| r.full_name = "Lan\u{1b}[2J".into())).await, "full_name");
    for punctuation in ["'", "-", "' - '"] {
        let mut r = admission(&tree.branch, 6);
        r.full_name = punctuation.into();
        expect_invalid(m().admit_member(authed(&officer, r)).await, "full_name");
    }
    // Nothing was half-written.
    let listed = m()
        .list_members(authed(&officer, mem::ListMembersRequest { unit_id: tree.branch.clone(), ..Default::default() }))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.members.is_empty(), "no refused admission left a member: {listed:?}");

    // Vietnamese typed in decomposed form is the same name, stored composed.
    let mut r = admission(&tree.branch, 7);
    r.full_name = "Nguye\u{302}\u{303}n Thi\u{323} Lan".into();
    let member = m().admit_member(authed(&officer, r)).await.expect("decomposed Vietnamese is accepted").into_inner();
    let member = member.member.expect("member");
    assert_eq!(member.full_name, "Nguyễn Thị Lan");

    // Activities: text and timestamps.
    let now = chrono::Utc::now();
    let ts = |seconds: i64, nanos: i32| Some(prost_types::Timestamp { seconds, nanos });
    let activity = |title: &str, description: &str, starts_at, ends_at| {
        authed(
            &officer,
            act::CreateActivityRequest {
                unit_id: tree.province.clone(),
                title: title.into(),
                description: description.into(),
                starts_at,
                ends_at,
                points: 1,
                capacity: 0,
                ..Default::default()
            },
        )
    };
    let (start, end) = (now.timestamp(), now.timestamp() + 3600);
    let a = || gw.activities.clone();
    // Wait until activities knows the province, with a valid request.
    until_known("activities learns the province", || {
        let mut client = a();
        let request = activity("Hiến máu", "Ngày hội\nhiến máu", ts(start, 0), ts(end, 0));
        async move { client.create_activity(request).await }
    })
    .await;
    expect_invalid(a().create_activity(activity("Hiến\0máu", "", ts(start, 0), ts(end, 0))).await, "title");
    expect_invalid(a().create_activity(activity("Hiến máu", "a\0b", ts(start, 0), ts(end, 0))).await, "description");
    expect_invalid(
        a().create_activity(activity("Năm 10000", "", ts(start, 0), ts(253_402_300_800, 0))).await,
        "ends_at",
    );
    expect_invalid(
        a().create_activity(activity("Năm -5000", "", ts(-219_845_721_600, 0), ts(end, 0))).await,
        "starts_at",
    );
    expect_invalid(a().create_activity(activity("Nanos", "", ts(start, -1), ts(end, 0))).await, "starts_at");
    // Every member's list still decodes in a strict client: nothing out of range was stored.
    let listed = a()
        .list_activities(authed(
            &officer,
            act::ListActivitiesRequest { unit_id: tree.province.clone(), ..Default::default() },
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.activities.len(), 1, "{listed:?}");

    // Awards: text fields.
    let award = |edit: fn(&mut aw::RecordAwardDecisionRequest)| {
        let mut r = individual_award("9-QĐ/TĐTN", &member.member_id);
        r.issuing_unit_id = tree.province.clone();
        edit(&mut r);
        authed(&officer, r)
    };
    let w = || gw.awards.clone();
    expect_invalid(w().record_award_decision(award(|r| r.content = "Khen\0thưởng".into())).await, "content");
    expect_invalid(w().record_award_decision(award(|r| r.signer = "Bí thư\u{2028}".into())).await, "signer");
    expect_invalid(w().record_award_decision(award(|r| r.decision_number = "9\0".into())).await, "decision_number");
    expect_invalid(w().record_award_decision(award(|r| r.kind = "title\u{7}".into())).await, "kind");
    expect_invalid(w().record_award_decision(award(|r| r.ceremony_date = "2026-13-40".into())).await, "ceremony_date");
    let decision = w().record_award_decision(award(|_| {})).await.expect("a decision").into_inner().decision.unwrap();
    let revoke = |reason: &str, legal_basis: &str| {
        authed(
            &officer,
            aw::RevokeAwardRequest {
                decision_id: decision.decision_id.clone(),
                reason: reason.into(),
                legal_basis: legal_basis.into(),
                ..Default::default()
            },
        )
    };
    expect_invalid(w().revoke_award(revoke("Gian\0lận", "Điều 94")).await, "reason");
    expect_invalid(w().revoke_award(revoke("Gian lận", &"Đ".repeat(501))).await, "legal_basis");
    let propose = |title: &str, achievements: &str| {
        authed(
            &officer,
            aw::ProposeNominationRequest {
                unit_id: tree.province.clone(),
                issuing_unit_id: tree.province.clone(),
                kind: "certificate_of_merit".into(),
                year: 2026,
                title: title.into(),
                candidates: vec![aw::CandidateProposal {
                    recipient: Some(aw::Recipient {
                        recipient: Some(aw::recipient::Recipient::MemberId(member.member_id.clone())),
                    }),
                    achievements: achievements.into(),
                }],
            },
        )
    };
    expect_invalid(w().propose_nomination(propose("Đề nghị\u{1b}[31m", "Tốt")).await, "title");
    expect_invalid(w().propose_nomination(propose("Đề nghị", &"x".repeat(4001))).await, "candidates.achievements");
    let huge_json = format!("{{\"x\":\"{}\"}}", "a".repeat(70_000));
    expect_invalid(
        w().verify_credential(aw::VerifyCredentialRequest {
            subject: Some(aw::verify_credential_request::Subject::CredentialJson(huge_json)),
        })
        .await,
        "credential_json",
    );
    // Nothing revoked by the refused calls.
    let kept = w()
        .get_award_decision(authed(&officer, aw::GetAwardDecisionRequest { decision_id: decision.decision_id.clone() }))
        .await
        .expect("decision")
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(kept.awards[0].status, aw::AwardStatus::Granted as i32);

    // A 10 kB id: INVALID_ARGUMENT with a short message, not a 10 kB grpc-message.
    let huge = "x".repeat(10_000);
    expect_invalid(
        m().get_member(authed(&officer, mem::GetMemberRequest { member_id: huge.clone(), ..Default::default() })).await,
        "member_id",
    );
    expect_invalid(
        a().get_activity(authed(&officer, act::GetActivityRequest { activity_id: huge.clone() })).await,
        "activity_id",
    );
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_embedded() {
    hostile_input(TestPlatform::embedded().await.expect("start")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_real_servers() {
    let Some(urls) = real_servers("hostile_input_is_refused_real_servers").await else { return };
    hostile_input(TestPlatform::servers(urls).await.expect("start")).await;
}
