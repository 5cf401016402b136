//! Every RPC of every public service has one declared policy, and answers by it: walked from
//! the published descriptor set with an anonymous caller, a member, a member of another
//! branch, an officer inside the scope, one outside it and an administrator. Requests name
//! the first branch's resources (by field name: `unit_id`, `member_id`, `activity_id`, …);
//! a caller the policy admits gets past authorization (any answer but UNAUTHENTICATED,
//! PERMISSION_DENIED or NOT_FOUND), one it does not is refused. Through the gateway and at
//! the service itself, so a service reached directly is no weaker.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Datelike;
use doan::ServiceName;
use doan_platform::policy::{Audience, RpcPolicy, Scope};
use doan_proto::{membership as mem, notifications as notif};
use doan_tests::TestPlatform;
use doan_tests::client::{
    Gateway, authed, create_unit, individual_award, member_login, officer, open_activity, until_known,
};
use doan_tests::effects::{ADMISSION_EFFECTS, settle};
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use tonic::Code;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Member,
    OtherMember,
    OfficerInside,
    OfficerOutside,
    Admin,
}

/// Whether `who` is admitted by `policy` for the first branch's resources.
fn admitted(policy: &RpcPolicy, who: Who) -> bool {
    use Audience::*;
    // Addressed to the first branch's member: theirs alone.
    if matches!(policy.scope, Scope::Recipient(_)) && policy.audience != Public {
        return who == Who::Member;
    }
    match (who, policy.audience) {
        (_, Public) => true,
        (Who::Anonymous, _) => false,
        (Who::Member | Who::OtherMember, Officers | Admins) => false,
        (Who::OfficerInside | Who::OfficerOutside | Who::Admin, Members) => false,
        (Who::OfficerInside | Who::OfficerOutside, Admins) => false,
        (Who::Member | Who::OfficerInside | Who::Admin, _) => true,
        // Outsiders reach their own data only.
        (Who::OtherMember | Who::OfficerOutside, _) => matches!(policy.scope, Scope::Own | Scope::None),
    }
}

fn outcome_admits(code: Code) -> bool {
    !matches!(code, Code::Unauthenticated | Code::PermissionDenied | Code::NotFound)
}

