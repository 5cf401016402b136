//! The tree changes safely, through the gateway in both modes: the 2025 reorganisation as one
//! plan (preview, conflicts, apply with progress, history kept), single moves, merges,
//! dissolutions and renames, holding units, clusters; every read model converges on
//! membership's tree; a plan interrupted by SIGKILL resumes.

use std::io::Write;
use std::time::Duration;

use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, admission, authed, create_unit, officer, open_activity};
use doan_tests::effects::{ADMISSION_EFFECTS, directories_converge, settle_in, subtree_totals_match_members};
use doan_tests::processes::{Processes, doan_bin};
use doan_tests::{TestPlatform, eventually, real_servers, run_id};
use tokio_stream::StreamExt;
use tonic::Code;

use mem::ReorganisationStepKind as Kind;

fn step(kind: Kind, unit: &str, target: &str) -> mem::ReorganisationStep {
    mem::ReorganisationStep {
        kind: kind as i32,
        unit_id: unit.into(),
        target_unit_id: target.into(),
        ..Default::default()
    }
}

async fn admit(gw: &Gateway, token: &str, branch: &str, n: u32) -> String {
    gw.membership
        .clone()
        .admit_member(authed(token, admission(branch, n)))
        .await
        .unwrap_or_else(|s| panic!("admit {n}: {s:?}"))
        .into_inner()
        .member
        .expect("member")
        .member_id
}

async fn unit(gw: &Gateway, token: &str, id: &str) -> mem::Unit {
    gw.membership
        .clone()
        .get_unit(authed(token, mem::GetUnitRequest { unit_id: id.into() }))
        .await
        .expect("get unit")
        .into_inner()
        .unit
        .expect("unit")
}

/// Follows a plan's progress stream to its end; returns every report.
async fn watch(gw: &Gateway, token: &str, plan_id: &str) -> Vec<mem::ReorganisationPlan> {
    let mut stream = gw
        .membership
        .clone()
        .watch_reorganisation_plan(authed(token, mem::WatchReorganisationPlanRequest { plan_id: plan_id.into() }))
        .await
        .expect("watch")
        .into_inner();
    let mut reports = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Ok(Some(item)) = tokio::time::timeout_at(deadline, stream.next()).await {
        reports.push(item.expect("progress").plan.expect("plan"));
    }
    reports
}

async fn members_of(gw: &Gateway, token: &str, unit_id: &str) -> Vec<mem::MemberSummary> {
    gw.membership
        .clone()
        .list_members(authed(
            token,
            mem::ListMembersRequest { unit_id: unit_id.into(), page_size: 500, ..Default::default() },
        ))
        .await
        .expect("list members")
        .into_inner()
        .members
}

fn kinds(history: &mem::GetUnitHistoryResponse) -> Vec<i32> {
    history.changes.iter().map(|c| c.kind).collect()
}

async fn history(gw: &Gateway, token: &str, id: &str) -> mem::GetUnitHistoryResponse {
    gw.membership
        .clone()
        .get_unit_history(authed(token, mem::GetUnitHistoryRequest { unit_id: id.into() }))
        .await
        .expect("history")
        .into_inner()
}

