//! A province's summer campaign, from the movement to the year-end review: a campaign with a
//! sub-campaign and phases, a volunteer team, activities of the campaign with attendance (one
//! declined, hours approved), outputs approved by the level above and corrected as new
//! versions, youth projects and tasks. The figures of the review are checked against the
//! counts the scenario knows, per subtree, and the .xlsx and PDF exports are read back. In both
//! modes.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use doan_platform::clock::Clock;
use doan_proto::activities as act;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, authed, create_unit, member_login, officer, until_known};
use doan_tests::effects::{ADMISSION_EFFECTS, settle};
use doan_tests::{TestPlatform, base_settings, real_servers};
use tonic::Code;

fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(doan_platform::convert::timestamp(t))
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

struct World {
    gw: Gateway,
    clock: Clock,
    province_officer: String,
    school_officer: String,
    province: String,
    school: String,
    branch: String,
    other_branch: String,
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn activity(&self, title: &str, kind: act::ActivityKind, campaign: &str, team: &str) -> String {
        let start = self.now() - chrono::Duration::minutes(5);
        let request = act::CreateActivityRequest {
            unit_id: self.school.clone(),
            title: title.into(),
            starts_at: ts(start),
            ends_at: ts(start + chrono::Duration::hours(8)),
            points: 2,
            kind: kind as i32,
            campaign_id: campaign.into(),
            team_id: team.into(),
            ..Default::default()
        };
        let r = authed(&self.school_officer, request);
        self.gw
            .activities
            .clone()
            .create_activity(r)
            .await
            .expect("activity")
            .into_inner()
            .activity
            .unwrap()
            .activity_id
    }

    async fn check_in(&self, token: &str, activity_id: &str) -> act::Participation {
        let r = authed(token, act::CheckInRequest { activity_id: activity_id.into(), ..Default::default() });
        self.gw.activities.clone().check_in(r).await.expect("check-in").into_inner().participation.unwrap()
    }

    async fn check_out(&self, token: &str, activity_id: &str) -> act::Participation {
        let r = authed(token, act::CheckOutRequest { activity_id: activity_id.into(), ..Default::default() });
        self.gw.activities.clone().check_out(r).await.expect("check-out").into_inner().participation.unwrap()
    }

    async fn review_attendance(&self, participation_id: &str, decision: act::ReviewDecision, note: &str) {
        let r = authed(
            &self.school_officer,
            act::ReviewAttendanceRequest {
                participation_id: participation_id.into(),
                decision: decision as i32,
                note: note.into(),
            },
        );
        self.gw.activities.clone().review_attendance(r).await.expect("attendance reviewed");
    }

    async fn output(&self, activity_id: &str, metrics: act::OutputMetrics) -> act::ActivityOutput {
        let r = authed(
            &self.school_officer,
            act::RecordActivityOutputRequest {
                activity_id: activity_id.into(),
                metrics: Some(metrics),
                evidence: vec![act::Evidence {
                    kind: act::EvidenceKind::Document as i32,
                    uri: "https://tailieu.doan.vn/xac-nhan-benh-vien.pdf".into(),
                    caption: "Giấy xác nhận của bệnh viện".into(),
                }],
                note: "Số liệu của ban tổ chức".into(),
            },
        );
        self.gw.activities.clone().record_activity_output(r).await.expect("output").into_inner().output.unwrap()
    }

    async fn decide(
        &self,
        token: &str,
        output_id: &str,
        decision: act::ReviewDecision,
        note: &str,
    ) -> Result<act::ActivityOutput, tonic::Status> {
        let r = authed(
            token,
            act::ReviewActivityOutputRequest {
                output_id: output_id.into(),
                decision: decision as i32,
                note: note.into(),
            },
        );
        self.gw.activities.clone().review_activity_output(r).await.map(|r| r.into_inner().output.unwrap())
    }

    async fn project(
        &self,
        kind: act::ProjectKind,
        name: &str,
        value: i64,
        started: NaiveDate,
        inaugurated: Option<NaiveDate>,
    ) -> act::YouthProject {
        let status =
            if inaugurated.is_some() { act::ProjectStatus::Inaugurated } else { act::ProjectStatus::InProgress };
        let r = authed(
            &self.school_officer,
            act::CreateYouthProjectRequest {
                unit_id: self.school.clone(),
                kind: kind as i32,
                name: name.into(),
                value_vnd: value,
                status: status as i32,
                started_on: day(started),
                inaugurated_on: inaugurated.map(day).unwrap_or_default(),
                ..Default::default()
            },
        );
        self.gw.activities.clone().create_youth_project(r).await.expect("project").into_inner().project.unwrap()
    }