async fn call(channel: Channel, path: &str, token: Option<&str>, message: DynamicMessage, streaming: bool) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let mut request = match token {
        Some(t) => authed(t, message),
        None => tonic::Request::new(message),
    };
    request.set_timeout(Duration::from_secs(10));
    let codec = ProstCodec::<DynamicMessage, ()>::default();
    let path: http::uri::PathAndQuery = path.parse().unwrap();
    let result = if streaming {
        grpc.server_streaming(request, path, codec).await.map(|_| ())
    } else {
        grpc.unary(request, path, codec).await.map(|_| ())
    };
    match result {
        Ok(()) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_answers_by_its_declared_policy() {
    let tp = TestPlatform::embedded().await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();

    // Two lines of units: A (province → district → grassroots → branch) and B.
    use doan_proto::membership::UnitLevel::*;
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province_a = create_unit(&gw, &admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let district_a = create_unit(&gw, &admin, &province_a, "Quận đoàn Ba Đình", District).await;
    let grassroots_a = create_unit(&gw, &admin, &district_a, "Đoàn trường THPT Phan Đình Phùng", Grassroots).await;
    let branch_a = create_unit(&gw, &admin, &grassroots_a, "Chi đoàn 12A1", Branch).await;
    let province_b = create_unit(&gw, &admin, &root, "Tỉnh đoàn Nghệ An", Provincial).await;
    let branch_b = create_unit(&gw, &admin, &province_b, "Chi đoàn cơ sở Vinh", Branch).await;
    let officer_a = officer(&gw, &admin, &province_a, "policy.a").await;
    let officer_b = officer(&gw, &admin, &province_b, "policy.b").await;
    let (member_a, member_a_token) = member_login(&gw, &officer_a, &branch_a, 1).await;
    let (member_b, member_b_token) = member_login(&gw, &officer_b, &branch_b, 2).await;
    let tally = settle(&tp, &ADMISSION_EFFECTS, &[member_a.clone(), member_b.clone()], Duration::from_secs(20)).await;
    assert!(tally.is_exact(), "{}", tally.report());

    let activity = open_activity(&gw, &officer_a, &province_a, "Ngày Chủ nhật xanh", 1).await.activity_id;
    // Member A's registration: the participation an organiser reviews.
    let participation = gw
        .activities
        .clone()
        .register_for_activity(authed(
            &member_a_token,
            doan_proto::activities::RegisterForActivityRequest { activity_id: activity.clone() },
        ))
        .await
        .expect("member A registers")
        .into_inner()
        .participation
        .expect("participation")
        .participation_id;
    let decision = gw
        .awards
        .clone()
        .record_award_decision(authed(&officer_a, individual_award("7-QĐ/TĐTN", &member_a)))
        .await
        .expect("award recorded")
        .into_inner()
        .decision
        .expect("decision");
    let award = decision.awards[0].award_id.clone();
    let decision = decision.decision_id;
    let nomination = gw
        .awards
        .clone()
        .propose_nomination(authed(
            &officer_a,
            doan_proto::awards::ProposeNominationRequest {
                unit_id: branch_a.clone(),
                issuing_unit_id: province_a.clone(),
                kind: "certificate_of_merit".into(),
                year: 2026,
                title: "Đề nghị khen thưởng".into(),
                candidates: vec![doan_proto::awards::CandidateProposal {
                    recipient: Some(doan_proto::awards::Recipient {
                        recipient: Some(doan_proto::awards::recipient::Recipient::MemberId(member_a.clone())),
                    }),
                    achievements: "Tích cực".into(),
                }],
            },
        ))
        .await
        .expect("nomination")
        .into_inner()
        .nomination
        .expect("nomination")
        .nomination_id;
    let notice = until_known("the welcome notice", || {
        let mut client = gw.notifications.clone();
        let request = authed(&member_a_token, notif::ListNotificationsRequest::default());
        async move {
            let r = client.list_notifications(request).await?;
            if r.get_ref().notifications.is_empty() {
                return Err(tonic::Status::not_found("not yet"));
            }
            Ok(r)
        }
    })
    .await
    .notifications[0]
        .notification_id
        .clone();

    // A reorganisation plan and a cluster in the first line.
    let plan = gw
        .membership
        .clone()
        .create_reorganisation_plan(authed(
            &admin,
            doan_proto::membership::CreateReorganisationPlanRequest {
                unit_id: grassroots_a.clone(),
                title: "Đổi tên chi đoàn".into(),
                steps: vec![doan_proto::membership::ReorganisationStep {
                    kind: doan_proto::membership::ReorganisationStepKind::Rename as i32,
                    unit_id: branch_a.clone(),
                    new_name: "Chi đoàn 12A1 (mới)".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ))
        .await
        .expect("plan")
        .into_inner()
        .plan
        .expect("plan")
        .plan_id;
    let cluster = gw
        .membership
        .clone()
        .create_cluster(authed(
            &admin,
            doan_proto::membership::CreateClusterRequest {
                unit_id: grassroots_a.clone(),
                name: "Cụm 1".into(),
                unit_ids: vec![branch_a.clone()],
            },
        ))
        .await
        .expect("cluster")
        .into_inner()
        .cluster
        .expect("cluster")
        .cluster_id;

    // A position in the first line (not officer A's own: walking EndPosition must not end it).
    officer(&gw, &admin, &grassroots_a, "policy.grassroots").await;
    let position = gw
        .membership
        .clone()
        .list_positions(authed(
            &admin,
            doan_proto::membership::ListPositionsRequest { unit_id: grassroots_a.clone(), include_ended: false },
        ))
        .await
        .expect("positions")
        .into_inner()
        .positions[0]
        .position_id
        .clone();

    // The Union's year in the first line, by real calls (before the transfer below, while
    // member A is settled in branch A): a cash payment of member A, remitted by branch A to
    // grassroots A; an evaluation period of province A; member A's training year passed and
    // rating confirmed in it; and branch A's introduction of member A to the Party, resting on
    // that rating.
    let vn_today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let today = vn_today.format("%Y-%m-%d").to_string();
    let this_month = vn_today.format("%Y-%m").to_string();
    let year = vn_today.year();
    let payment = gw
        .membership
        .clone()
        .record_dues_payment(authed(
            &officer_a,
            mem::RecordDuesPaymentRequest {
                member_id: member_a.clone(),
                first_month: this_month.clone(),
                months: 1,
                method: mem::PaymentMethod::Cash as i32,
                reference: String::new(),
                amount_vnd: 2000,
                paid_on: today.clone(),
            },
        ))
        .await
        .expect("cash paid")
        .into_inner()
        .payment
        .expect("payment")
        .payment_id;
    let remittance = gw
        .membership
        .clone()
        .create_remittance(authed(
            &officer_a,
            mem::CreateRemittanceRequest { unit_id: branch_a.clone(), period: this_month },
        ))
        .await
        .expect("branch A remits its month")
        .into_inner()
        .remittance
        .expect("remittance");
    assert_eq!(remittance.to_unit_id, grassroots_a, "a branch remits to its grassroots unit");
    let remittance = remittance.remittance_id;
    let period = gw
        .membership
        .clone()
        .open_evaluation_period(authed(
            &admin,
            mem::OpenEvaluationPeriodRequest {
                unit_id: province_a.clone(),
                year,
                sector: mem::EvaluationSector::Calendar as i32,
                proposal_deadline: format!("{year}-12-31"),
                confirmation_deadline: format!("{year}-12-31"),
            },
        ))
        .await
        .expect("province A opens the year")
        .into_inner()
        .period
        .expect("period")
        .period_id;
    let criterion = gw
        .membership
        .clone()
        .create_training_programme(authed(
            &admin,
            mem::CreateTrainingProgrammeRequest {
                unit_id: province_a.clone(),
                year,
                title: "Rèn luyện đoàn viên".into(),
                criteria: vec![mem::TrainingCriterion {
                    title: "Cam kết".into(),
                    kind: mem::CriterionKind::Commitment as i32,
                    target: 0,
                    required: true,
                    ..Default::default()
                }],
            },
        ))
        .await
        .expect("programme")
        .into_inner()
        .programme
        .expect("programme")
        .criteria[0]
        .criterion_id
        .clone();
    gw.membership
        .clone()
        .register_training(authed(
            &officer_a,
            mem::RegisterTrainingRequest { year, member_ids: vec![member_a.clone()] },
        ))
        .await
        .expect("member A registered");
    let record = gw
        .membership
        .clone()
        .evaluate_training(authed(
            &officer_a,
            mem::EvaluateTrainingRequest {
                member_id: member_a.clone(),
                year,
                verdicts: vec![mem::CriterionVerdict {
                    criterion_id: criterion,
                    met: true,
                    officer_note: "Đạt".into(),
                }],
                comment: String::new(),
            },
        ))
        .await
        .expect("training evaluated")
        .into_inner()
        .record
        .expect("record");
    assert_eq!(record.result, mem::TrainingResult::Passed as i32);
    let good = vec![mem::ProposedRating {
        member_id: member_a.clone(),
        rating: mem::MemberRating::Good as i32,
        note: String::new(),
    }];
    gw.membership
        .clone()
        .propose_ratings(authed(
            &officer_a,
            mem::ProposeRatingsRequest { period_id: period.clone(), unit_id: branch_a.clone(), ratings: good },
        ))
        .await
        .expect("branch A proposes");
    gw.membership
        .clone()
        .confirm_ratings(authed(
            &officer_a,
            mem::ConfirmRatingsRequest { period_id: period.clone(), unit_id: branch_a.clone(), changes: vec![] },
        ))
        .await
        .expect("confirmed above the branch");
    let introduction = gw
        .membership
        .clone()
        .propose_party_introduction(authed(
            &officer_a,
            mem::ProposePartyIntroductionRequest {
                unit_id: branch_a.clone(),
                resolution_number: "01-NQ/CĐ".into(),
                resolution_date: today,
                member_ids: vec![member_a.clone()],
            },
        ))
        .await
        .expect("branch A introduces member A to the Party")
        .into_inner()
        .introduction
        .expect("introduction")
        .introduction_id;

    // A transfer of member A to the grassroots unit above (officer A is on both sides).
    let transfer = gw
        .membership
        .clone()
        .request_transfer(authed(
            &admin,
            doan_proto::membership::RequestTransferRequest {
                member_ids: vec![member_a.clone()],
                to_unit_id: grassroots_a.clone(),
                reason: "Chuyển lớp".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("transfer")
        .into_inner()
        .transfer
        .expect("transfer")
        .transfer_id;

    // An application to branch A.
    let application = gw
        .membership
        .clone()
        .submit_application(doan_proto::membership::SubmitApplicationRequest {
            applicant: Some(doan_tests::client::admission(&branch_a, 77)),
            ..Default::default()
        })
        .await
        .expect("application")
        .into_inner()
        .application_id;

    let import = gw
        .membership
        .clone()
        .create_member_import(authed(
            &admin,
            mem::CreateMemberImportRequest {
                unit_id: branch_a.clone(),
                file_name: "chi-doan-12a1.csv".into(),
                format: mem::FileFormat::Csv as i32,
                mode: mem::ImportMode::ValidateOnly as i32,
                size_bytes: 10,
            },
        ))
        .await
        .expect("import")
        .into_inner()
        .import
        .unwrap()
        .import_id;

    // Programmes of province A: a movement, a campaign, a team of member A, a project, and the
    // outputs of an activity of district A (which province A's officer, the level above, reviews).
    let a = || gw.activities.clone();
    let movement = until_known("activities learns province A", || {
        let mut c = a();
        let r = authed(
            &officer_a,
            doan_proto::activities::CreateMovementRequest {
                unit_id: province_a.clone(),
                name: "Tuổi trẻ sáng tạo".into(),
                description: String::new(),
            },
        );
        async move { c.create_movement(r).await }
    })
    .await
    .movement
    .expect("movement")
    .movement_id;
    let campaign = a()
        .create_campaign(authed(
            &officer_a,
            doan_proto::activities::CreateCampaignRequest {
                unit_id: province_a.clone(),
                movement_id: movement.clone(),
                name: "Chiến dịch hè".into(),
                year,
                starts_on: format!("{year}-06-01"),
                ends_on: format!("{year}-08-31"),
                ..Default::default()
            },
        ))
        .await
        .expect("campaign")
        .into_inner()
        .campaign
        .expect("campaign")
        .campaign_id;
    let team = a()
        .create_team(authed(
            &officer_a,
            doan_proto::activities::CreateTeamRequest {
                campaign_id: campaign.clone(),
                unit_id: province_a.clone(),
                name: "Đội hình".into(),
                leader_member_id: member_a.clone(),
                member_ids: vec![member_a.clone()],
                formed_on: String::new(),
            },
        ))
        .await
        .expect("team")
        .into_inner()
        .team
        .expect("team")
        .team_id;
    let project = a()
        .create_youth_project(authed(
            &officer_a,
            doan_proto::activities::CreateYouthProjectRequest {
                unit_id: province_a.clone(),
                kind: doan_proto::activities::ProjectKind::Project as i32,
                name: "Công trình".into(),
                status: doan_proto::activities::ProjectStatus::Planned as i32,
                started_on: format!("{year}-01-02"),
                ..Default::default()
            },
        ))
        .await
        .expect("project")
        .into_inner()
        .project
        .expect("project")
        .project_id;
    // Recorded by district A's own officer: nobody approves what they recorded.
    let officer_district = officer(&gw, &admin, &district_a, "policy.district").await;
    let district_activity = open_activity(&gw, &officer_district, &district_a, "Hiến máu", 1).await.activity_id;
    let output = a()
        .record_activity_output(authed(
            &officer_district,
            doan_proto::activities::RecordActivityOutputRequest {
                activity_id: district_activity,
                ..Default::default()
            },
        ))
        .await
        .expect("output")
        .into_inner()
        .output
        .expect("output")
        .output_id;

    // Grassroots A asks branch A (the unit the walk names) for its report.
    let report_request = a()
        .create_report_request(authed(
            &officer_a,
            doan_proto::activities::CreateReportRequestRequest {
                unit_id: grassroots_a.clone(),
                title: "Báo cáo tổng kết".into(),
                kind: doan_proto::activities::ReportKind::YearEnd as i32,
                from_date: format!("{year}-01-01"),
                to_date: format!("{year}-12-31"),
                deadline: format!("{year}-12-31"),
                ..Default::default()
            },
        ))
        .await
        .expect("report request")
        .into_inner()
        .request
        .expect("request")
        .request_id;

    let idea = a()
        .submit_idea(authed(
            &member_a_token,
            doan_proto::activities::SubmitIdeaRequest {
                title: "Ý tưởng".into(),
                description: "Mô tả".into(),
                field: String::new(),
            },
        ))
        .await
        .expect("idea")
        .into_inner()
        .idea
        .expect("idea")
        .idea_id;

    // A directive from branch A to its member.
    let directive = gw
        .notifications
        .clone()
        .create_broadcast(authed(
            &officer_a,
            notif::CreateBroadcastRequest {
                unit_id: branch_a.clone(),
                kind: notif::BroadcastKind::Directive as i32,
                title: "Văn bản".into(),
                body: "Nội dung".into(),
                audience: Some(notif::Audience { target: Some(notif::audience::Target::MemberId(member_a.clone())) }),
                ..Default::default()
            },
        ))
        .await
        .expect("directive")
        .into_inner()
        .broadcast
        .expect("broadcast")
        .broadcast_id;
    until_known("the directive in the member's inbox", || {
        let mut client = gw.notifications.clone();
        let request = authed(&member_a_token, notif::ListNotificationsRequest::default());
        let directive = directive.clone();
        async move {
            let r = client.list_notifications(request).await?;
            if !r.get_ref().notifications.iter().any(|n| n.broadcast_id == directive) {
                return Err(tonic::Status::not_found("not yet"));
            }
            Ok(r)
        }
    })
    .await;

    // Request fields, by name, naming the first line's resources.
    let fields: BTreeMap<&str, String> = [
        ("unit_id", branch_a.clone()),
        ("parent_id", grassroots_a.clone()),
        ("member_id", member_a.clone()),
        ("activity_id", activity),
        ("decision_id", decision),
        ("award_id", award),
        ("nomination_id", nomination),
        ("notification_id", notice),
        ("issuing_unit_id", province_a.clone()),
        ("plan_id", plan),
        ("cluster_id", cluster),
        ("position_id", position),
        ("transfer_id", transfer),
        ("application_id", application),
        ("member_ids", member_a.clone()),
        ("payment_id", payment),
        ("remittance_id", remittance),
        ("period_id", period),
        ("introduction_id", introduction),
        ("import_id", import),
        ("participation_id", participation),
        ("movement_id", movement),
        ("campaign_id", campaign),
        ("team_id", team),
        ("project_id", project),
        ("output_id", output),
        ("request_id", report_request),
        ("idea_id", idea),
        ("broadcast_id", directive),
    ]
    .into();
    let callers = [
        (Who::Anonymous, None),
        (Who::Member, Some(member_a_token.as_str())),
        (Who::OtherMember, Some(member_b_token.as_str())),
        (Who::OfficerInside, Some(officer_a.as_str())),
        (Who::OfficerOutside, Some(officer_b.as_str())),
        (Who::Admin, Some(admin.as_str())),
    ];

    let pool = DescriptorPool::decode(doan_proto::FILE_DESCRIPTOR_SET).expect("descriptor pool");
    let gateway =
        Channel::from_shared(format!("http://{}", tp.platform.gateway_addr)).unwrap().connect().await.unwrap();
    let mut walked = 0;
    for name in ServiceName::ALL {
        let table = name.policies();
        let service = pool.get_service_by_name(table.service).expect("the table names a service of the contract");
        let methods: Vec<String> = service.methods().map(|m| m.name().to_string()).collect();
        table.check_complete(&methods).expect("one policy per RPC");
        let direct = Channel::from_shared(format!("http://{}", tp.platform.service_addrs[name.as_str()]))
            .unwrap()
            .connect()
            .await
            .unwrap();
        for method in service.methods() {
            let policy = table.get(method.name()).expect("checked above");
            let mut message = DynamicMessage::new(method.input());
            for field in method.input().fields() {
                if let Some(value) = fields.get(field.name()) {
                    let value = Value::String(value.clone());
                    let value = if field.is_list() { Value::List(vec![value]) } else { value };
                    message.set_field(&field, value);
                }
            }
            let path = format!("/{}/{}", table.service, method.name());
            for (who, token) in callers {
                // A member's streams are bounded; each walk opens one and drops it.
                for (via, channel) in [("gateway", gateway.clone()), ("service", direct.clone())] {
                    let code = call(channel, &path, token, message.clone(), method.is_server_streaming()).await;
                    let expected = admitted(policy, who);
                    assert_eq!(
                        outcome_admits(code),
                        expected,
                        "{path} by {who:?} via the {via}: answered {code:?}, policy {policy:?} {}",
                        if expected { "admits" } else { "refuses" }
                    );
                    if who == Who::Anonymous && policy.audience != Audience::Public {
                        assert_eq!(code, Code::Unauthenticated, "{path} anonymous via the {via}");
                    }
                }
            }
            walked += 1;
        }
    }
    assert!(walked >= 21, "walked {walked} RPCs");
    tp.stop().await.expect("stop");
}