/// Two provinces, each with a district, a grassroots unit and branches; the district level is
/// dissolved, the grassroots units re-attach to their province, two branches merge, then the
/// first province merges into the second and the second is renamed.
async fn reorganisation_2025(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let ha_giang = create_unit(&gw, &admin, &root, "Tỉnh đoàn Hà Giang", Provincial).await;
    let tuyen_quang = create_unit(&gw, &admin, &root, "Tỉnh đoàn Tuyên Quang", Provincial).await;
    let district_a = create_unit(&gw, &admin, &ha_giang, "Huyện đoàn Vị Xuyên", District).await;
    let district_b = create_unit(&gw, &admin, &tuyen_quang, "Huyện đoàn Sơn Dương", District).await;
    let school_a = create_unit(&gw, &admin, &district_a, "Đoàn trường THPT Vị Xuyên", Grassroots).await;
    let school_b = create_unit(&gw, &admin, &district_b, "Đoàn trường THPT Sơn Dương", Grassroots).await;
    let class_1 = create_unit(&gw, &admin, &school_a, "Chi đoàn 12A1", Branch).await;
    let class_2 = create_unit(&gw, &admin, &school_a, "Chi đoàn 12A2", Branch).await;
    let class_3 = create_unit(&gw, &admin, &school_b, "Chi đoàn 12B1", Branch).await;
    let mut admitted = Vec::new();
    for (i, branch) in [&class_1, &class_1, &class_1, &class_2, &class_2, &class_3].into_iter().enumerate() {
        admitted.push(admit(&gw, &admin, branch, 100 + i as u32).await);
    }
    let moved_member = admitted[3].clone(); // in 12A2, merged into 12A1
    let activity = open_activity(&gw, &admin, &school_a, "Ngày Chủ nhật xanh", 1).await.activity_id;
    let officer_a = officer(&gw, &admin, &ha_giang, "tinh.hagiang").await;

    // A plan in the wrong order: the district still holds its school.
    let wrong = gw
        .membership
        .clone()
        .create_reorganisation_plan(authed(
            &admin,
            mem::CreateReorganisationPlanRequest {
                unit_id: root.clone(),
                title: "Sai thứ tự".into(),
                steps: vec![step(Kind::Dissolve, &district_a, ""), step(Kind::Move, &school_a, &ha_giang)],
                ..Default::default()
            },
        ))
        .await
        .expect("draft")
        .into_inner()
        .plan
        .expect("plan");
    let preview = gw
        .membership
        .clone()
        .preview_reorganisation_plan(authed(
            &admin,
            mem::PreviewReorganisationPlanRequest { plan_id: wrong.plan_id.clone() },
        ))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(preview.conflicts.len(), 1, "{:?}", preview.conflicts);
    assert_eq!((preview.conflicts[0].step, preview.conflicts[0].unit_id.as_str()), (0, district_a.as_str()));
    assert!(preview.conflicts[0].reason.contains("child unit"), "{}", preview.conflicts[0].reason);
    let refused = gw
        .membership
        .clone()
        .apply_reorganisation_plan(authed(
            &admin,
            mem::ApplyReorganisationPlanRequest { plan_id: wrong.plan_id.clone() },
        ))
        .await
        .expect_err("a plan with conflicts does not apply");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("step 0"), "{}", refused.message());
    // An officer of one province cannot touch the other's units, nor read the root's plans.
    let outside = gw
        .membership
        .clone()
        .create_reorganisation_plan(authed(
            &officer_a,
            mem::CreateReorganisationPlanRequest {
                unit_id: ha_giang.clone(),
                title: "Ra ngoài".into(),
                steps: vec![step(Kind::Move, &school_a, &tuyen_quang)],
                ..Default::default()
            },
        ))
        .await
        .expect("a draft is only stored")
        .into_inner()
        .plan
        .expect("plan");
    let preview = gw
        .membership
        .clone()
        .preview_reorganisation_plan(authed(
            &officer_a,
            mem::PreviewReorganisationPlanRequest { plan_id: outside.plan_id },
        ))
        .await
        .expect("preview")
        .into_inner();
    assert!(preview.conflicts[0].reason.contains("outside the plan"), "{:?}", preview.conflicts);
    let denied = gw
        .membership
        .clone()
        .get_reorganisation_plan(authed(&officer_a, mem::GetReorganisationPlanRequest { plan_id: wrong.plan_id }))
        .await
        .expect_err("the root's plan is outside a province officer's scope");
    assert_eq!(denied.code(), Code::PermissionDenied);

    // The real plan.
    let rename = mem::ReorganisationStep {
        kind: Kind::Rename as i32,
        unit_id: tuyen_quang.clone(),
        new_name: "Tỉnh đoàn Tuyên Quang (sau hợp nhất)".into(),
        ..Default::default()
    };
    let plan = gw
        .membership
        .clone()
        .create_reorganisation_plan(authed(
            &admin,
            mem::CreateReorganisationPlanRequest {
                unit_id: root.clone(),
                title: "Sắp xếp tổ chức Đoàn 2025".into(),
                effective_on: "2025-07-01".into(),
                steps: vec![
                    step(Kind::Move, &school_a, &ha_giang),
                    step(Kind::Move, &school_b, &tuyen_quang),
                    step(Kind::Dissolve, &district_a, ""),
                    step(Kind::Dissolve, &district_b, ""),
                    step(Kind::Merge, &class_2, &class_1),
                    step(Kind::Merge, &ha_giang, &tuyen_quang),
                    rename,
                ],
            },
        ))
        .await
        .expect("draft")
        .into_inner()
        .plan
        .expect("plan");
    assert_eq!(plan.state, mem::ReorganisationState::Draft as i32);
    let preview = gw
        .membership
        .clone()
        .preview_reorganisation_plan(authed(
            &admin,
            mem::PreviewReorganisationPlanRequest { plan_id: plan.plan_id.clone() },
        ))
        .await
        .expect("preview")
        .into_inner();
    assert!(preview.conflicts.is_empty(), "{:?}", preview.conflicts);
    let touched: Vec<(u64, u64)> = preview.steps.iter().map(|s| (s.units_touched, s.members_touched)).collect();
    assert_eq!(touched[0], (3, 5), "school A, its two branches, five members");
    assert_eq!(touched[1], (2, 1));
    assert_eq!(touched[4], (1, 2), "12A2's two members");
    let applying = gw
        .membership
        .clone()
        .apply_reorganisation_plan(authed(
            &admin,
            mem::ApplyReorganisationPlanRequest { plan_id: plan.plan_id.clone() },
        ))
        .await
        .expect("apply")
        .into_inner()
        .plan
        .expect("plan");
    assert_eq!(applying.progress.as_ref().unwrap().steps_total, 7);
    let reports = watch(&gw, &admin, &plan.plan_id).await;
    let last = reports.last().expect("at least one report");
    assert_eq!(last.state, mem::ReorganisationState::Done as i32, "{last:?}");
    let progress = last.progress.as_ref().unwrap();
    assert_eq!((progress.steps_done, progress.percent), (7, 100));
    assert!(progress.members_done >= 6, "{progress:?}");
    assert!(last.steps.iter().all(|s| s.state == mem::ReorganisationState::Done as i32));

    // The tree as the plan left it.
    let school = unit(&gw, &admin, &school_a).await;
    assert_eq!(school.parent_id, tuyen_quang, "school A followed its province into Tuyên Quang");
    let province = unit(&gw, &admin, &tuyen_quang).await;
    assert_eq!(school.path, format!("{}{school_a}/", province.path));
    assert_eq!(province.name, "Tỉnh đoàn Tuyên Quang (sau hợp nhất)");
    let merged = unit(&gw, &admin, &ha_giang).await;
    assert_eq!((merged.status, merged.merged_into.as_str()), (mem::UnitStatus::Merged as i32, tuyen_quang.as_str()));
    assert_eq!(unit(&gw, &admin, &district_a).await.status, mem::UnitStatus::Dissolved as i32);
    assert_eq!(members_of(&gw, &admin, &tuyen_quang).await.len(), 6, "every member is under the merged province");
    assert_eq!(members_of(&gw, &admin, &class_1).await.len(), 5, "12A2's members are in 12A1");
    assert!(members_of(&gw, &admin, &ha_giang).await.is_empty());
    // The statistics moved with the members: counters of the merged units went to the targets.
    let stats = |unit: String| {
        let gw = gw.clone();
        let admin = admin.clone();
        async move {
            gw.membership
                .clone()
                .get_unit_statistics(authed(&admin, mem::GetUnitStatisticsRequest { unit_id: unit, year: 0 }))
                .await
                .expect("statistics")
                .into_inner()
        }
    };
    let merged_stats = stats(tuyen_quang.clone()).await;
    assert_eq!((merged_stats.active_members, merged_stats.admitted), (6, 6), "{merged_stats:?}");
    assert_eq!(stats(class_1.clone()).await.active_members, 5);
    assert_eq!(stats(class_2.clone()).await.active_members, 0);

    // History: units and members.
    use mem::UnitChangeKind as C;
    assert_eq!(
        kinds(&history(&gw, &admin, &school_a).await),
        vec![C::Created as i32, C::Moved as i32, C::Moved as i32]
    );
    let province_history = history(&gw, &admin, &tuyen_quang).await;
    assert_eq!(kinds(&province_history), vec![C::Created as i32, C::Absorbed as i32, C::Renamed as i32]);
    assert_eq!(province_history.changes[1].other_unit_id, ha_giang);
    assert_eq!(province_history.changes[1].effective_on, "2025-07-01");
    assert_eq!(province_history.changes[1].plan_id, plan.plan_id);
    assert_eq!(kinds(&history(&gw, &admin, &ha_giang).await), vec![C::Created as i32, C::Merged as i32]);
    let placements = gw
        .membership
        .clone()
        .get_member_unit_history(authed(&admin, mem::GetMemberUnitHistoryRequest { member_id: moved_member.clone() }))
        .await
        .expect("member history")
        .into_inner()
        .placements;
    let line: Vec<(&str, &str, &str)> =
        placements.iter().map(|p| (p.unit_id.as_str(), p.until_on.as_str(), p.reason.as_str())).collect();
    // Admitted today, after the plan's effective date: the first period ends the day it
    // began, the second begins then.
    let admitted_on = placements[0].from_on.clone();
    assert_eq!(line, vec![(class_2.as_str(), admitted_on.as_str(), "admission"), (class_1.as_str(), "", "merge")]);
    assert_eq!(placements[1].from_on, admitted_on);

    // No new members or children in a merged or dissolved unit.
    let closed = gw.membership.clone().admit_member(authed(&admin, admission(&class_2, 999))).await.unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition, "{closed:?}");
    assert!(closed.message().contains("merged into"), "{}", closed.message());

    // Every read model holds the same tree; the activity of school A moved with it.
    let acked = admitted.clone();
    let tally = settle_in(&tp.settings, &ADMISSION_EFFECTS, &acked, Duration::from_secs(20)).await;
    assert!(tally.is_exact(), "{}", tally.report());
    directories_converge(&tp.settings, Duration::from_secs(20)).await;
    subtree_totals_match_members(&tp.settings).await;
    let activities_db = tp.database("activities").await.unwrap();
    let path = doan_tests::effects::counts(
        &activities_db,
        &format!(
            "SELECT unit_path AS k, COUNT(*) AS n FROM activities WHERE activity_id = '{activity}' GROUP BY unit_path"
        ),
    )
    .await
    .unwrap();
    assert_eq!(path.keys().next(), Some(&school.path), "the activity's unit path was rewritten");
    // …so the merged province's officer sees it in their subtree.
    let officer_tq = officer(&gw, &admin, &tuyen_quang, "tinh.tuyenquang").await;
    let listed = gw
        .activities
        .clone()
        .list_activities(authed(
            &officer_tq,
            doan_proto::activities::ListActivitiesRequest { unit_id: tuyen_quang.clone(), ..Default::default() },
        ))
        .await
        .expect("list activities")
        .into_inner();
    assert!(listed.activities.iter().any(|a| a.activity_id == activity), "{listed:?}");
}

