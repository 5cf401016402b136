//! Bad input: every RPC rejects invalid fields with INVALID_ARGUMENT naming the field, and
//! nothing is half-written.

use chrono::Datelike;
use doan_proto::{activities as act, awards as aw, membership as mem, notifications as notif};
use doan_tests::TestPlatform;
use doan_tests::client::{Gateway, admission, authed, create_tree, member_login, officer, until_known};
use tonic::Code;

fn expect_invalid<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, field: &str) {
    let status = result.expect_err(&format!("a bad {field} must be rejected"));
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
    assert!(status.message().contains(field), "the message names {field}: {:?}", status.message());
}

/// As [`expect_invalid`], and the message names `field` as the invalid one (`invalid field: …`),
/// not in passing.
fn expect_named<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, field: &str) {
    let status = result.expect_err(&format!("a bad {field} must be rejected"));
    let message = status.message().to_string();
    expect_invalid::<T>(Err(status), field);
    assert!(message.starts_with(&format!("invalid {field}:")), "the message names {field}: {message:?}");
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
        m().get_member_history(authed(&officer, mem::GetMemberHistoryRequest { member_id: x(), ..Default::default() }))
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
        .get_member(authed(
            &officer,
            mem::GetMemberRequest {
                member_id: member,
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "kiểm tra".into(),
            },
        ))
        .await
        .expect("member")
        .into_inner()
        .member
        .expect("member");
    assert_eq!((unchanged.version, unchanged.party_admitted_on.as_str()), (1, ""), "nothing half-written");

    // The Union's year: dues, training, evaluation and the Party introduction. Each request
    // names the province (the officer's unit), its branch or a member of it, so it passes the
    // scope checks, and is wrong in one field, which the message names.
    let member = unchanged.member_id.clone();
    let vn_today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let month = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
    let today = day(vn_today);
    let this_month = month(vn_today);
    let year = vn_today.year();
    let some_uuid = || "00000000-0000-4000-8000-000000000000".to_string();
    let branch = tree.branch.clone();

    // Dues.
    expect_named(
        m().set_dues_category(authed(&officer, mem::SetDuesCategoryRequest { member_id: member.clone(), category: 0 }))
            .await,
        "category",
    );
    let payment = mem::RecordDuesPaymentRequest {
        member_id: member.clone(),
        first_month: this_month.clone(),
        months: 1,
        method: mem::PaymentMethod::Cash as i32,
        reference: String::new(),
        amount_vnd: 2000,
        paid_on: today.clone(),
    };
    let bank = mem::PaymentMethod::BankTransfer as i32;
    let last_month = month(vn_today.checked_sub_months(chrono::Months::new(1)).expect("date"));
    let beyond_a_year = month(vn_today.checked_add_months(chrono::Months::new(13)).expect("date"));
    for (field, change) in [
        (
            "method",
            &(|r: &mut mem::RecordDuesPaymentRequest| r.method = 0) as &dyn Fn(&mut mem::RecordDuesPaymentRequest),
        ),
        ("method", &|r| r.method = 3),
        ("reference", &|r| r.method = bank),
        ("reference", &|r| {
            r.method = bank;
            r.reference = "FT 2026 001".into();
        }),
        ("reference", &|r| r.reference = "số-phiếu".into()),
        ("first_month", &|r| r.first_month = "2026-13".into()),
        ("first_month", &|r| r.first_month = "11/2026".into()),
        ("first_month", &|r| r.first_month = last_month.clone()),
        ("first_month", &|r| r.first_month = beyond_a_year.clone()),
        ("paid_on", &|r| r.paid_on = day(vn_today + chrono::Days::new(2))),
        ("paid_on", &|r| r.paid_on = day(vn_today - chrono::Days::new(401))),
        ("paid_on", &|r| r.paid_on = "31/12/2026".into()),
        ("months", &|r| r.months = 0),
        ("months", &|r| r.months = 13),
        ("amount_vnd", &|r| r.amount_vnd = 2001),
        ("amount_vnd", &|r| r.months = 3),
        ("member_id", &|r| r.member_id = x()),
    ] {
        let mut r = payment.clone();
        change(&mut r);
        expect_named(m().record_dues_payment(authed(&officer, r)).await, field);
    }
    let ledger = |member_id: String| {
        let mut c = m();
        let r = authed(&officer, mem::GetDuesLedgerRequest { member_id, year });
        async move { c.get_dues_ledger(r).await.expect("the ledger").into_inner() }
    };
    let current = |l: &mem::GetDuesLedgerResponse| {
        l.months.iter().find(|x| x.month == this_month).map(|x| x.state).expect("the current month")
    };
    let before = ledger(member.clone()).await;
    assert!(before.payments.is_empty(), "rejected payments wrote nothing: {:?}", before.payments);
    assert_eq!(current(&before), mem::DuesMonthState::Due as i32, "nothing half-written");
    // A pending bank transfer, refused without a reason, stays pending.
    let pending = m()
        .record_dues_payment(authed(
            &officer,
            mem::RecordDuesPaymentRequest { method: bank, reference: "FT26001".into(), ..payment.clone() },
        ))
        .await
        .expect("a bank transfer to decide")
        .into_inner()
        .payment
        .expect("payment");
    assert_eq!(pending.state, mem::PaymentState::Pending as i32);
    expect_named(
        m().confirm_dues_payment(authed(
            &officer,
            mem::ConfirmDuesPaymentRequest { payment_id: pending.payment_id.clone(), reject: true, reason: " ".into() },
        ))
        .await,
        "reason",
    );
    for bad in [x(), String::new()] {
        expect_named(
            m().confirm_dues_payment(authed(
                &officer,
                mem::ConfirmDuesPaymentRequest { payment_id: bad, ..Default::default() },
            ))
            .await,
            "payment_id",
        );
    }
    let after = ledger(member.clone()).await;
    assert_eq!(after.payments.len(), 1, "{:?}", after.payments);
    assert_eq!(after.payments[0].state, mem::PaymentState::Pending as i32, "the refusal was not half-written");
    assert_eq!(current(&after), mem::DuesMonthState::Pending as i32);
    let next_month = month(vn_today.checked_add_months(chrono::Months::new(1)).expect("date"));
    let exemption = mem::GrantDuesExemptionRequest {
        member_id: member.clone(),
        first_month: next_month.clone(),
        months: 1,
        reason: "Hoàn cảnh khó khăn".into(),
    };
    for (field, change) in [
        (
            "first_month",
            &(|r: &mut mem::GrantDuesExemptionRequest| r.first_month = "2026-13".into())
                as &dyn Fn(&mut mem::GrantDuesExemptionRequest),
        ),
        ("first_month", &|r| r.first_month = last_month.clone()),
        ("reason", &|r| r.reason = String::new()),
        ("reason", &|r| r.reason = "a\u{0}".into()),
        ("months", &|r| r.months = 0),
        ("months", &|r| r.months = 7),
        ("member_id", &|r| r.member_id = String::new()),
    ] {
        let mut r = exemption.clone();
        change(&mut r);
        expect_named(m().grant_dues_exemption(authed(&officer, r)).await, field);
    }
    for bad_year in [0, 1999, 2200] {
        expect_named(
            m().get_dues_ledger(authed(
                &officer,
                mem::GetDuesLedgerRequest { member_id: member.clone(), year: bad_year },
            ))
            .await,
            "year",
        );
    }
    assert!(ledger(member.clone()).await.exemptions.is_empty(), "rejected exemptions wrote nothing");
    // Branches remit monthly, provinces yearly.
    for (unit_id, period) in [(branch.clone(), "2026-Q1"), (branch.clone(), "2026-13"), (province.clone(), "2026-03")] {
        expect_named(
            m().create_remittance(authed(&officer, mem::CreateRemittanceRequest { unit_id, period: period.into() }))
                .await,
            "period",
        );
    }
    expect_named(
        m().confirm_remittance(authed(&officer, mem::ConfirmRemittanceRequest { remittance_id: x() })).await,
        "remittance_id",
    );
    expect_named(
        m().list_remittances(authed(&officer, mem::ListRemittancesRequest { unit_id: province.clone(), year: 0 }))
            .await,
        "year",
    );
    let remittances = m()
        .list_remittances(authed(&officer, mem::ListRemittancesRequest { unit_id: branch.clone(), year }))
        .await
        .expect("remittances")
        .into_inner();
    assert!(remittances.outgoing.is_empty(), "rejected remittances wrote nothing");
    for (field, from_month, to_month) in [
        ("from_month", "2026-13", this_month.as_str()),
        ("to_month", this_month.as_str(), "tháng 12"),
        ("to_month", this_month.as_str(), last_month.as_str()),
        ("to_month", "2026-01", "2028-02"),
    ] {
        expect_named(
            m().get_dues_report(authed(
                &officer,
                mem::GetDuesReportRequest {
                    unit_id: province.clone(),
                    from_month: from_month.into(),
                    to_month: to_month.into(),
                },
            ))
            .await,
            field,
        );
    }

    // Training.
    let commitment = mem::TrainingCriterion {
        title: "Cam kết".into(),
        kind: mem::CriterionKind::Commitment as i32,
        target: 0,
        required: true,
        ..Default::default()
    };
    let programme = mem::CreateTrainingProgrammeRequest {
        unit_id: province.clone(),
        year,
        title: "Rèn luyện đoàn viên".into(),
        criteria: vec![commitment.clone()],
    };
    for (field, change) in [
        (
            "year",
            &(|r: &mut mem::CreateTrainingProgrammeRequest| r.year = 1999)
                as &dyn Fn(&mut mem::CreateTrainingProgrammeRequest),
        ),
        ("title", &|r| r.title = " ".into()),
        ("criteria", &|r| r.criteria.clear()),
        ("criteria", &|r| r.criteria = vec![commitment.clone(); 31]),
        ("criteria.kind", &|r| r.criteria[0].kind = 0),
        ("criteria.target", &|r| r.criteria[0].target = 3),
        ("criteria.target", &|r| {
            r.criteria[0].kind = mem::CriterionKind::Participations as i32;
            r.criteria[0].target = 0;
        }),
        ("criteria.title", &|r| r.criteria[0].title = String::new()),
        ("unit_id", &|r| r.unit_id = x()),
    ] {
        let mut r = programme.clone();
        change(&mut r);
        expect_named(m().create_training_programme(authed(&officer, r)).await, field);
    }
    let none = m()
        .get_training_programme(authed(&officer, mem::GetTrainingProgrammeRequest { unit_id: branch.clone(), year }))
        .await;
    assert_eq!(none.unwrap_err().code(), Code::NotFound, "rejected programmes wrote nothing");
    expect_named(
        m().get_training_programme(authed(
            &officer,
            mem::GetTrainingProgrammeRequest { unit_id: branch.clone(), year: 0 },
        ))
        .await,
        "year",
    );
    for (field, year, member_ids) in [
        ("member_ids", year, vec![]),
        ("member_ids", year, vec![member.clone(), member.clone()]),
        ("member_ids", year, vec![x()]),
        ("year", 1999, vec![member.clone()]),
    ] {
        expect_named(
            m().register_training(authed(&officer, mem::RegisterTrainingRequest { year, member_ids })).await,
            field,
        );
    }
    let evidence = mem::AddTrainingEvidenceRequest {
        member_id: member.clone(),
        year,
        criterion_id: some_uuid(),
        kind: mem::EvidenceKind::Document as i32,
        reference: "GCN-01".into(),
        description: "Giấy chứng nhận".into(),
        ..Default::default()
    };
    expect_named(
        m().add_training_evidence(authed(
            &officer,
            mem::AddTrainingEvidenceRequest { criterion_id: x(), ..evidence.clone() },
        ))
        .await,
        "criterion_id",
    );
    expect_named(
        m().add_training_evidence(authed(&officer, mem::AddTrainingEvidenceRequest { kind: 0, ..evidence.clone() }))
            .await,
        "kind",
    );
    expect_named(
        m().add_training_evidence(authed(&officer, mem::AddTrainingEvidenceRequest { year: 0, ..evidence })).await,
        "year",
    );
    // The self-assessment is the member's own.
    let (own_id, own_token) = member_login(&gw, &officer, &branch, 321).await;
    for (field, year, text) in [("text", year, ""), ("text", year, "\u{7}"), ("year", 0, "Em đã cố gắng")] {
        expect_named(
            m().submit_training_self_assessment(authed(
                &own_token,
                mem::SubmitTrainingSelfAssessmentRequest { member_id: own_id.clone(), year, text: text.into() },
            ))
            .await,
            field,
        );
    }
    expect_named(
        m().evaluate_training(authed(
            &officer,
            mem::EvaluateTrainingRequest {
                member_id: member.clone(),
                year,
                comment: "\u{0}".into(),
                ..Default::default()
            },
        ))
        .await,
        "comment",
    );
    expect_named(
        m().evaluate_training(authed(
            &officer,
            mem::EvaluateTrainingRequest { member_id: member.clone(), year: 2200, ..Default::default() },
        ))
        .await,
        "year",
    );
    expect_named(
        m().get_training_record(authed(&officer, mem::GetTrainingRecordRequest { member_id: member.clone(), year: 0 }))
            .await,
        "year",
    );
    let unregistered = m()
        .get_training_record(authed(&officer, mem::GetTrainingRecordRequest { member_id: member.clone(), year }))
        .await;
    assert_eq!(unregistered.unwrap_err().code(), Code::NotFound, "rejected registrations wrote nothing");

    // Evaluation.
    let open = mem::OpenEvaluationPeriodRequest {
        unit_id: province.clone(),
        year,
        sector: mem::EvaluationSector::Calendar as i32,
        proposal_deadline: format!("{year}-12-15"),
        confirmation_deadline: format!("{year}-12-31"),
    };
    for (field, change) in [
        (
            "year",
            &(|r: &mut mem::OpenEvaluationPeriodRequest| r.year = 1999)
                as &dyn Fn(&mut mem::OpenEvaluationPeriodRequest),
        ),
        ("year", &|r| r.year = 2200),
        ("sector", &|r| r.sector = 0),
        ("sector", &|r| r.sector = 3),
        ("proposal_deadline", &|r| r.proposal_deadline = format!("{}-12-31", year - 1)),
        ("proposal_deadline", &|r| {
            r.proposal_deadline = format!("{}-04-15", year + 1);
            r.confirmation_deadline = format!("{}-04-15", year + 1);
        }),
        ("proposal_deadline", &|r| r.proposal_deadline = "15/12/2026".into()),
        ("confirmation_deadline", &|r| r.confirmation_deadline = format!("{year}-12-01")),
        ("confirmation_deadline", &|r| r.confirmation_deadline = format!("{}-04-15", year + 1)),
        ("unit_id", &|r| r.unit_id = x()),
    ] {
        let mut r = open.clone();
        change(&mut r);
        expect_named(m().open_evaluation_period(authed(&officer, r)).await, field);
    }
    expect_named(
        m().list_evaluation_periods(authed(
            &officer,
            mem::ListEvaluationPeriodsRequest { unit_id: branch.clone(), year: 0 },
        ))
        .await,
        "year",
    );
    let periods = m()
        .list_evaluation_periods(authed(&officer, mem::ListEvaluationPeriodsRequest { unit_id: branch.clone(), year }))
        .await
        .expect("periods")
        .into_inner()
        .periods;
    assert!(periods.is_empty(), "rejected periods wrote nothing: {periods:?}");
    // A real period, so that the requests below are wrong in their other fields only.
    let period = m()
        .open_evaluation_period(authed(&officer, open))
        .await
        .expect("a period")
        .into_inner()
        .period
        .expect("period")
        .period_id;
    expect_named(
        m().get_evidence_sheet(authed(
            &officer,
            mem::GetEvidenceSheetRequest { period_id: x(), unit_id: branch.clone() },
        ))
        .await,
        "period_id",
    );
    let rating = |member_id: &str, rating: mem::MemberRating| mem::ProposedRating {
        member_id: member_id.to_string(),
        rating: rating as i32,
        note: String::new(),
    };
    use mem::MemberRating::{Completed, Excellent, Good};
    for (field, period_id, ratings) in [
        ("period_id", x(), vec![rating(&member, Completed)]),
        ("ratings", period.clone(), vec![]),
        ("ratings", period.clone(), vec![rating(&member, Completed), rating(&member, Good)]),
        ("member_id", period.clone(), vec![rating("1", Completed)]),
        ("rating", period.clone(), vec![mem::ProposedRating { rating: 0, ..rating(&member, Completed) }]),
        ("note", period.clone(), vec![mem::ProposedRating { note: "\u{0}".into(), ..rating(&member, Completed) }]),
        // The evidence caps the rating: the training year is not evaluated.
        ("rating", period.clone(), vec![rating(&member, Excellent)]),
    ] {
        expect_named(
            m().propose_ratings(authed(
                &officer,
                mem::ProposeRatingsRequest { period_id, unit_id: branch.clone(), ratings },
            ))
            .await,
            field,
        );
    }
    for (field, period_id, changes) in [
        ("period_id", String::new(), vec![]),
        ("member_id", period.clone(), vec![rating("not-an-id", Completed)]),
        ("rating", period.clone(), vec![mem::ProposedRating { rating: 7, ..rating(&member, Completed) }]),
    ] {
        expect_named(
            m().confirm_ratings(authed(
                &officer,
                mem::ConfirmRatingsRequest { period_id, unit_id: branch.clone(), changes },
            ))
            .await,
            field,
        );
    }
    expect_named(
        m().get_member_evaluation(authed(
            &officer,
            mem::GetMemberEvaluationRequest { member_id: member.clone(), year: 1999 },
        ))
        .await,
        "year",
    );
    let rate = mem::RateUnitRequest {
        period_id: period.clone(),
        unit_id: branch.clone(),
        targets_met: 1,
        targets_total: 3,
        note: String::new(),
    };
    for (field, change) in [
        ("period_id", &(|r: &mut mem::RateUnitRequest| r.period_id = x()) as &dyn Fn(&mut mem::RateUnitRequest)),
        ("targets_met", &|r| r.targets_met = 4),
        ("targets_met", &|r| r.targets_met = -1),
        ("targets_total", &|r| r.targets_total = 1001),
        ("targets_total", &|r| r.targets_total = -1),
        ("note", &|r| r.note = "\u{1b}[31m".into()),
    ] {
        let mut r = rate.clone();
        change(&mut r);
        expect_named(m().rate_unit(authed(&officer, r)).await, field);
    }
    let sheet = m()
        .get_evidence_sheet(authed(
            &officer,
            mem::GetEvidenceSheetRequest { period_id: period.clone(), unit_id: branch.clone() },
        ))
        .await
        .expect("the sheet")
        .into_inner();
    assert!(!sheet.members.is_empty());
    assert!(
        sheet.members.iter().all(|e| e.rating == 0 && e.state == 0),
        "rejected proposals wrote nothing: {:?}",
        sheet.members
    );
    assert!(sheet.unit.is_none(), "rejected unit ratings wrote nothing");

    // Party introduction.
    let introduce = mem::ProposePartyIntroductionRequest {
        unit_id: branch.clone(),
        resolution_number: "01-NQ/CĐ".into(),
        resolution_date: today.clone(),
        member_ids: vec![member.clone()],
    };
    for (field, change) in [
        (
            "resolution_number",
            &(|r: &mut mem::ProposePartyIntroductionRequest| r.resolution_number = String::new())
                as &dyn Fn(&mut mem::ProposePartyIntroductionRequest),
        ),
        ("resolution_number", &|r| r.resolution_number = "1".repeat(65)),
        ("resolution_date", &|r| r.resolution_date = day(vn_today + chrono::Days::new(2))),
        ("resolution_date", &|r| r.resolution_date = day(vn_today - chrono::Days::new(400))),
        ("resolution_date", &|r| r.resolution_date = "31/12/2026".into()),
        ("member_ids", &|r| r.member_ids.clear()),
        ("member_ids", &|r| r.member_ids = vec![x()]),
        ("member_ids", &|r| r.member_ids = vec![member.clone(), member.clone()]),
        ("unit_id", &|r| r.unit_id = String::new()),
    ] {
        let mut r = introduce.clone();
        change(&mut r);
        expect_named(m().propose_party_introduction(authed(&officer, r)).await, field);
    }
    // A member without a confirmed rating is not eligible: a precondition, not an argument.
    let ineligible = m().propose_party_introduction(authed(&officer, introduce)).await;
    assert_eq!(ineligible.unwrap_err().code(), Code::FailedPrecondition);
    expect_named(
        m().send_party_introduction(authed(
            &officer,
            mem::SendPartyIntroductionRequest {
                introduction_id: x(),
                party_committee: "Chi bộ Trường THPT Phan Đình Phùng".into(),
                sent_on: today.clone(),
            },
        ))
        .await,
        "introduction_id",
    );
    expect_named(
        m().record_introduction_outcome(authed(
            &officer,
            mem::RecordIntroductionOutcomeRequest {
                introduction_id: x(),
                member_id: member.clone(),
                outcome: mem::IntroductionOutcome::NotAdmitted as i32,
                ..Default::default()
            },
        ))
        .await,
        "introduction_id",
    );
    for bad in [x(), String::new()] {
        expect_named(
            m().get_party_introduction(authed(&officer, mem::GetPartyIntroductionRequest { introduction_id: bad }))
                .await,
            "introduction_id",
        );
    }
    expect_named(
        m().list_party_introductions(authed(
            &officer,
            mem::ListPartyIntroductionsRequest { unit_id: province.clone(), year: 1999 },
        ))
        .await,
        "year",
    );
    for (field, from, to) in [
        ("from", "01/01/2026".to_string(), today.clone()),
        ("to", today.clone(), String::new()),
        ("to", today.clone(), day(vn_today - chrono::Days::new(1))),
        ("to", "2000-01-01".to_string(), today.clone()),
    ] {
        expect_named(
            m().get_party_introduction_statistics(authed(
                &officer,
                mem::GetPartyIntroductionStatisticsRequest { unit_id: province.clone(), from, to },
            ))
            .await,
            field,
        );
    }
    let introductions = m()
        .list_party_introductions(authed(
            &officer,
            mem::ListPartyIntroductionsRequest { unit_id: province.clone(), year: 0 },
        ))
        .await
        .expect("introductions")
        .into_inner()
        .introductions;
    assert!(introductions.is_empty(), "rejected introductions wrote nothing");

    // Members in bulk: imports and exports.
    let province = tree.province.clone();
    let import = |format: i32, mode: i32, size_bytes: u64, file_name: &str| mem::CreateMemberImportRequest {
        unit_id: province.clone(),
        file_name: file_name.into(),
        format,
        mode,
        size_bytes,
    };
    let (csv, valid_rows) = (mem::FileFormat::Csv as i32, mem::ImportMode::ValidRows as i32);
    expect_named(m().create_member_import(authed(&officer, import(0, valid_rows, 10, "a.csv"))).await, "format");
    expect_named(m().create_member_import(authed(&officer, import(csv, 9, 10, "a.csv"))).await, "mode");
    expect_named(m().create_member_import(authed(&officer, import(csv, valid_rows, 0, "a.csv"))).await, "size_bytes");
    expect_named(
        m().create_member_import(authed(&officer, import(csv, valid_rows, 65 * 1024 * 1024, "a.csv"))).await,
        "size_bytes",
    );
    expect_named(m().create_member_import(authed(&officer, import(csv, valid_rows, 10, "a\u{7}b"))).await, "file_name");
    let created = m()
        .create_member_import(authed(&officer, import(csv, valid_rows, 10, "a.csv")))
        .await
        .expect("an import")
        .into_inner()
        .import
        .unwrap();
    let chunk = |offset: u64, data: Vec<u8>| mem::UploadMemberImportChunkRequest {
        import_id: created.import_id.clone(),
        offset,
        data,
    };
    expect_named(m().upload_member_import_chunk(authed(&officer, chunk(0, vec![]))).await, "data");
    expect_named(m().upload_member_import_chunk(authed(&officer, chunk(0, vec![b'x'; 11]))).await, "data");
    expect_named(m().upload_member_import_chunk(authed(&officer, chunk(0, vec![b'x'; 1024 * 1024 + 1]))).await, "data");
    expect_named(
        m().upload_member_import_chunk(authed(
            &officer,
            mem::UploadMemberImportChunkRequest { import_id: "nope".into(), offset: 0, data: vec![b'x'] },
        ))
        .await,
        "import_id",
    );
    expect_named(
        m().submit_member_import(authed(
            &officer,
            mem::SubmitMemberImportRequest { import_id: created.import_id.clone(), sha256: "xyz".into() },
        ))
        .await,
        "sha256",
    );
    expect_named(
        m().get_member_import(authed(&officer, mem::GetMemberImportRequest { import_id: "x".into() })).await,
        "import_id",
    );
    expect_named(
        m().watch_member_import(authed(&officer, mem::WatchMemberImportRequest { import_id: String::new() })).await,
        "import_id",
    );
    expect_named(
        m().download_member_import_report(authed(
            &officer,
            mem::DownloadMemberImportReportRequest { import_id: "1".into() },
        ))
        .await,
        "import_id",
    );
    expect_named(
        m().get_member_import_template(authed(
            &officer,
            mem::GetMemberImportTemplateRequest { unit_id: province.clone(), format: 7 },
        ))
        .await,
        "format",
    );
    let export = |format: i32, personal: bool, purpose: &str| mem::ExportMembersRequest {
        unit_id: province.clone(),
        format,
        include_personal_data: personal,
        purpose: purpose.into(),
        purpose_code: if purpose.is_empty() { 0 } else { mem::AccessPurpose::RecordKeeping as i32 },
    };
    expect_named(m().export_members(authed(&officer, export(0, false, ""))).await, "format");
    expect_named(m().export_members(authed(&officer, export(csv, true, ""))).await, "purpose_code");
    expect_named(m().export_members(authed(&officer, export(csv, true, "x\u{0}y"))).await, "purpose");
    // A purpose from outside the fixed list, or a note without a purpose.
    let mut off_the_list = export(csv, true, "rà soát");
    off_the_list.purpose_code = 99;
    expect_named(m().export_members(authed(&officer, off_the_list)).await, "purpose_code");
    let mut note_alone = export(csv, true, "rà soát");
    note_alone.purpose_code = 0;
    expect_named(m().export_members(authed(&officer, note_alone)).await, "purpose_code");
    // Nothing was half-written: the import still waits for its first byte.
    let still = m()
        .get_member_import(authed(&officer, mem::GetMemberImportRequest { import_id: created.import_id.clone() }))
        .await
        .expect("the import")
        .into_inner()
        .import
        .unwrap();
    assert_eq!((still.received_bytes, still.state), (0, mem::ImportState::Uploading as i32));

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
        capacity: 0,
        ..Default::default()
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
        ("capacity", &|r| r.capacity = -1),
        ("capacity", &|r| r.capacity = 100_001),
        ("unit_id", &|r| r.unit_id = "x".into()),
        ("check_in_mode", &|r| r.check_in_mode = 7),
        ("venue", &|r| r.venue = Some(act::Venue { latitude: 21.0, longitude: 105.8, radius_m: 5 })),
        ("venue", &|r| r.venue = Some(act::Venue { latitude: f64::NAN, longitude: 105.8, radius_m: 100 })),
        ("venue", &|r| r.venue = Some(act::Venue { latitude: 21.0, longitude: 181.0, radius_m: 100 })),
    ] {
        let mut r = good.clone();
        change(&mut r);
        expect_invalid(a().create_activity(authed(&officer, r)).await, field);
    }
    expect_named(
        a().get_check_in_code(authed(&officer, act::GetCheckInCodeRequest { activity_id: "x".into() })).await,
        "activity_id",
    );
    expect_named(
        a().list_participations(authed(
            &officer,
            act::ListParticipationsRequest { activity_id: "x".into(), ..Default::default() },
        ))
        .await,
        "activity_id",
    );
    expect_named(
        a().review_attendance(authed(
            &officer,
            act::ReviewAttendanceRequest { participation_id: "x".into(), decision: 1, note: String::new() },
        ))
        .await,
        "participation_id",
    );
    // A member's devices and offline records.
    // Too short, and the identity point (a weak key).
    for public_key in [vec![1u8; 31], vec![0u8; 32]] {
        let request = act::RegisterDeviceRequest { public_key, label: "Điện thoại".into() };
        expect_named(a().register_device(authed(&own_token, request)).await, "public_key");
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]).verifying_key().to_bytes().to_vec();
    expect_named(
        a().register_device(authed(&own_token, act::RegisterDeviceRequest { public_key: key, label: "\u{7}".into() }))
            .await,
        "label",
    );
    expect_named(
        a().revoke_device(authed(&own_token, act::RevokeDeviceRequest { device_id: "x".into() })).await,
        "device_id",
    );
    for records in [vec![], vec![act::OfflineRecord::default(); 101]] {
        expect_named(
            a().sync_offline_attendance(authed(&own_token, act::SyncOfflineAttendanceRequest { records })).await,
            "records",
        );
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

    // Programmes.
    expect_named(
        a().create_movement(authed(
            &officer,
            act::CreateMovementRequest { unit_id: tree.province.clone(), name: " ".into(), description: String::new() },
        ))
        .await,
        "name",
    );
    let campaign = act::CreateCampaignRequest {
        unit_id: tree.province.clone(),
        movement_id: doan_platform::convert::new_id(),
        name: "Mùa hè xanh".into(),
        year: 2026,
        starts_on: "2026-06-01".into(),
        ends_on: "2026-08-31".into(),
        ..Default::default()
    };
    let phase = |from: &str, to: &str| act::CampaignPhase {
        name: "Đợt".into(),
        starts_on: from.into(),
        ends_on: to.into(),
        ..Default::default()
    };
    for (field, bad) in [
        ("starts_on", act::CreateCampaignRequest { starts_on: "2026-13-01".into(), ..campaign.clone() }),
        ("ends_on", act::CreateCampaignRequest { ends_on: "2026-05-01".into(), ..campaign.clone() }),
        ("ends_on", act::CreateCampaignRequest { ends_on: "2027-08-31".into(), ..campaign.clone() }),
        ("year", act::CreateCampaignRequest { year: 2025, ..campaign.clone() }),
        (
            "phases",
            act::CreateCampaignRequest {
                phases: vec![phase("2026-06-01", "2026-06-30"), phase("2026-06-30", "2026-07-15")],
                ..campaign.clone()
            },
        ),
        ("phases", act::CreateCampaignRequest { phases: vec![phase("2026-05-01", "2026-06-30")], ..campaign.clone() }),
        ("movement_id", act::CreateCampaignRequest { movement_id: "x".into(), ..campaign.clone() }),
    ] {
        expect_named(a().create_campaign(authed(&officer, bad)).await, field);
    }
    let project = act::CreateYouthProjectRequest {
        unit_id: tree.province.clone(),
        kind: act::ProjectKind::Project as i32,
        name: "Cầu".into(),
        status: act::ProjectStatus::InProgress as i32,
        started_on: "2026-02-01".into(),
        ..Default::default()
    };
    for (field, bad) in [
        ("kind", act::CreateYouthProjectRequest { kind: 0, ..project.clone() }),
        ("status", act::CreateYouthProjectRequest { status: 9, ..project.clone() }),
        ("value_vnd", act::CreateYouthProjectRequest { value_vnd: -1, ..project.clone() }),
        (
            "inaugurated_on",
            act::CreateYouthProjectRequest { status: act::ProjectStatus::Inaugurated as i32, ..project.clone() },
        ),
        ("inaugurated_on", act::CreateYouthProjectRequest { inaugurated_on: "2026-03-01".into(), ..project.clone() }),
        ("started_on", act::CreateYouthProjectRequest { started_on: "1999-01-01".into(), ..project.clone() }),
    ] {
        expect_named(a().create_youth_project(authed(&officer, bad)).await, field);
    }
    let activity_id = a()
        .create_activity(authed(&officer, good.clone()))
        .await
        .expect("activity")
        .into_inner()
        .activity
        .unwrap()
        .activity_id;
    let output = act::RecordActivityOutputRequest { activity_id, ..Default::default() };
    let evidence = |uri: &str| act::Evidence { kind: 1, uri: uri.into(), caption: String::new() };
    for (field, bad) in [
        (
            "metrics.blood_units",
            act::RecordActivityOutputRequest {
                metrics: Some(act::OutputMetrics { blood_units: -5, ..Default::default() }),
                ..output.clone()
            },
        ),
        (
            "evidence",
            act::RecordActivityOutputRequest { evidence: vec![evidence("http://anh.vn/1.jpg")], ..output.clone() },
        ),
        (
            "evidence",
            act::RecordActivityOutputRequest { evidence: vec![evidence("https://a.vn/\u{7}")], ..output.clone() },
        ),
    ] {
        expect_named(a().record_activity_output(authed(&officer, bad)).await, field);
    }
    let review = act::GetReviewFiguresRequest {
        unit_id: tree.province.clone(),
        from_date: "2026-01-01".into(),
        to_date: "2025-12-31".into(),
    };
    expect_named(a().get_review_figures(authed(&officer, review)).await, "to_date");
    expect_named(
        a().export_review(authed(
            &officer,
            act::ExportReviewRequest {
                unit_id: tree.province.clone(),
                from_date: "2026-01-01".into(),
                to_date: "2026-12-31".into(),
                format: 0,
            },
        ))
        .await,
        "format",
    );

    // Targets.
    let setting = act::TargetSetting { unit_id: tree.branch.clone(), metric: 1, value: 10 };
    for (field, year, setting) in [
        ("year", 1999, setting.clone()),
        ("targets", 2026, act::TargetSetting { metric: 0, ..setting.clone() }),
        ("targets", 2026, act::TargetSetting { value: 0, ..setting.clone() }),
        ("targets", 2026, act::TargetSetting { unit_id: "x".into(), ..setting.clone() }),
    ] {
        let r = act::SetTargetsRequest { unit_id: tree.province.clone(), year, targets: vec![setting] };
        expect_named(a().set_targets(authed(&officer, r)).await, field);
    }
    let twice = act::SetTargetsRequest {
        unit_id: tree.province.clone(),
        year: 2026,
        targets: vec![setting.clone(), setting.clone()],
    };
    expect_named(a().set_targets(authed(&officer, twice)).await, "targets");
    expect_named(
        a().get_target_progress(authed(
            &officer,
            act::GetTargetProgressRequest { unit_id: tree.province.clone(), year: 2101 },
        ))
        .await,
        "year",
    );

    // Report requests.
    let asked = act::CreateReportRequestRequest {
        unit_id: tree.province.clone(),
        title: "Báo cáo".into(),
        kind: act::ReportKind::YearEnd as i32,
        from_date: "2026-01-01".into(),
        to_date: "2026-12-31".into(),
        deadline: "2100-12-31".into(),
        ..Default::default()
    };
    for (field, bad) in [
        ("title", act::CreateReportRequestRequest { title: String::new(), ..asked.clone() }),
        ("kind", act::CreateReportRequestRequest { kind: 0, ..asked.clone() }),
        ("deadline", act::CreateReportRequestRequest { deadline: "2000-01-01".into(), ..asked.clone() }),
        ("to_date", act::CreateReportRequestRequest { to_date: "2025-01-01".into(), ..asked.clone() }),
        ("unit_ids", act::CreateReportRequestRequest { unit_ids: vec!["x".into()], ..asked.clone() }),
    ] {
        expect_named(a().create_report_request(authed(&officer, bad)).await, field);
    }

    // The ideas bank.
    for (field, title, description) in [("title", "", "Mô tả"), ("description", "Ý tưởng", ""), ("title", "\u{7}", "x")]
    {
        let r = act::SubmitIdeaRequest { title: title.into(), description: description.into(), field: String::new() };
        expect_named(a().submit_idea(authed(&own_token, r)).await, field);
    }
    expect_named(
        a().list_ideas(authed(&own_token, act::ListIdeasRequest { state: 9, ..Default::default() })).await,
        "state",
    );
    expect_named(
        a().review_idea(authed(
            &officer,
            act::ReviewIdeaRequest { idea_id: "x".into(), decision: 1, note: String::new() },
        ))
        .await,
        "idea_id",
    );

    // The rest of the activities RPCs: control characters in free text, overlong and malformed
    // ids and values, out-of-range years and pages.
    let bell = "Tuổi trẻ\u{7}";
    let long_id = "x".repeat(10_000);
    expect_named(
        a().create_movement(authed(
            &officer,
            act::CreateMovementRequest {
                unit_id: tree.province.clone(),
                name: "Phong trào".into(),
                description: bell.into(),
            },
        ))
        .await,
        "description",
    );
    expect_named(
        a().create_campaign(authed(&officer, act::CreateCampaignRequest { theme: bell.into(), ..campaign.clone() }))
            .await,
        "theme",
    );
    expect_named(
        a().get_campaign(authed(&officer, act::GetCampaignRequest { campaign_id: long_id.clone() })).await,
        "campaign_id",
    );
    expect_named(
        a().list_campaigns(authed(&officer, act::ListCampaignsRequest { unit_id: tree.province.clone(), year: 1999 }))
            .await,
        "year",
    );
    expect_named(
        a().list_youth_projects(authed(
            &officer,
            act::ListYouthProjectsRequest { unit_id: tree.province.clone(), year: 2101 },
        ))
        .await,
        "year",
    );
    expect_named(
        a().create_youth_project(authed(
            &officer,
            act::CreateYouthProjectRequest { description: bell.into(), ..project.clone() },
        ))
        .await,
        "description",
    );
    expect_named(
        a().update_youth_project(authed(
            &officer,
            act::UpdateYouthProjectRequest { project_id: long_id.clone(), ..Default::default() },
        ))
        .await,
        "project_id",
    );
    expect_named(
        a().create_team(authed(
            &officer,
            act::CreateTeamRequest { unit_id: tree.province.clone(), name: bell.into(), ..Default::default() },
        ))
        .await,
        "name",
    );
    expect_named(
        a().change_team_members(authed(
            &officer,
            act::ChangeTeamMembersRequest { team_id: "x".into(), ..Default::default() },
        ))
        .await,
        "team_id",
    );
    expect_named(
        a().record_activity_output(authed(
            &officer,
            act::RecordActivityOutputRequest { note: bell.into(), ..output.clone() },
        ))
        .await,
        "note",
    );
    expect_named(
        a().list_activity_outputs(authed(&officer, act::ListActivityOutputsRequest { activity_id: long_id.clone() }))
            .await,
        "activity_id",
    );
    expect_named(
        a().list_participations(authed(
            &officer,
            act::ListParticipationsRequest {
                activity_id: output.activity_id.clone(),
                page_size: 501,
                ..Default::default()
            },
        ))
        .await,
        "page_size",
    );
    expect_named(
        a().review_attendance(authed(
            &officer,
            act::ReviewAttendanceRequest { participation_id: "x".into(), decision: 1, note: String::new() },
        ))
        .await,
        "participation_id",
    );
    expect_named(
        a().get_report_request(authed(&officer, act::GetReportRequestRequest { request_id: long_id.clone() })).await,
        "request_id",
    );
    expect_named(
        a().get_report_draft(authed(
            &officer,
            act::GetReportDraftRequest { request_id: "x".into(), unit_id: tree.province.clone() },
        ))
        .await,
        "request_id",
    );
    expect_named(
        a().submit_report(authed(
            &officer,
            act::SubmitReportRequest { request_id: "x".into(), unit_id: tree.province.clone(), ..Default::default() },
        ))
        .await,
        "request_id",
    );
    expect_named(
        a().review_report(authed(
            &officer,
            act::ReviewReportRequest {
                request_id: "x".into(),
                unit_id: tree.branch.clone(),
                decision: 1,
                note: String::new(),
            },
        ))
        .await,
        "request_id",
    );
    expect_named(
        a().submit_idea(authed(
            &own_token,
            act::SubmitIdeaRequest { title: "Ý tưởng".into(), description: "Mô tả".into(), field: bell.into() },
        ))
        .await,
        "field",
    );
    expect_named(
        a().link_idea_award(authed(
            &officer,
            act::LinkIdeaAwardRequest { idea_id: "x".into(), award_decision_id: String::new() },
        ))
        .await,
        "idea_id",
    );
    expect_named(
        a().check_out(authed(
            &own_token,
            act::CheckOutRequest {
                activity_id: output.activity_id.clone(),
                code: "x".repeat(121),
                ..Default::default()
            },
        ))
        .await,
        "code",
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
        ..Default::default()
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
    expect_invalid(
        w().list_award_kinds(authed(&officer, aw::ListAwardKindsRequest { on: "1/1/2026".into() })).await,
        "on",
    );
    let mut titled = decision.clone();
    titled.form = aw::AwardForm::Title as i32;
    expect_invalid(w().record_award_decision(authed(&officer, titled)).await, "kind");
    let mut unknown_kind = decision.clone();
    unknown_kind.kind = "huân_chương_x".into();
    expect_invalid(w().record_award_decision(authed(&officer, unknown_kind)).await, "kind");
    let mut early_ceremony = decision.clone();
    early_ceremony.ceremony_date = "2026-01-01".into();
    expect_invalid(w().record_award_decision(authed(&officer, early_ceremony)).await, "ceremony_date");
    expect_invalid(
        w().revoke_award(authed(&officer, aw::RevokeAwardRequest { decision_id: "x".into(), ..Default::default() }))
            .await,
        "decision_id",
    );
    expect_invalid(
        w().get_credential(authed(&officer, aw::GetCredentialRequest { award_id: "x".into() })).await,
        "award_id",
    );
    expect_invalid(w().verify_credential(aw::VerifyCredentialRequest { subject: None }).await, "subject");
    expect_invalid(
        w().verify_credential(aw::VerifyCredentialRequest {
            subject: Some(aw::verify_credential_request::Subject::CredentialJson("{not json".into())),
        })
        .await,
        "credential_json",
    );
    expect_invalid(w().get_issuer(aw::GetIssuerRequest { unit_id: "x".into() }).await, "unit_id");
    expect_invalid(w().get_status_list(aw::GetStatusListRequest { list_id: String::new() }).await, "list_id");
    expect_invalid(
        w().get_award_figures(authed(
            &officer,
            aw::GetAwardFiguresRequest {
                unit_id: tree.province.clone(),
                from: "2026-12-31".into(),
                to: "2026-01-01".into(),
            },
        ))
        .await,
        "to",
    );
    expect_invalid(
        w().get_score(authed(&officer, aw::GetScoreRequest { member_id: "x".into(), ..Default::default() })).await,
        "member_id",
    );
    expect_invalid(
        w().get_leaderboard(authed(
            &officer,
            aw::GetLeaderboardRequest { unit_id: tree.province.clone(), ..Default::default() },
        ))
        .await,
        "subject",
    );
    expect_invalid(
        w().get_leaderboard(authed(
            &officer,
            aw::GetLeaderboardRequest {
                unit_id: tree.province.clone(),
                subject: aw::LeaderboardSubject::Members as i32,
                month: 13,
                ..Default::default()
            },
        ))
        .await,
        "month",
    );
    expect_invalid(
        w().propose_nomination(authed(
            &officer,
            aw::ProposeNominationRequest { unit_id: tree.province.clone(), ..Default::default() },
        ))
        .await,
        "issuing_unit_id",
    );
    expect_invalid(
        w().review_nomination(authed(
            &officer,
            aw::ReviewNominationRequest { nomination_id: "x".into(), ..Default::default() },
        ))
        .await,
        "nomination_id",
    );
    expect_invalid(
        w().close_nomination_review(authed(
            &officer,
            aw::CloseNominationReviewRequest { nomination_id: "x".into(), ..Default::default() },
        ))
        .await,
        "nomination_id",
    );
    expect_invalid(
        w().set_ceremony(authed(&officer, aw::SetCeremonyRequest { decision_id: "x".into(), ..Default::default() }))
            .await,
        "decision_id",
    );
    expect_invalid(
        w().list_nominations(authed(
            &officer,
            aw::ListNominationsRequest { unit_id: tree.province.clone(), status: 9, ..Default::default() },
        ))
        .await,
        "status",
    );
    expect_invalid(
        w().set_scoring_rule(authed(
            &officer,
            aw::SetScoringRuleRequest { unit_id: tree.province.clone(), year: 2026, weights: None },
        ))
        .await,
        "weights",
    );

    // Notifications: an officer's own inbox, devices and preferences, and broadcasts.
    let j = || gw.notifications.clone();
    expect_invalid(
        j().mark_notification_read(authed(
            &officer,
            notif::MarkNotificationReadRequest { notification_id: "x".into() },
        ))
        .await,
        "notification_id",
    );
    expect_invalid(
        j().confirm_delivery(authed(
            &officer,
            notif::ConfirmDeliveryRequest { notification_id: "x".into(), ..Default::default() },
        ))
        .await,
        "notification_id",
    );
    let android = notif::Platform::Android as i32;
    let ios = notif::Platform::Ios as i32;
    for (field, platform, token, sandbox) in [
        ("platform", 0, "token", false),
        ("token", android, "", false),
        ("token", android, "tok\u{7}en", false),
        ("token", ios, "not-hex", false),
        ("token", ios, &"ab".repeat(101), false),
        ("apns_sandbox", android, "token", true),
    ] {
        let r = notif::RegisterDeviceRequest { platform, token: token.to_string(), apns_sandbox: sandbox };
        expect_invalid(j().register_device(authed(&officer, r)).await, field);
    }
    expect_invalid(
        j().unregister_device(authed(&officer, notif::UnregisterDeviceRequest { device_id: String::new() })).await,
        "device_id",
    );
    let prefs = |f: &dyn Fn(&mut notif::Preferences)| {
        let mut p = notif::Preferences::default();
        f(&mut p);
        notif::UpdatePreferencesRequest { preferences: Some(p) }
    };
    expect_invalid(
        j().update_preferences(authed(&officer, notif::UpdatePreferencesRequest { preferences: None })).await,
        "preferences",
    );
    let pair = |category, channel| notif::ChannelPreference { category, channel, enabled: false };
    for (field, request) in [
        ("preferences.channels.category", prefs(&|p| p.channels = vec![pair(9, 1)])),
        ("preferences.channels.channel", prefs(&|p| p.channels = vec![pair(1, 0)])),
        ("preferences.channels", prefs(&|p| p.channels = vec![pair(1, 1), pair(1, 1)])),
        (
            "preferences.quiet_hours_start",
            prefs(&|p| (p.quiet_hours_start, p.quiet_hours_end) = ("25:00".into(), "06:00".into())),
        ),
        ("preferences.quiet_hours_end", prefs(&|p| p.quiet_hours_start = "22:00".into())),
        ("preferences.time_zone", prefs(&|p| p.time_zone = "Mars/Olympus_Mons".into())),
        ("preferences.language", prefs(&|p| p.language = "fr".into())),
        ("preferences.email", prefs(&|p| p.email = "not an address".into())),
        ("preferences.email", prefs(&|p| p.email = "a\u{0}@b.vn".into())),
    ] {
        expect_invalid(j().update_preferences(authed(&officer, request)).await, field);
    }
    let to_province = Some(notif::Audience { target: Some(notif::audience::Target::UnitId(tree.province.clone())) });
    let good = notif::CreateBroadcastRequest {
        unit_id: tree.province.clone(),
        kind: notif::BroadcastKind::Announcement as i32,
        title: "Thông báo".into(),
        body: "Nội dung".into(),
        audience: to_province.clone(),
        ..Default::default()
    };
    let in_days = |d: i64| Some(doan_platform::convert::timestamp(chrono::Utc::now() + chrono::Duration::days(d)));
    type Change = Box<dyn Fn(&mut notif::CreateBroadcastRequest)>;
    let cases: Vec<(&str, Change)> = vec![
        ("unit_id", Box::new(|r| r.unit_id = "x".into())),
        ("kind", Box::new(|r| r.kind = 9)),
        ("title", Box::new(|r| r.title = String::new())),
        ("title", Box::new(|r| r.title = "a\u{1b}b".into())),
        ("body", Box::new(|r| r.body = String::new())),
        ("audience", Box::new(|r| r.audience = None)),
        (
            "audience.member_id",
            Box::new(|r| {
                r.audience = Some(notif::Audience { target: Some(notif::audience::Target::MemberId("x".into())) })
            }),
        ),
        ("send_at", Box::new(move |r| r.send_at = in_days(200))),
        (
            "deadline",
            Box::new(|r| {
                r.kind = notif::BroadcastKind::Directive as i32;
                r.acknowledgement_required = true;
            }),
        ),
        ("acknowledgement_required", Box::new(|r| r.acknowledgement_required = true)),
        ("meeting", Box::new(|r| r.kind = notif::BroadcastKind::Meeting as i32)),
        (
            "documents.url",
            Box::new(move |r| {
                r.kind = notif::BroadcastKind::Directive as i32;
                r.documents = vec![notif::DocumentReference {
                    number: "1".into(),
                    title: "VB".into(),
                    url: "http://x.vn".into(),
                }];
            }),
        ),
        ("remind_hours_before", Box::new(|r| r.remind_hours_before = 999)),
        ("request_id", Box::new(|r| r.request_id = "r".repeat(65))),
    ];
    for (field, change) in cases {
        let mut r = good.clone();
        change(&mut r);
        expect_invalid(j().create_broadcast(authed(&officer, r)).await, field);
    }
    // A role audience names a position kind.
    let mut r = good.clone();
    r.audience = Some(notif::Audience {
        target: Some(notif::audience::Target::Role(notif::RoleAudience {
            unit_id: tree.province.clone(),
            position_kind: 9,
            unit_level: 0,
        })),
    });
    expect_invalid(j().create_broadcast(authed(&officer, r)).await, "audience.role.position_kind");
    let id = || "x".to_string();
    expect_invalid(
        j().get_broadcast(authed(&officer, notif::GetBroadcastRequest { broadcast_id: id() })).await,
        "broadcast_id",
    );
    expect_invalid(
        j().list_broadcasts(authed(
            &officer,
            notif::ListBroadcastsRequest { unit_id: String::new(), ..Default::default() },
        ))
        .await,
        "unit_id",
    );
    expect_invalid(
        j().list_broadcasts(authed(
            &officer,
            notif::ListBroadcastsRequest { unit_id: tree.province.clone(), kind: 9, ..Default::default() },
        ))
        .await,
        "kind",
    );
    expect_invalid(
        j().revoke_broadcast(authed(
            &officer,
            notif::RevokeBroadcastRequest { broadcast_id: id(), reason: "x".into() },
        ))
        .await,
        "broadcast_id",
    );
    expect_invalid(
        j().get_broadcast_completion(authed(
            &officer,
            notif::GetBroadcastCompletionRequest { broadcast_id: id(), unit_id: String::new() },
        ))
        .await,
        "broadcast_id",
    );
    expect_invalid(
        j().list_broadcast_recipients(authed(
            &officer,
            notif::ListBroadcastRecipientsRequest { broadcast_id: id(), ..Default::default() },
        ))
        .await,
        "broadcast_id",
    );
    expect_invalid(
        j().acknowledge_broadcast(authed(&officer, notif::AcknowledgeBroadcastRequest { broadcast_id: id() })).await,
        "broadcast_id",
    );
    expect_invalid(
        j().respond_to_meeting(authed(&officer, notif::RespondToMeetingRequest { broadcast_id: id(), response: 1 }))
            .await,
        "broadcast_id",
    );
    expect_invalid(
        j().record_meeting_attendance(authed(
            &officer,
            notif::RecordMeetingAttendanceRequest { broadcast_id: id(), ..Default::default() },
        ))
        .await,
        "broadcast_id",
    );
    // A sent broadcast: a revocation needs a reason; attendance names recipients.
    let sent =
        j().create_broadcast(authed(&officer, good.clone())).await.expect("broadcast").into_inner().broadcast.unwrap();
    expect_invalid(
        j().revoke_broadcast(authed(
            &officer,
            notif::RevokeBroadcastRequest { broadcast_id: sent.broadcast_id.clone(), reason: String::new() },
        ))
        .await,
        "reason",
    );
    expect_invalid(
        j().list_broadcast_recipients(authed(
            &officer,
            notif::ListBroadcastRecipientsRequest {
                broadcast_id: sent.broadcast_id.clone(),
                state: 7,
                ..Default::default()
            },
        ))
        .await,
        "state",
    );

    tp.stop().await.expect("stop");
}
