//! Bad input: every RPC rejects invalid fields with INVALID_ARGUMENT naming the field, and
//! nothing is half-written.

use doan_proto::{activities as act, awards as aw, membership as mem, notifications as notif};
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, admission, authed, create_tree, officer, until_known};
use tonic::Code;

fn expect_invalid<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, field: &str) {
    let status = result.expect_err(&format!("a bad {field} must be rejected"));
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    assert!(status.message().contains(field), "the message names {field}: {:?}", status.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_rpc_names_the_bad_field() {
    let tp = TestPlatform::embedded().await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin");
    let tree = create_tree(&gw, &admin).await;
    let officer = officer(&gw, &admin, &tree.province, "bt.input").await;
    let m = || gw.membership.clone();

    // Membership.
    expect_invalid(
        m().login(mem::LoginRequest { username: String::new(), password: "x".into(), ..Default::default() }).await,
        "username",
    );
    expect_invalid(
        m().login(mem::LoginRequest { username: "admin".into(), password: String::new(), ..Default::default() }).await,
        "password",
    );
    expect_invalid(
        m().activate_member_account(mem::ActivateMemberAccountRequest {
            member_number: "123".into(),
            ..Default::default()
        })
        .await,
        "member_number",
    );
    expect_invalid(
        m().create_unit(authed(
            &admin,
            mem::CreateUnitRequest { parent_id: tree.root.clone(), name: " ".into(), level: 2, ..Default::default() },
        ))
        .await,
        "name",
    );
    expect_invalid(
        m().create_unit(authed(
            &admin,
            mem::CreateUnitRequest { parent_id: tree.root.clone(), name: "X".into(), level: 0, ..Default::default() },
        ))
        .await,
        "level",
    );
    expect_invalid(
        m().create_unit(authed(
            &admin,
            mem::CreateUnitRequest { parent_id: "nope".into(), name: "X".into(), level: 2, ..Default::default() },
        ))
        .await,
        "parent_id",
    );
    expect_invalid(m().get_unit(authed(&admin, mem::GetUnitRequest { unit_id: "1".into() })).await, "unit_id");
    expect_invalid(
        m().list_child_units(authed(&admin, mem::ListChildUnitsRequest { parent_id: String::new() })).await,
        "parent_id",
    );
    expect_invalid(
        m().appoint_officer(authed(
            &admin,
            mem::AppointOfficerRequest {
                unit_id: tree.branch.clone(),
                username: "Bad Name".into(),
                full_name: "A".into(),
                password: "long-enough-1".into(),
                ..Default::default()
            },
        ))
        .await,
        "username",
    );
    expect_invalid(
        m().appoint_officer(authed(
            &admin,
            mem::AppointOfficerRequest {
                unit_id: tree.branch.clone(),
                username: "ok.name".into(),
                full_name: "A".into(),
                password: "short".into(),
                ..Default::default()
            },
        ))
        .await,
        "password",
    );
    let admit = |f: &dyn Fn(&mut mem::AdmitMemberRequest)| {
        let mut r = admission(&tree.branch, 7);
        f(&mut r);
        authed(&officer, r)
    };
    for (field, change) in [
        (
            "full_name",
            &(|r: &mut mem::AdmitMemberRequest| r.full_name = String::new()) as &dyn Fn(&mut mem::AdmitMemberRequest),
        ),
        ("date_of_birth", &|r| r.date_of_birth = "01/02/2005".into()),
        ("date_of_birth", &|r| r.date_of_birth = "1980-01-01".into()),
        ("date_of_birth", &|r| r.date_of_birth = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()),
        ("sex", &|r| r.sex = 0),
        ("ethnicity", &|r| r.ethnicity = String::new()),
        ("citizen_id", &|r| r.citizen_id = "12345".into()),
        ("phone", &|r| r.phone = "12".into()),
        ("email", &|r| r.email = "not-an-email".into()),
        ("admitted_on", &|r| r.admitted_on = "2999-01-01".into()),
        ("resolution_number", &|r| r.resolution_number = String::new()),
        ("unit_id", &|r| r.unit_id = "x".into()),
    ] {
        expect_invalid(m().admit_member(admit(change)).await, field);
    }
    // A child (15 years and a few days) needs the guardian's consent.
    let child = admit(&|r| {
        let today = chrono::Utc::now().date_naive();
        r.date_of_birth =
            today.checked_sub_days(chrono::Days::new(15 * 365 + 30)).unwrap().format("%Y-%m-%d").to_string();
        r.admitted_on = today.format("%Y-%m-%d").to_string();
    });
    expect_invalid(m().admit_member(child).await, "guardian_consent");
    // A non-branch unit is a precondition failure, not an argument error.
    let at_province = m().admit_member(authed(&officer, admission(&tree.province, 8))).await;
    assert_eq!(at_province.unwrap_err().code(), Code::FailedPrecondition);
    expect_invalid(
        m().get_member(authed(&officer, mem::GetMemberRequest { member_id: "x".into(), ..Default::default() })).await,
        "member_id",
    );
    expect_invalid(m().get_member_card(authed(&officer, mem::GetMemberCardRequest::default())).await, "member_id");
    expect_invalid(
        m().list_members(authed(
            &officer,
            mem::ListMembersRequest { unit_id: tree.province.clone(), page_size: 9999, page_token: String::new() },
        ))
        .await,
        "page_size",
    );
    expect_invalid(
        m().list_members(authed(
            &officer,
            mem::ListMembersRequest { unit_id: tree.province.clone(), page_size: 0, page_token: "%%".into() },
        ))
        .await,
        "page_token",
    );

    // Nothing was half-written: no member exists, no MemberAdmitted is waiting.
    let listed = m()
        .list_members(authed(&officer, mem::ListMembersRequest { unit_id: tree.root.clone(), ..Default::default() }))
        .await;
    assert_eq!(listed.unwrap_err().code(), Code::PermissionDenied);
    let listed = m()
        .list_members(authed(&admin, mem::ListMembersRequest { unit_id: tree.root.clone(), ..Default::default() }))
        .await
        .expect("admin lists")
        .into_inner();
    assert!(listed.members.is_empty(), "rejected admissions wrote nothing");

    // Paging through a subtree: every member once, in member-number order, then no token.
    for n in 0..3 {
        m().admit_member(authed(&officer, admission(&tree.branch, 300 + n))).await.expect("valid admission");
    }
    let duplicate = m().admit_member(authed(&officer, admission(&tree.branch, 300))).await;
    assert_eq!(duplicate.unwrap_err().code(), Code::AlreadyExists, "one member per citizen ID");
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = m()
            .list_members(authed(
                &officer,
                mem::ListMembersRequest { unit_id: tree.province.clone(), page_size: 2, page_token: token.clone() },
            ))
            .await
            .expect("page")
            .into_inner();
        assert!(page.members.len() <= 2);
        seen.extend(page.members.into_iter().map(|m| m.member_number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen, sorted, "member-number order");

    // Membership's tree, officers, lifecycle, transfers, records and applications: a malformed
    // field of each RPC is named, and nothing is written.
    let member = m()
        .admit_member(authed(&officer, admission(&tree.branch, 320)))
        .await
        .expect("a member to name")
        .into_inner()
        .member
        .expect("member")
        .member_id;
    let x = || "not-an-id".to_string();
    let province = tree.province.clone();
    expect_invalid(
        m().merge_units(authed(
            &officer,
            mem::MergeUnitsRequest { unit_id: tree.branch.clone(), target_unit_id: x(), ..Default::default() },
        ))
        .await,
        "target_unit_id",
    );
    expect_invalid(
        m().dissolve_unit(authed(&officer, mem::DissolveUnitRequest { unit_id: x(), ..Default::default() })).await,
        "unit_id",
    );
    let plan = |steps: Vec<mem::ReorganisationStep>| mem::CreateReorganisationPlanRequest {
        unit_id: province.clone(),
        title: "Sắp xếp".into(),
        steps,
        ..Default::default()
    };
    expect_invalid(m().create_reorganisation_plan(authed(&officer, plan(vec![]))).await, "steps");
    expect_invalid(
        m().create_reorganisation_plan(authed(
            &officer,
            plan(vec![mem::ReorganisationStep { unit_id: tree.branch.clone(), ..Default::default() }]),
        ))
        .await,
        "steps.kind",
    );
    expect_invalid(
        m().create_reorganisation_plan(authed(
            &officer,
            plan(vec![mem::ReorganisationStep {
                kind: 4,
                unit_id: tree.branch.clone(),
                new_name: "\u{0}".into(),
                ..Default::default()
            }]),
        ))
        .await,
        "steps.new_name",
    );
    expect_invalid(
        m().preview_reorganisation_plan(authed(&officer, mem::PreviewReorganisationPlanRequest { plan_id: x() })).await,
        "plan_id",
    );
    expect_invalid(
        m().apply_reorganisation_plan(authed(&officer, mem::ApplyReorganisationPlanRequest { plan_id: x() })).await,
        "plan_id",
    );
    expect_invalid(
        m().get_reorganisation_plan(authed(&officer, mem::GetReorganisationPlanRequest { plan_id: x() })).await,
        "plan_id",
    );
    let watch =
        m().watch_reorganisation_plan(authed(&officer, mem::WatchReorganisationPlanRequest { plan_id: x() })).await;
    expect_invalid(watch.map(|_| ()).map(tonic::Response::new), "plan_id");
    expect_invalid(
        m().get_unit_history(authed(&officer, mem::GetUnitHistoryRequest { unit_id: x() })).await,
        "unit_id",
    );
    expect_invalid(
        m().get_member_unit_history(authed(&officer, mem::GetMemberUnitHistoryRequest { member_id: x() })).await,
        "member_id",
    );
    expect_invalid(
        m().update_cluster_units(authed(
            &officer,
            mem::UpdateClusterUnitsRequest { cluster_id: x(), ..Default::default() },
        ))
        .await,
        "cluster_id",
    );
    expect_invalid(m().list_clusters(authed(&officer, mem::ListClustersRequest { unit_id: x() })).await, "unit_id");
    expect_invalid(
        m().end_position(authed(&officer, mem::EndPositionRequest { position_id: x(), ..Default::default() })).await,
        "position_id",
    );
    expect_invalid(
        m().list_positions(authed(&officer, mem::ListPositionsRequest { unit_id: x(), include_ended: true })).await,
        "unit_id",
    );
    expect_invalid(
        m().list_disciplinary_records(authed(&officer, mem::ListDisciplinaryRecordsRequest { member_id: x() })).await,
        "member_id",
    );
    expect_invalid(
        m().record_party_admission(authed(
            &officer,
            mem::RecordPartyAdmissionRequest {
                member_id: member.clone(),
                admitted_on: "30/11/2026".into(),
                decision_number: "1".into(),
            },
        ))
        .await,
        "admitted_on",
    );
    expect_invalid(
        m().list_age_out_proposals(authed(
            &officer,
            mem::ListAgeOutProposalsRequest { unit_id: province.clone(), month: "2026-13".into() },
        ))
        .await,
        "month",
    );
    expect_invalid(
        m().decide_age_out(authed(
            &officer,
            mem::DecideAgeOutRequest { unit_id: province.clone(), month: "11/2026".into(), ..Default::default() },
        ))
        .await,
        "month",
    );
    expect_invalid(
        m().list_revoked_cards(authed(
            &officer,
            mem::ListRevokedCardsRequest { unit_id: province.clone(), since: "hôm qua".into(), ..Default::default() },
        ))
        .await,
        "since",
    );
    expect_invalid(
        m().accept_transfer(authed(&officer, mem::AcceptTransferRequest { transfer_id: x(), ..Default::default() }))
            .await,
        "transfer_id",
    );
    expect_invalid(
        m().refuse_transfer(authed(&officer, mem::RefuseTransferRequest { transfer_id: x(), ..Default::default() }))
            .await,
        "transfer_id",
    );
    expect_invalid(
        m().get_transfer(authed(&officer, mem::GetTransferRequest { transfer_id: x() })).await,
        "transfer_id",
    );
    expect_invalid(
        m().list_transfers(authed(
            &officer,
            mem::ListTransfersRequest { unit_id: province.clone(), direction: 9, page_size: 0 },
        ))
        .await,
        "direction",
    );
    expect_invalid(
        m().get_member_history(authed(
            &officer,
            mem::GetMemberHistoryRequest { member_id: x(), purpose: String::new() },
        ))
        .await,
        "member_id",
    );
    expect_invalid(
        m().record_guardian_consent(authed(
            &officer,
            mem::RecordGuardianConsentRequest { application_id: x(), consent: None },
        ))
        .await,
        "application_id",
    );
    expect_invalid(
        m().propose_application(authed(
            &officer,
            mem::ProposeApplicationRequest { application_id: x(), ..Default::default() },
        ))
        .await,
        "application_id",
    );
    expect_invalid(
        m().list_applications(authed(
            &officer,
            mem::ListApplicationsRequest { unit_id: province.clone(), state: 9, page_size: 0 },
        ))
        .await,
        "state",
    );
    let unchanged = m()
        .get_member(authed(&officer, mem::GetMemberRequest { member_id: member, purpose: "kiểm tra".into() }))
        .await
        .expect("member")
        .into_inner()
        .member
        .expect("member");
    assert_eq!((unchanged.version, unchanged.party_admitted_on.as_str()), (1, ""), "nothing half-written");

    // Activities.
    let a = || gw.activities.clone();
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| Some(doan_platform::convert::timestamp(t));
    let good = act::CreateActivityRequest {
        unit_id: tree.province.clone(),
        title: "Hiến máu".into(),
        description: String::new(),
        starts_at: ts(now),
        ends_at: ts(now + chrono::Duration::hours(1)),
        points: 1,
    };
    until_known("activities learns the province", || {
        let mut c = a();
        let r = authed(&officer, act::ListActivitiesRequest { unit_id: tree.province.clone(), ..Default::default() });
        async move { c.list_activities(r).await }
    })
    .await;
    for (field, change) in [
        (
            "title",
            &(|r: &mut act::CreateActivityRequest| r.title = String::new()) as &dyn Fn(&mut act::CreateActivityRequest),
        ),
        ("starts_at", &|r| r.starts_at = None),
        ("ends_at", &|r| r.ends_at = r.starts_at),
        ("ends_at", &|r| r.ends_at = ts(now + chrono::Duration::days(40))),
        ("points", &|r| r.points = 500),
        ("unit_id", &|r| r.unit_id = "x".into()),
    ] {
        let mut r = good.clone();
        change(&mut r);
        expect_invalid(a().create_activity(authed(&officer, r)).await, field);
    }
    expect_invalid(
        a().get_activity(authed(&officer, act::GetActivityRequest { activity_id: "x".into() })).await,
        "activity_id",
    );
    expect_invalid(
        a().list_activities(authed(
            &officer,
            act::ListActivitiesRequest { unit_id: tree.province.clone(), page_size: -1, ..Default::default() },
        ))
        .await,
        "page_size",
    );

    // Awards.
    let w = || gw.awards.clone();
    let decision = aw::RecordAwardDecisionRequest {
        decision_number: "1-QĐ".into(),
        decision_date: "2026-01-15".into(),
        form: aw::AwardForm::CertificateOfMerit as i32,
        signer: "Bí thư".into(),
        content: "Thành tích".into(),
        recipients: vec![aw::Recipient { recipient: Some(aw::recipient::Recipient::UnitId(tree.branch.clone())) }],
        issuing_unit_id: String::new(),
    };
    for (field, change) in [
        (
            "decision_number",
            &(|r: &mut aw::RecordAwardDecisionRequest| r.decision_number = String::new())
                as &dyn Fn(&mut aw::RecordAwardDecisionRequest),
        ),
        ("decision_date", &|r| r.decision_date = "15/01/2026".into()),
        ("decision_date", &|r| r.decision_date = "2999-01-01".into()),
        ("form", &|r| r.form = 0),
        ("signer", &|r| r.signer = String::new()),
        ("content", &|r| r.content = String::new()),
        ("recipients", &|r| r.recipients.clear()),
        ("recipients", &|r| r.recipients.push(aw::Recipient { recipient: None })),
    ] {
        let mut r = decision.clone();
        change(&mut r);
        expect_invalid(w().record_award_decision(authed(&officer, r)).await, field);
    }
    expect_invalid(
        w().get_award_decision(authed(&officer, aw::GetAwardDecisionRequest { decision_id: "x".into() })).await,
        "decision_id",
    );
    expect_invalid(
        w().get_member_standing(authed(&officer, aw::GetMemberStandingRequest::default())).await,
        "member_id",
    );
    expect_invalid(
        w().get_member_standing(authed(&officer, aw::GetMemberStandingRequest { member_id: "x".into(), year: 0 }))
            .await,
        "member_id",
    );

    // Notifications (member-only RPCs check the caller before the fields).
    let j = gw.notifications.clone();
    let denied = j
        .clone()
        .mark_notification_read(authed(&officer, notif::MarkNotificationReadRequest { notification_id: "x".into() }))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);

    tp.stop().await.expect("stop");
}