/// One-step changes, holding units and clusters.
async fn single_changes(tp: &TestPlatform) {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Thành đoàn Hà Nội", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Quận đoàn Ba Đình", District).await;
    let other = create_unit(&gw, &admin, &province, "Quận đoàn Hoàn Kiếm", District).await;
    let school = create_unit(&gw, &admin, &district, "Đoàn trường THPT Phan Đình Phùng", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn 10A1", Branch).await;
    admit(&gw, &admin, &branch, 200).await;
    let officer_p = officer(&gw, &admin, &province, "thanh.hanoi").await;

    // Move (a one-step plan), by the province's officer.
    let plan = gw
        .membership
        .clone()
        .move_unit(authed(
            &officer_p,
            mem::MoveUnitRequest { unit_id: school.clone(), parent_id: other.clone(), ..Default::default() },
        ))
        .await
        .expect("move")
        .into_inner()
        .plan
        .expect("plan");
    assert_eq!(plan.unit_id, province, "an officer's single change is planned in their unit");
    let done = watch(&gw, &officer_p, &plan.plan_id).await;
    assert_eq!(done.last().unwrap().state, mem::ReorganisationState::Done as i32);
    assert_eq!(unit(&gw, &admin, &school).await.parent_id, other);
    assert!(unit(&gw, &admin, &branch).await.path.contains(&format!("/{other}/{school}/")));

    // Refusals: under its own descendant, out of scope, a dissolution with members, a merge
    // across kinds, a future date.
    let refusals = [
        (
            mem::MoveUnitRequest { unit_id: school.clone(), parent_id: branch.clone(), ..Default::default() },
            Code::FailedPrecondition,
        ),
        (
            mem::MoveUnitRequest { unit_id: province.clone(), parent_id: root.clone(), ..Default::default() },
            Code::PermissionDenied,
        ),
        (
            mem::MoveUnitRequest {
                unit_id: school.clone(),
                parent_id: other.clone(),
                effective_on: "2999-01-01".into(),
            },
            Code::InvalidArgument,
        ),
        (
            mem::MoveUnitRequest { unit_id: "not-an-id".into(), parent_id: other.clone(), ..Default::default() },
            Code::InvalidArgument,
        ),
    ];
    for (request, code) in refusals {
        let status = gw.membership.clone().move_unit(authed(&officer_p, request.clone())).await.unwrap_err();
        assert_eq!(status.code(), code, "{request:?}: {status:?}");
    }
    let busy = gw
        .membership
        .clone()
        .dissolve_unit(authed(&officer_p, mem::DissolveUnitRequest { unit_id: branch.clone(), ..Default::default() }))
        .await
        .unwrap_err();
    assert_eq!(busy.code(), Code::FailedPrecondition);
    assert!(busy.message().contains("active member"), "{}", busy.message());
    let across = gw
        .membership
        .clone()
        .merge_units(authed(
            &officer_p,
            mem::MergeUnitsRequest { unit_id: branch.clone(), target_unit_id: district.clone(), ..Default::default() },
        ))
        .await
        .unwrap_err();
    assert_eq!(across.code(), Code::FailedPrecondition, "{across:?}");

    // Merge the emptied district into the other, then dissolve nothing is left to dissolve.
    let merged = gw
        .membership
        .clone()
        .merge_units(authed(
            &officer_p,
            mem::MergeUnitsRequest { unit_id: district.clone(), target_unit_id: other.clone(), ..Default::default() },
        ))
        .await
        .expect("merge")
        .into_inner()
        .plan
        .expect("plan");
    watch(&gw, &officer_p, &merged.plan_id).await;
    assert_eq!(unit(&gw, &admin, &district).await.status, mem::UnitStatus::Merged as i32);
    let empty = create_unit(&gw, &officer_p, &other, "Chi đoàn tạm", Branch).await;
    let dissolved = gw
        .membership
        .clone()
        .dissolve_unit(authed(&officer_p, mem::DissolveUnitRequest { unit_id: empty.clone(), ..Default::default() }))
        .await
        .expect("dissolve")
        .into_inner()
        .plan
        .expect("plan");
    watch(&gw, &officer_p, &dissolved.plan_id).await;
    assert_eq!(unit(&gw, &admin, &empty).await.status, mem::UnitStatus::Dissolved as i32);

    // Rename: by the level above, not by the unit's own officer.
    let renamed = gw
        .membership
        .clone()
        .rename_unit(authed(
            &officer_p,
            mem::RenameUnitRequest { unit_id: other.clone(), name: "Quận đoàn Hoàn Kiếm mới".into() },
        ))
        .await
        .expect("rename")
        .into_inner()
        .unit
        .expect("unit");
    assert_eq!(
        (renamed.name.as_str(), renamed.version),
        ("Quận đoàn Hoàn Kiếm mới", 2),
        "created, renamed (absorbing changes the merged unit)"
    );
    let own = gw
        .membership
        .clone()
        .rename_unit(authed(&officer_p, mem::RenameUnitRequest { unit_id: province.clone(), name: "Tự đổi".into() }))
        .await
        .unwrap_err();
    assert_eq!(own.code(), Code::PermissionDenied);
    let blank = gw
        .membership
        .clone()
        .rename_unit(authed(&officer_p, mem::RenameUnitRequest { unit_id: other.clone(), name: " \u{200b} ".into() }))
        .await
        .unwrap_err();
    assert_eq!(blank.code(), Code::InvalidArgument);
    assert!(blank.message().contains("name"), "{}", blank.message());

    // Holding units: one per parent, branch level only.
    let holding = |parent: &str, level: mem::UnitLevel| mem::CreateUnitRequest {
        parent_id: parent.into(),
        name: "Đơn vị tạm giữ KCN Thăng Long".into(),
        level: level as i32,
        holding: true,
    };
    let held = gw
        .membership
        .clone()
        .create_unit(authed(&officer_p, holding(&province, Branch)))
        .await
        .expect("holding unit")
        .into_inner()
        .unit
        .expect("unit");
    assert!(held.holding);
    let second = gw.membership.clone().create_unit(authed(&officer_p, holding(&province, Branch))).await.unwrap_err();
    assert_eq!(second.code(), Code::AlreadyExists);
    let wrong_level =
        gw.membership.clone().create_unit(authed(&officer_p, holding(&other, Grassroots))).await.unwrap_err();
    assert_eq!(wrong_level.code(), Code::InvalidArgument);
    admit(&gw, &officer_p, &held.unit_id, 201).await;

    // Clusters.
    let cluster = gw
        .membership
        .clone()
        .create_cluster(authed(
            &officer_p,
            mem::CreateClusterRequest {
                unit_id: province.clone(),
                name: "Cụm thi đua số 1".into(),
                unit_ids: vec![other.clone(), school.clone()],
            },
        ))
        .await
        .expect("cluster")
        .into_inner()
        .cluster
        .expect("cluster");
    assert_eq!(cluster.unit_ids.len(), 2);
    let duplicate = gw
        .membership
        .clone()
        .create_cluster(authed(
            &officer_p,
            mem::CreateClusterRequest {
                unit_id: province.clone(), name: "Cụm thi đua số 1".into(), unit_ids: vec![]
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    let outside = gw
        .membership
        .clone()
        .create_cluster(authed(
            &officer_p,
            mem::CreateClusterRequest {
                unit_id: province.clone(), name: "Cụm 2".into(), unit_ids: vec![root.clone()]
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(outside.code(), Code::InvalidArgument, "{outside:?}");
    let updated = gw
        .membership
        .clone()
        .update_cluster_units(authed(
            &officer_p,
            mem::UpdateClusterUnitsRequest {
                cluster_id: cluster.cluster_id.clone(),
                add_unit_ids: vec![held.unit_id.clone()],
                remove_unit_ids: vec![school.clone()],
            },
        ))
        .await
        .expect("update cluster")
        .into_inner()
        .cluster
        .expect("cluster");
    let mut expected = vec![other.clone(), held.unit_id.clone()];
    expected.sort();
    assert_eq!(updated.unit_ids, expected);
    let of_other = gw
        .membership
        .clone()
        .list_clusters(authed(&officer_p, mem::ListClustersRequest { unit_id: other.clone() }))
        .await
        .expect("list clusters")
        .into_inner()
        .clusters;
    assert_eq!(of_other.iter().map(|c| c.cluster_id.as_str()).collect::<Vec<_>>(), vec![cluster.cluster_id.as_str()]);

    directories_converge(&tp.settings, Duration::from_secs(20)).await;
    subtree_totals_match_members(&tp.settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_changes_safely_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    reorganisation_2025(&tp).await;
    tp.stop().await.expect("stop");
    let tp = TestPlatform::embedded().await.expect("start");
    single_changes(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_changes_safely_on_the_real_servers() {
    let Some(urls) = real_servers("the_tree_changes_safely_on_the_real_servers").await else { return };
    let tp = TestPlatform::servers(urls.clone()).await.expect("start");
    reorganisation_2025(&tp).await;
    tp.stop().await.expect("stop");
    let tp = TestPlatform::servers(urls).await.expect("start");
    single_changes(&tp).await;
    tp.stop().await.expect("stop");
}

/// A move of a grassroots unit with 30 members, two members per batch: membership is killed
/// with SIGKILL mid-way and started again; the plan finishes from where it stopped, and every
/// member and every read model ends under the new parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorganisation_resumes_after_sigkill() {
    let Some(urls) = real_servers("a_reorganisation_resumes_after_sigkill").await else { return };
    let Some(bin) = doan_bin() else {
        assert!(std::env::var("DOAN_REQUIRE_SERVERS").as_deref() != Ok("1"), "the doan binary is not built");
        let _ =
            writeln!(std::io::stderr(), "SKIPPED (doan binary): build it with `cargo build -p doan` or set DOAN_BIN");
        return;
    };
    let id = run_id();
    let mut settings = TestPlatform::server_settings(&urls, &id).await.expect("settings");
    settings.jobs.batch_size = 2;
    settings.jobs.batch_pause_ms = 150;
    settings.jobs.lease_secs = 2;
    let mut processes = Processes::start(bin, &settings).await;
    let gw = Gateway::connect(processes.gateway()).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Tuyên Quang", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Huyện đoàn Sơn Dương", District).await;
    let school = create_unit(&gw, &admin, &district, "Đoàn trường THPT Sơn Dương", Grassroots).await;
    let branch = create_unit(&gw, &admin, &school, "Chi đoàn 12A1", Branch).await;
    let mut admitted = Vec::new();
    for n in 0..30 {
        admitted.push(admit(&gw, &admin, &branch, 300 + n).await);
    }
    let plan = gw
        .membership
        .clone()
        .move_unit(authed(
            &admin,
            mem::MoveUnitRequest { unit_id: school.clone(), parent_id: province.clone(), ..Default::default() },
        ))
        .await
        .expect("move")
        .into_inner()
        .plan
        .expect("plan");
    let read = |gw: Gateway, admin: String, plan_id: String| async move {
        gw.membership
            .clone()
            .get_reorganisation_plan(authed(&admin, mem::GetReorganisationPlanRequest { plan_id }))
            .await
            .ok()
            .and_then(|r| r.into_inner().plan)
    };
    eventually("a few batches", Duration::from_secs(30), || {
        let f = read(gw.clone(), admin.clone(), plan.plan_id.clone());
        async move { f.await.filter(|p| p.progress.as_ref().is_some_and(|g| g.members_done >= 4)).map(|_| ()) }
    })
    .await;
    processes.kill("membership").await;
    processes.restart("membership").await;
    let gw = Gateway::connect(processes.gateway()).await.unwrap();
    let reports = watch(&gw, &admin, &plan.plan_id).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.state, mem::ReorganisationState::Done as i32, "{last:?}");
    assert!(last.progress.as_ref().unwrap().members_done >= 30);
    let moved = unit(&gw, &admin, &school).await;
    let members = members_of(&gw, &admin, &school).await;
    assert_eq!(members.len(), 30, "every member is still listed under the moved unit");
    let db = doan_tests::database(&settings, "membership").await.unwrap();
    let stale = doan_tests::effects::counts(
        &db,
        &format!("SELECT 'stale' AS k, COUNT(*) AS n FROM members WHERE unit_path NOT LIKE '{}%'", moved.path),
    )
    .await
    .unwrap();
    assert_eq!(stale.get("stale").copied().unwrap_or(0), 0, "no member keeps the old path");
    let tally = settle_in(&settings, &ADMISSION_EFFECTS, &admitted, Duration::from_secs(30)).await;
    assert!(tally.is_exact(), "{}", tally.report());
    directories_converge(&settings, Duration::from_secs(30)).await;
    processes.stop().await;
    doan_tests::cleanup_servers(&urls, &id, &settings).await;
}