    async fn figures(&self, token: &str, unit_id: &str, from: NaiveDate, to: NaiveDate) -> act::ReviewFigures {
        let r = authed(
            token,
            act::GetReviewFiguresRequest { unit_id: unit_id.into(), from_date: day(from), to_date: day(to) },
        );
        self.gw.activities.clone().get_review_figures(r).await.expect("figures").into_inner().figures.unwrap()
    }
}

async fn summer(tp: &TestPlatform, clock: Clock) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Nghệ An", Provincial).await;
    let school = create_unit(&gw, &admin, &province, "Đoàn trường Đại học Vinh", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn K64", Branch).await;
    let other_branch = create_unit(&gw, &admin, &province, "Chi đoàn xã Nghi Phú", Branch).await;
    let province_officer = officer(&gw, &admin, &province, "bithu.nghean").await;
    let school_officer = officer(&gw, &admin, &school, "bithu.dhvinh").await;
    let w = World { gw, clock, province_officer, school_officer, province, school, branch, other_branch };
    let mut members = Vec::new();
    for n in 0..4 {
        members.push(member_login(&w.gw, &w.school_officer, &w.branch, 600 + n).await);
    }
    let ids: Vec<String> = members.iter().map(|m| m.0.clone()).collect();
    let tally = settle(tp, &ADMISSION_EFFECTS[1..2], &ids, Duration::from_secs(20)).await;
    assert!(tally.is_exact(), "{}", tally.report());
    let year = w.clock.today().year();
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let dec31 = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
    let on = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap();

    // The movement and the campaign, with a sub-campaign and its phases.
    let a = || w.gw.activities.clone();
    let movement = until_known("activities learns the province", || {
        let mut c = a();
        let r = authed(
            &w.province_officer,
            act::CreateMovementRequest {
                unit_id: w.province.clone(),
                name: "Thanh niên tình nguyện".into(),
                description: String::new(),
            },
        );
        async move { c.create_movement(r).await }
    })
    .await
    .movement
    .unwrap()
    .movement_id;
    let campaign = a()
        .create_campaign(authed(
            &w.province_officer,
            act::CreateCampaignRequest {
                unit_id: w.province.clone(),
                movement_id: movement.clone(),
                name: "Chiến dịch Thanh niên tình nguyện hè".into(),
                year,
                theme: "Tuổi trẻ Nghệ An xung kích, tình nguyện vì cộng đồng".into(),
                starts_on: day(on(6, 1)),
                ends_on: day(on(8, 31)),
                ..Default::default()
            },
        ))
        .await
        .expect("campaign")
        .into_inner()
        .campaign
        .unwrap();
    let phase = |name: &str, from, to| act::CampaignPhase {
        name: name.into(),
        starts_on: day(from),
        ends_on: day(to),
        ..Default::default()
    };
    let green = a()
        .create_campaign(authed(
            &w.school_officer,
            act::CreateCampaignRequest {
                unit_id: w.school.clone(),
                movement_id: movement.clone(),
                parent_campaign_id: campaign.campaign_id.clone(),
                name: "Mùa hè xanh".into(),
                year,
                starts_on: day(on(7, 1)),
                ends_on: day(on(7, 31)),
                phases: vec![phase("Đợt 2", on(7, 16), on(7, 31)), phase("Đợt 1", on(7, 1), on(7, 15))],
                ..Default::default()
            },
        ))
        .await
        .expect("sub-campaign")
        .into_inner()
        .campaign
        .unwrap();
    assert_eq!(green.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), vec!["Đợt 1", "Đợt 2"]);
    // A sub-campaign outside its campaign's days is refused.
    let err = a()
        .create_campaign(authed(
            &w.school_officer,
            act::CreateCampaignRequest {
                unit_id: w.school.clone(),
                movement_id: movement.clone(),
                parent_campaign_id: campaign.campaign_id.clone(),
                name: "Tiếp sức mùa thi".into(),
                year,
                starts_on: day(on(5, 20)),
                ends_on: day(on(6, 10)),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    // A team of three, led by the first member.
    let team = a()
        .create_team(authed(
            &w.school_officer,
            act::CreateTeamRequest {
                campaign_id: green.campaign_id.clone(),
                unit_id: w.school.clone(),
                name: "Đội hình hiến máu".into(),
                leader_member_id: ids[0].clone(),
                member_ids: ids[..3].to_vec(),
                formed_on: String::new(),
            },
        ))
        .await
        .expect("team")
        .into_inner()
        .team
        .unwrap();
    assert_eq!(team.member_ids.len(), 3);
    let changed = a()
        .change_team_members(authed(
            &w.school_officer,
            act::ChangeTeamMembersRequest {
                team_id: team.team_id.clone(),
                add_member_ids: vec![ids[3].clone()],
                remove_member_ids: vec![ids[0].clone()],
                leader_member_id: ids[1].clone(),
            },
        ))
        .await
        .expect("members changed")
        .into_inner()
        .team
        .unwrap();
    let mut now_in = changed.member_ids.clone();
    now_in.sort();
    let mut expected = ids[1..].to_vec();
    expected.sort();
    assert_eq!((now_in, changed.leader_member_id.as_str()), (expected, ids[1].as_str()));
    let got = a()
        .get_campaign(authed(&w.school_officer, act::GetCampaignRequest { campaign_id: campaign.campaign_id.clone() }))
        .await;
    let got = got.expect("a school officer reads its province's campaign").into_inner();
    assert_eq!(got.sub_campaigns.len(), 1);

    // Blood donation: three check in, check out 90 minutes later; two are approved, one declined.
    let blood =
        w.activity("Ngày hội hiến máu", act::ActivityKind::BloodDonation, &green.campaign_id, &team.team_id).await;
    let mut parts = Vec::new();
    for (_, token) in &members[..3] {
        parts.push(w.check_in(token, &blood).await);
    }
    w.clock.set(w.now() + chrono::Duration::minutes(90));
    for (_, token) in &members[..3] {
        assert_eq!(w.check_out(token, &blood).await.minutes, 90);
    }
    w.review_attendance(&parts[0].participation_id, act::ReviewDecision::Approve, "").await;
    w.review_attendance(&parts[1].participation_id, act::ReviewDecision::Approve, "").await;
    w.review_attendance(&parts[2].participation_id, act::ReviewDecision::Decline, "Không có mặt").await;
    // Tree planting: the first and the fourth check in (no check-out).
    let trees = w.activity("Trồng cây xanh", act::ActivityKind::TreePlanting, &campaign.campaign_id, "").await;
    w.check_in(&members[0].1, &trees).await;
    w.check_in(&members[3].1, &trees).await;

    // Outputs: recorded by the school, approved by the province, corrected as a new version.
    let v1 =
        w.output(&blood, act::OutputMetrics { blood_units: 50, extra_participations: 20, ..Default::default() }).await;
    let err = w.decide(&w.school_officer, &v1.output_id, act::ReviewDecision::Approve, "").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "the organiser does not approve its own: {err:?}");
    w.decide(&w.province_officer, &v1.output_id, act::ReviewDecision::Approve, "").await.expect("v1 approved");
    // Nobody approves outputs they recorded, even from the level above.
    let own = authed(
        &w.province_officer,
        act::RecordActivityOutputRequest { activity_id: trees.clone(), ..Default::default() },
    );
    let own = a().record_activity_output(own).await.expect("recorded by the province").into_inner().output.unwrap();
    let err = w.decide(&w.province_officer, &own.output_id, act::ReviewDecision::Approve, "").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let v2 =
        w.output(&blood, act::OutputMetrics { blood_units: 55, extra_participations: 25, ..Default::default() }).await;
    assert_eq!(v2.version, 2);
    w.decide(&w.province_officer, &v2.output_id, act::ReviewDecision::Approve, "").await.expect("v2 approved");
    let planted = w.output(&trees, act::OutputMetrics { trees_planted: 300, ..Default::default() }).await;
    let err = w.decide(&w.province_officer, &planted.output_id, act::ReviewDecision::Decline, "").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a return says why: {err:?}");
    let returned =
        w.decide(&w.province_officer, &planted.output_id, act::ReviewDecision::Decline, "Thiếu ảnh").await.unwrap();
    assert_eq!(returned.state, act::OutputState::Returned as i32);
    w.output(&trees, act::OutputMetrics { trees_planted: 320, ..Default::default() }).await; // submitted, not approved
    let versions = a()
        .list_activity_outputs(authed(
            &w.school_officer,
            act::ListActivityOutputsRequest { activity_id: blood.clone() },
        ))
        .await
        .unwrap()
        .into_inner()
        .outputs;
    let states: Vec<(i32, i32)> = versions.iter().map(|o| (o.version, o.state)).collect();
    assert_eq!(
        states,
        vec![(2, act::OutputState::Approved as i32), (1, act::OutputState::Superseded as i32)],
        "kept, never overwritten"
    );
    assert_eq!(versions[1].metrics.unwrap().blood_units, 50);

    // Projects and tasks: two projects this year (one inaugurated), one task, one project of last year.
    let today = w.clock.today();
    w.project(act::ProjectKind::Project, "Thắp sáng đường quê", 150_000_000, jan1, None).await;
    let bridge = w.project(act::ProjectKind::Project, "Cầu nông thôn", 80_000_000, jan1, Some(today)).await;
    assert_eq!(bridge.status, act::ProjectStatus::Inaugurated as i32);
    w.project(act::ProjectKind::Task, "Vệ sinh môi trường", 5_000_000, jan1, None).await;
    let old = NaiveDate::from_ymd_opt(year - 1, 5, 1).unwrap();
    let old = w.project(act::ProjectKind::Project, "Nhà nhân ái", 60_000_000, old, None).await;
    let err = a()
        .update_youth_project(authed(
            &w.school_officer,
            act::UpdateYouthProjectRequest {
                project_id: bridge.project_id.clone(),
                status: act::ProjectStatus::InProgress as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "an inaugurated project stays so: {err:?}");
    a().update_youth_project(authed(
        &w.school_officer,
        act::UpdateYouthProjectRequest {
            project_id: old.project_id,
            status: act::ProjectStatus::InProgress as i32,
            value_vnd: 65_000_000,
            ..Default::default()
        },
    ))
    .await
    .expect("value updated");

    // The figures: what the scenario knows.
    let expected = act::ReviewFigures {
        unit_id: w.province.clone(),
        unit_name: "Tỉnh đoàn Nghệ An".into(),
        from_date: day(jan1),
        to_date: day(dec31),
        activities: 2,
        // Accepted check-ins: 2 approved at the blood drive, 2 at the planting; plus 25 without the app.
        participations: 4 + 25,
        unique_members: 3,
        volunteer_minutes: 180,
        teams: 1,
        projects: 2,
        projects_value_vnd: 230_000_000,
        projects_inaugurated: 1,
        tasks: 1,
        tasks_value_vnd: 5_000_000,
        blood_units: 55,
        trees_planted: 0,
        gift_packages: 0,
        beneficiaries: 0,
        vnd_mobilised: 0,
        campaigns: 2,
    };
    assert_eq!(w.figures(&w.province_officer, &w.province, jan1, dec31).await, expected);
    let school = w.figures(&w.school_officer, &w.school, jan1, dec31).await;
    assert_eq!(
        (school.activities, school.participations, school.campaigns),
        (2, 29, 1),
        "the province's campaign is not the school's"
    );
    let other = w.figures(&w.province_officer, &w.other_branch, jan1, dec31).await;
    assert_eq!((other.activities, other.participations, other.projects), (0, 0, 0));
    let err = a()
        .get_review_figures(authed(
            &w.school_officer,
            act::GetReviewFiguresRequest { unit_id: w.province.clone(), from_date: day(jan1), to_date: day(dec31) },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "a school reads its own subtree only");

    // The exports carry the same figures, in Vietnamese.
    let export = |format: act::ExportFormat| {
        let r = authed(
            &w.province_officer,
            act::ExportReviewRequest {
                unit_id: w.province.clone(),
                from_date: day(jan1),
                to_date: day(dec31),
                format: format as i32,
            },
        );
        let mut c = a();
        async move { c.export_review(r).await.expect("export").into_inner() }
    };
    let xlsx = export(act::ExportFormat::Xlsx).await;
    assert_eq!(xlsx.file_name, format!("bao-cao-tong-ket-{year}-01-01-{year}-12-31.xlsx"));
    let cells = read_xlsx(&xlsx.data);
    let value = |label: &str| -> f64 {
        cells
            .iter()
            .find(|(l, _)| l == label)
            .and_then(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{label} in the workbook: {cells:?}"))
    };
    assert!(cells[0].0.contains(&format!("NĂM {year}")), "{:?}", cells[0]);
    assert!(cells.iter().any(|(l, _)| l == "Đơn vị: Tỉnh đoàn Nghệ An"));
    assert_eq!(value("Lượt đoàn viên, thanh niên tham gia"), 29.0);
    assert_eq!(value("Đoàn viên tham gia (không trùng lặp)"), 3.0);
    assert_eq!(value("Giờ tình nguyện được xác nhận"), 3.0);
    assert_eq!(value("Giá trị công trình (đồng)"), 230_000_000.0);
    assert_eq!(value("Đơn vị máu tiếp nhận"), 55.0);
    assert_eq!(value("Đội hình tình nguyện"), 1.0);
    let pdf = export(act::ExportFormat::Pdf).await;
    assert!(pdf.data.starts_with(b"%PDF-"));
    assert_eq!(pdf.content_type, "application/pdf");
    match pdf_text(&pdf.data) {
        Some(text) => {
            for expected in [
                "Tỉnh đoàn Nghệ An",
                "Lượt đoàn viên, thanh niên tham gia",
                "230.000.000",
                "Đơn vị máu tiếp nhận",
                "Công trình đã khánh thành",
            ] {
                assert!(text.contains(expected), "the PDF says {expected:?}:\n{text}");
            }
        }
        None => require_tool("pdftotext"),
    }
    if let Ok(dir) = std::env::var("DOAN_ARTIFACTS") {
        let _ = std::fs::write(format!("{dir}/{}", pdf.file_name), &pdf.data);
    }

    // Targets: the province sets the school's, the school cascades one to its branch.
    let target = |unit: &str, metric: act::TargetMetric, value: i64| act::TargetSetting {
        unit_id: unit.into(),
        metric: metric as i32,
        value,
    };
    let set = |token: &str, unit: &str, targets: Vec<act::TargetSetting>| {
        let r = authed(token, act::SetTargetsRequest { unit_id: unit.into(), year, targets });
        let mut c = a();
        async move { c.set_targets(r).await.map(|r| r.into_inner().below) }
    };
    // Members admitted yesterday count for this year (unless today is the 1st of January).
    let admitted = if (Utc::now().date_naive() - chrono::Duration::days(1)).year() == year { 4 } else { 0 };
    let below = set(
        &w.province_officer,
        &w.province,
        vec![
            target(&w.school, act::TargetMetric::Admissions, 4),
            target(&w.school, act::TargetMetric::BloodUnits, 50),
            target(&w.school, act::TargetMetric::Projects, 4),
            target(&w.school, act::TargetMetric::Participations, 20),
        ],
    )
    .await
    .expect("the province sets the school's targets");
    assert_eq!(below.len(), 1);
    let progress: Vec<(i32, i64, i64, bool)> =
        below[0].targets.iter().map(|t| (t.metric, t.target, t.actual, t.met)).collect();
    assert_eq!(
        progress,
        vec![
            (act::TargetMetric::Admissions as i32, 4, admitted, admitted >= 4),
            (act::TargetMetric::Projects as i32, 4, 2, false),
            (act::TargetMetric::Participations as i32, 20, 29, true),
            (act::TargetMetric::BloodUnits as i32, 50, 55, true),
        ]
    );
    if admitted == 4 {
        assert_eq!(below[0].summary, "Đạt và vượt 3/4 chỉ tiêu (100% – 145%); 1 chỉ tiêu chưa đạt (50%)");
    }
    let err =
        set(&w.province_officer, &w.province, vec![target(&w.branch, act::TargetMetric::Teams, 1)]).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a level sets targets for the units directly below it: {err:?}");
    let err =
        set(&w.school_officer, &w.province, vec![target(&w.school, act::TargetMetric::Teams, 1)]).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "a school does not set its own targets: {err:?}");
    set(&w.school_officer, &w.school, vec![target(&w.branch, act::TargetMetric::Admissions, 3)])
        .await
        .expect("cascaded");
    // Changing a target replaces its value.
    set(&w.province_officer, &w.province, vec![target(&w.school, act::TargetMetric::Projects, 2)]).await.unwrap();
    let school_progress = a()
        .get_target_progress(authed(
            &w.school_officer,
            act::GetTargetProgressRequest { unit_id: w.school.clone(), year },
        ))
        .await
        .expect("progress")
        .into_inner();
    let own = school_progress.own.unwrap();
    let projects = own.targets.iter().find(|t| t.metric == act::TargetMetric::Projects as i32).unwrap();
    assert_eq!((projects.target, projects.actual, projects.percent, projects.met), (2, 2, 100, true));
    let admissions = own.targets.iter().find(|t| t.metric == act::TargetMetric::Admissions as i32).unwrap();
    assert_eq!(admissions.assigned_below, 3, "the school's cascade");
    assert_eq!(school_progress.below.len(), 1);
    assert_eq!(school_progress.below[0].targets[0].actual, admitted, "the branch admitted them");
    report_requests(&w, year, &green).await;
    ideas_and_achievements(tp, &w, &members).await;
    if admitted == 4 {
        assert_eq!(own.summary, "Đạt và vượt 4/4 chỉ tiêu (100% – 145%)");
        // The school's year-end review carries its targets in the Union's words.
        let r = authed(
            &w.school_officer,
            act::ExportReviewRequest {
                unit_id: w.school.clone(),
                from_date: day(jan1),
                to_date: day(dec31),
                format: act::ExportFormat::Pdf as i32,
            },
        );
        let pdf = a().export_review(r).await.expect("the school's review").into_inner();
        if let Some(text) = pdf_text(&pdf.data) {
            for expected in ["Chỉ tiêu năm", "Kết nạp đoàn viên mới", "4/4 (100%)", "Đạt và vượt 4/4 chỉ tiêu"]
            {
                assert!(text.contains(expected), "the school's review says {expected:?}:\n{text}");
            }
        }
    }
}

/// The province asks its units for the year-end report; the school submits (the figures
/// pre-filled), is asked for more, resubmits and is accepted; the other unit is exempted; a
/// report not in by its deadline shows as overdue; the school asks its branch for a campaign
/// phase's report.
async fn report_requests(w: &World, year: i32, green: &act::Campaign) {
    let a = || w.gw.activities.clone();
    let today = w.clock.today();
    let create = |token: &str, request: act::CreateReportRequestRequest| {
        let r = authed(token, request);
        let mut c = a();
        async move { c.create_report_request(r).await.map(|r| r.into_inner()) }
    };
    let year_end = act::CreateReportRequestRequest {
        unit_id: w.province.clone(),
        title: format!("Báo cáo tổng kết năm {year}"),
        kind: act::ReportKind::YearEnd as i32,
        from_date: format!("{year}-01-01"),
        to_date: format!("{year}-12-31"),
        deadline: day(today + chrono::Duration::days(10)),
        ..Default::default()
    };
    let created = create(&w.province_officer, year_end.clone()).await.expect("request");
    let request_id = created.request.unwrap().request_id;
    let names: Vec<&str> = created.reports.iter().map(|r| r.unit_name.as_str()).collect();
    assert_eq!(names, vec!["Chi đoàn xã Nghi Phú", "Đoàn trường Đại học Vinh"], "every unit directly below");
    assert!(created.reports.iter().all(|r| r.state == act::ReportState::Pending as i32));

    let draft = a()
        .get_report_draft(authed(
            &w.school_officer,
            act::GetReportDraftRequest { request_id: request_id.clone(), unit_id: w.school.clone() },
        ))
        .await
        .expect("draft")
        .into_inner();
    let figures = draft.figures.unwrap();
    assert_eq!((figures.activities, figures.participations, figures.projects), (2, 29, 2), "pre-filled from the data");
    let submit = |narrative: &str| {
        let r = authed(
            &w.school_officer,
            act::SubmitReportRequest {
                request_id: request_id.clone(),
                unit_id: w.school.clone(),
                narrative: narrative.into(),
                evidence: vec![],
            },
        );
        let mut c = a();
        async move { c.submit_report(r).await.map(|r| r.into_inner()) }
    };
    let decide = |unit: &str, decision: act::ReportDecision, note: &str| {
        let r = authed(
            &w.province_officer,
            act::ReviewReportRequest {
                request_id: request_id.clone(),
                unit_id: unit.into(),
                decision: decision as i32,
                note: note.into(),
            },
        );
        let mut c = a();
        async move { c.review_report(r).await.map(|r| r.into_inner().report.unwrap().state) }
    };
    let first = submit("Năm qua, Đoàn trường đã...").await.expect("submitted");
    assert_eq!(first.submission.as_ref().unwrap().version, 1);
    assert_eq!(first.submission.unwrap().figures.unwrap().blood_units, 55);
    assert_eq!(first.report.unwrap().state, act::ReportState::Submitted as i32);
    assert_eq!(
        decide(&w.school, act::ReportDecision::RequestSupplement, "Bổ sung số liệu công trình").await.unwrap(),
        act::ReportState::NeedsSupplement as i32
    );
    let second = submit("Bổ sung: hai công trình, một đã khánh thành.").await.expect("resubmitted");
    assert_eq!(
        (second.submission.unwrap().version, second.report.unwrap().state),
        (2, act::ReportState::Resubmitted as i32)
    );
    assert_eq!(decide(&w.school, act::ReportDecision::Accept, "").await.unwrap(), act::ReportState::Accepted as i32);
    let err = submit("Thêm nữa").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "nothing after acceptance: {err:?}");
    let err = decide(&w.other_branch, act::ReportDecision::Accept, "").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "nothing to accept yet: {err:?}");
    assert_eq!(
        decide(&w.other_branch, act::ReportDecision::Exempt, "Chi đoàn mới thành lập").await.unwrap(),
        act::ReportState::Exempted as i32
    );
    let dashboard = a()
        .get_report_request(authed(
            &w.province_officer,
            act::GetReportRequestRequest { request_id: request_id.clone() },
        ))
        .await
        .expect("dashboard")
        .into_inner();
    assert_eq!((dashboard.completed, dashboard.total), (2, 2));
    assert_eq!(dashboard.by_state.get(&(act::ReportState::Accepted as i32)), Some(&1));
    let versions = a()
        .get_report_draft(authed(
            &w.school_officer,
            act::GetReportDraftRequest { request_id: request_id.clone(), unit_id: w.school.clone() },
        ))
        .await
        .unwrap()
        .into_inner()
        .submissions;
    assert_eq!(versions.iter().map(|s| s.version).collect::<Vec<_>>(), vec![2, 1], "every version kept");
    let err = a()
        .get_report_request(authed(&w.school_officer, act::GetReportRequestRequest { request_id: request_id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "the dashboard is the requesting level's");

    // A report not in by its deadline is overdue; a late submission is still taken.
    let due_today = create(
        &w.province_officer,
        act::CreateReportRequestRequest {
            title: "Báo cáo nhanh".into(),
            kind: act::ReportKind::MidYear as i32,
            from_date: format!("{year}-01-01"),
            to_date: format!("{year}-06-30"),
            deadline: day(today),
            unit_ids: vec![w.school.clone()],
            ..year_end.clone()
        },
    )
    .await
    .expect("due today");
    assert_eq!(due_today.reports.len(), 1);
    let late_id = due_today.request.unwrap().request_id;
    let before = w.clock.now();
    w.clock.set(before + chrono::Duration::days(1));
    let listed = a()
        .list_report_requests(authed(&w.school_officer, act::ListReportRequestsRequest { unit_id: w.school.clone() }))
        .await
        .unwrap()
        .into_inner();
    let late = listed.addressed.iter().find(|r| r.request_id == late_id).expect("addressed to the school");
    assert_eq!(late.state, act::ReportState::Overdue as i32);
    let r = authed(
        &w.school_officer,
        act::SubmitReportRequest { request_id: late_id, unit_id: w.school.clone(), ..Default::default() },
    );
    assert_eq!(
        a().submit_report(r).await.unwrap().into_inner().report.unwrap().state,
        act::ReportState::Submitted as i32
    );
    w.clock.set(before);

    // A campaign phase's report: the period is the phase's days.
    let phase = &green.phases[0];
    let by_phase = create(
        &w.school_officer,
        act::CreateReportRequestRequest {
            unit_id: w.school.clone(),
            title: "Báo cáo đợt 1 Mùa hè xanh".into(),
            kind: act::ReportKind::CampaignPhase as i32,
            campaign_id: green.campaign_id.clone(),
            phase_id: phase.phase_id.clone(),
            deadline: day(today + chrono::Duration::days(3)),
            ..Default::default()
        },
    )
    .await
    .expect("phase report");
    let request = by_phase.request.unwrap();
    assert_eq!(
        (request.from_date.as_str(), request.to_date.as_str()),
        (phase.starts_on.as_str(), phase.ends_on.as_str())
    );
    assert_eq!(by_phase.reports.iter().map(|r| r.unit_id.as_str()).collect::<Vec<_>>(), vec![w.branch.as_str()]);
}

/// Members put ideas in the bank; the school shortlists, adopts (the member is told, awards
/// keeps the achievement) and declines; an adopted idea is linked to its award. Projects
/// inaugurated and targets met reach awards too, once each.
async fn ideas_and_achievements(tp: &TestPlatform, w: &World, members: &[(String, String)]) {
    let a = || w.gw.activities.clone();
    let submit = |token: &str, title: &str| {
        let r = authed(
            token,
            act::SubmitIdeaRequest {
                title: title.into(),
                description: "Mô tả chi tiết".into(),
                field: "Chuyển đổi số".into(),
            },
        );
        let mut c = a();
        async move { c.submit_idea(r).await.expect("idea").into_inner().idea.unwrap() }
    };
    let app = submit(&members[0].1, "Ứng dụng điểm danh bằng mã QR").await;
    let map = submit(&members[1].1, "Bản đồ số các công trình thanh niên").await;
    let mine =
        a().list_ideas(authed(&members[0].1, act::ListIdeasRequest::default())).await.unwrap().into_inner().ideas;
    assert_eq!(
        mine.iter().map(|i| i.idea_id.as_str()).collect::<Vec<_>>(),
        vec![app.idea_id.as_str()],
        "a member's own"
    );
    let listed = a()
        .list_ideas(authed(
            &w.school_officer,
            act::ListIdeasRequest { unit_id: w.school.clone(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner()
        .ideas;
    assert_eq!(listed.len(), 2);
    let review = |idea: &str, decision: act::IdeaDecision, note: &str| {
        let r = authed(
            &w.school_officer,
            act::ReviewIdeaRequest { idea_id: idea.into(), decision: decision as i32, note: note.into() },
        );
        let mut c = a();
        async move { c.review_idea(r).await.map(|r| r.into_inner().idea.unwrap()) }
    };
    assert_eq!(
        review(&app.idea_id, act::IdeaDecision::Shortlist, "").await.unwrap().state,
        act::IdeaState::Shortlisted as i32
    );
    assert_eq!(
        review(&app.idea_id, act::IdeaDecision::Adopt, "Áp dụng toàn trường").await.unwrap().state,
        act::IdeaState::Adopted as i32
    );
    let err = review(&map.idea_id, act::IdeaDecision::Decline, "").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a decline says why: {err:?}");
    review(&map.idea_id, act::IdeaDecision::Decline, "Trùng với dự án của tỉnh").await.unwrap();
    let err = review(&app.idea_id, act::IdeaDecision::Decline, "muộn").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "adopted stays adopted: {err:?}");
    let decision = uuid::Uuid::new_v4().to_string();
    let linked = a()
        .link_idea_award(authed(
            &w.school_officer,
            act::LinkIdeaAwardRequest { idea_id: app.idea_id.clone(), award_decision_id: decision.clone() },
        ))
        .await
        .expect("linked")
        .into_inner()
        .idea
        .unwrap();
    assert_eq!(linked.award_decision_id, decision);

    // The member is told once; awards keeps the idea, the inaugurated project and the targets met.
    let notices = tp.database("notifications").await.unwrap();
    let sql = "SELECT member_id AS k, COUNT(*) AS n FROM notifications WHERE kind = 8 GROUP BY member_id";
    assert_eq!(eventually(&notices, sql, &members[0].0, 1).await, 1, "the idea-adopted notice");
    let awards = tp.database("awards").await.unwrap();
    let by_kind = "SELECT kind AS k, COUNT(*) AS n FROM achievements GROUP BY kind";
    assert_eq!(eventually(&awards, by_kind, "idea_adopted", 1).await, 1);
    assert_eq!(eventually(&awards, by_kind, "project_inaugurated", 1).await, 1, "the bridge, once");
    // The met targets (the school's projects, participations and blood units, and the school's
    // and the branch's admissions when they fall in this year), found by the periodic look,
    // each once.
    let admitted = (Utc::now().date_naive() - chrono::Duration::days(1)).year() == w.clock.today().year();
    let met = if admitted { 5 } else { 3 };
    assert_eq!(eventually(&awards, by_kind, "target_met", met).await, met);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let again = doan_tests::effects::counts(&awards, by_kind).await.unwrap();
    assert_eq!(again.get("target_met").copied(), Some(met), "another look publishes nothing twice");
}

/// Waits (up to 20 s) until `key` has at least `want` by `sql`; returns the count.
async fn eventually(db: &sea_orm::DatabaseConnection, sql: &str, key: &str, want: i64) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = doan_tests::effects::counts(db, sql).await.expect("count").get(key).copied().unwrap_or(0);
        if n >= want || tokio::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (first cell, second cell as a number) for every row of the first sheet.
fn read_xlsx(data: &[u8]) -> Vec<(String, Option<f64>)> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(data.to_vec())).expect("an xlsx workbook");
    let sheet = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    sheet
        .rows()
        .map(|row| {
            let label = row.first().map(|c| c.to_string()).unwrap_or_default();
            let value = match row.get(1) {
                Some(Data::Float(f)) => Some(*f),
                Some(Data::Int(i)) => Some(*i as f64),
                _ => None,
            };
            (label, value)
        })
        .collect()
}

/// The PDF's text by poppler's `pdftotext`, when installed.
fn pdf_text(data: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("doan-review-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("review.pdf");
    std::fs::write(&file, data).ok()?;
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output().ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// CI installs the tools the tests read files with; elsewhere a missing one is reported.
fn require_tool(tool: &str) {
    if std::env::var("DOAN_REQUIRE_SERVERS").as_deref() == Ok("1") {
        panic!("{tool} is required in CI (poppler-utils)");
    }
    eprintln!("SKIPPED (the PDF's text): {tool} is not installed (apt-get install poppler-utils)");
}

fn clock_now() -> Clock {
    // 09:00 in Vietnam today, so that the scenario's hours stay within today's date.
    let today = doan_platform::clock::vietnam_date(Utc::now());
    Clock::fixed(doan_platform::clock::vietnam_day_start(today) + chrono::Duration::hours(9))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summer_campaign_review_embedded() {
    let clock = clock_now();
    let mut settings = base_settings();
    settings.jobs.reminders_every_secs = 1;
    let tp = TestPlatform::embedded_at(settings, &[], clock.clone()).await.expect("start");
    summer(&tp, clock).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summer_campaign_review_on_the_real_servers() {
    let Some(urls) = real_servers("summer_campaign_review_on_the_real_servers").await else { return };
    let clock = clock_now();
    let tp = TestPlatform::servers_at(urls, clock.clone(), |s| s.jobs.reminders_every_secs = 1).await.expect("start");
    summer(&tp, clock).await;
    tp.stop().await.expect("stop");
}
