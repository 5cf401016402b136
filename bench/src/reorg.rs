//! A reorganisation at provincial scale: a grassroots unit whose branches hold `members`
//! members moves to another province through MoveUnit (batched member rewrites, events,
//! progress), against one raw `UPDATE … WHERE unit_path LIKE` over a copy of the same rows in
//! the same database.

use std::time::{Duration, Instant};

use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, authed, create_unit};
use doan_tests::{ADMIN_PASSWORD, TestPlatform};
use sea_orm::ConnectionTrait;
use tokio_stream::StreamExt;

use crate::stats::{Table, f};

/// Seeds `members` members into the branches of `branches` (round robin) straight into
/// membership's table (the rows a move rewrites; personal fields are placeholders).
async fn seed(db: &sea_orm::DatabaseConnection, branches: &[(String, String)], members: u64) -> anyhow::Result<()> {
    let per = members / branches.len() as u64;
    for (i, (id, path)) in branches.iter().enumerate() {
        let from = i as u64 * per;
        db.execute_unprepared(&format!(
            "INSERT INTO members (member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc, citizen_id_enc, \
             citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, status, \
             guardian_consent, admitted_by, created_at, name_key) \
             SELECT md5('m' || n), 'Nguyễn Văn An', DATE '2005-05-01', 1, 'x', 'x', 'x', md5('c' || n), 'x', '', \
             '{id}', '{path}', CURRENT_DATE, '1-NQ/ĐTN', 1, false, 'bench', now(), 'nguyen van an' \
             FROM generate_series({from}, {}) AS n",
            from + per - 1
        ))
        .await?;
    }
    db.execute_unprepared("ANALYZE members").await?;
    Ok(())
}

/// The table: raw UPDATE and MoveUnit, members rewritten per second.
pub async fn run(tp: &TestPlatform, members: u64) -> anyhow::Result<Table> {
    let gw = Gateway::connect(tp.platform.gateway_addr).await?;
    let admin = gw.login("admin", ADMIN_PASSWORD).await?;
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let from = create_unit(&gw, &admin, &root, "Tỉnh đoàn Hà Giang", Provincial).await;
    let to = create_unit(&gw, &admin, &root, "Tỉnh đoàn Tuyên Quang", Provincial).await;
    let school = create_unit(&gw, &admin, &from, "Đoàn trường THPT Chuyên", Grassroots).await;
    let mut branches = Vec::new();
    for i in 0..10 {
        let id = create_unit(&gw, &admin, &school, &format!("Chi đoàn {i}"), Branch).await;
        let path = gw
            .membership
            .clone()
            .get_unit(authed(&admin, mem::GetUnitRequest { unit_id: id.clone() }))
            .await?
            .into_inner()
            .unit
            .expect("unit")
            .path;
        branches.push((id, path));
    }
    let db = tp.database("membership").await?;
    seed(&db, &branches, members).await?;
    let old = branches[0].1.rsplitn(3, '/').nth(2).map(|p| format!("{p}/")).unwrap_or_default();

    // Raw: one statement over a copy of the same rows, indexed the same way.
    db.execute_unprepared(
        "DROP TABLE IF EXISTS bench_paths; CREATE TABLE bench_paths AS SELECT seq, unit_path FROM members; \
         CREATE INDEX bench_paths_prefix ON bench_paths (unit_path text_pattern_ops); ANALYZE bench_paths",
    )
    .await?;
    let started = Instant::now();
    let rewritten = db
        .execute_unprepared(&format!(
            "UPDATE bench_paths SET unit_path = '/elsewhere/' || substr(unit_path, {}) WHERE unit_path LIKE '{old}%'",
            old.chars().count() + 1
        ))
        .await?
        .rows_affected();
    let raw = started.elapsed();
    db.execute_unprepared("DROP TABLE bench_paths").await?;

    // Ours: preview, then the move through the gateway until its watch reports done.
    let started = Instant::now();
    let plan = gw
        .membership
        .clone()
        .move_unit(authed(
            &admin,
            mem::MoveUnitRequest { unit_id: school.clone(), parent_id: to, ..Default::default() },
        ))
        .await?
        .into_inner()
        .plan
        .expect("plan");
    let accepted = started.elapsed();
    let mut watch = gw
        .membership
        .clone()
        .watch_reorganisation_plan(authed(&admin, mem::WatchReorganisationPlanRequest { plan_id: plan.plan_id }))
        .await?
        .into_inner();
    let mut reports = 0;
    let mut last = None;
    while let Some(item) = tokio::time::timeout(Duration::from_secs(600), watch.next()).await? {
        reports += 1;
        last = item?.plan;
    }
    let ours = started.elapsed();
    let last = last.expect("a report");
    anyhow::ensure!(last.state == mem::ReorganisationState::Done as i32, "the move did not finish: {last:?}");
    let done = last.progress.map(|p| p.members_done).unwrap_or(0);
    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    let mut table = Table::new(&["path", "members", "seconds", "members/s", "ratio", "progress reports"]);
    table.row(vec![
        "raw UPDATE … LIKE prefix, one statement".into(),
        rewritten.to_string(),
        f(raw.as_secs_f64(), 2),
        f(rate(rewritten, raw), 0),
        "1.00".into(),
        String::new(),
    ]);
    table.row(vec![
        format!("MoveUnit: plan accepted in {} ms, batches of 1,000 to done", accepted.as_millis()),
        done.to_string(),
        f(ours.as_secs_f64(), 2),
        f(rate(done, ours), 0),
        f(rate(done, ours) / rate(rewritten, raw), 2),
        reports.to_string(),
    ]);
    Ok(table)
}
