//! Members in bulk: a 90,000-row csv file imported through the gateway (upload in chunks,
//! checking, writing, and every read model complete: the time to DONE) against a raw binary
//! `COPY` of the same rows into a table of the same shape (PostgreSQL) or one multi-row
//! `INSERT` transaction (SQLite, the embedded mode); then the same members exported.

use std::time::Instant;

use chrono::{Days, Months};
use doan_proto::membership as mem;
use doan_proto::membership::UnitLevel::*;
use doan_tests::client::{Gateway, authed, create_unit, officer};
use doan_tests::{ADMIN_PASSWORD, TestPlatform};
use sea_orm::ConnectionTrait;
use tokio_stream::StreamExt;

use crate::stats::{Table, f};

/// One member row of the file: branch, citizen ID, name, sex, birth, ethnicity, phone,
/// admitted.
pub(crate) struct Row {
    branch: String,
    citizen_id: String,
    name: String,
    male: bool,
    born: chrono::NaiveDate,
    admitted: chrono::NaiveDate,
}

const SURNAMES: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng"];
const MIDDLE: [&str; 6] = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"];
const GIVEN: [&str; 12] = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Linh", "Mai", "Nam", "Yến"];

pub(crate) fn rows(branches: &[String], n: usize) -> Vec<Row> {
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    (0..n)
        .map(|i| {
            let born = today.checked_sub_months(Months::new(18 * 12)).unwrap() - Days::new((i % 3000) as u64);
            Row {
                branch: branches[i % branches.len()].clone(),
                citizen_id: format!("001{:09}", (i as u64 * 7919) % 1_000_000_000),
                // Names repeat every 6,912 rows and birth dates every 3,000, never both together
                // before 864,000 rows.
                name: format!(
                    "{} {} {} {}",
                    SURNAMES[i % 8],
                    MIDDLE[(i / 8) % 6],
                    GIVEN[(i / 48) % 12],
                    GIVEN[(i / 576) % 12]
                ),
                male: i % 2 == 0,
                born,
                admitted: today - Days::new(10),
            }
        })
        .collect()
}

pub(crate) fn csv_file(rows: &[Row]) -> Vec<u8> {
    let mut out = String::from(
        "\u{feff}Mã chi đoàn,Số CCCD,Họ và tên,Giới tính,Ngày sinh,Dân tộc,Số điện thoại,Ngày vào Đoàn,Số nghị quyết\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},Kinh,0912345678,{},12-NQ/ĐTN\n",
            r.branch,
            r.citizen_id,
            r.name,
            if r.male { "Nam" } else { "Nữ" },
            r.born.format("%d/%m/%Y"),
            r.admitted.format("%d/%m/%Y"),
        ));
    }
    out.into_bytes()
}

/// The shape of membership's `members` for the baselines.
const CREATE: &str = "CREATE TABLE bench_import (
    seq BIGSERIAL PRIMARY KEY, member_id VARCHAR NOT NULL UNIQUE, full_name VARCHAR NOT NULL,
    date_of_birth DATE NOT NULL, sex INTEGER NOT NULL, ethnicity_enc TEXT NOT NULL, religion_enc TEXT NOT NULL,
    citizen_id_enc TEXT NOT NULL, citizen_id_index VARCHAR NOT NULL UNIQUE, phone_enc TEXT NOT NULL,
    email VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, unit_path TEXT NOT NULL, admitted_on DATE NOT NULL,
    resolution_number VARCHAR NOT NULL, status INTEGER NOT NULL, guardian_consent BOOLEAN NOT NULL,
    admitted_by VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL, name_key VARCHAR NOT NULL)";

/// The binary COPY stream of `rows` (PGCOPY header, one tuple per row, trailer).
fn binary_copy(rows: &[Row], path: &str) -> Vec<u8> {
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let mut out = b"PGCOPY\n\xff\r\n\0".to_vec();
    out.extend(0i32.to_be_bytes());
    out.extend(0i32.to_be_bytes());
    let text = |out: &mut Vec<u8>, s: &str| {
        out.extend((s.len() as i32).to_be_bytes());
        out.extend(s.as_bytes());
    };
    let enc = "x".repeat(60);
    for (i, r) in rows.iter().enumerate() {
        out.extend(19i16.to_be_bytes());
        text(&mut out, &format!("00000000-0000-4000-8000-{i:012}"));
        text(&mut out, &r.name);
        out.extend(4i32.to_be_bytes());
        out.extend(((r.born - epoch).num_days() as i32).to_be_bytes());
        out.extend(4i32.to_be_bytes());
        out.extend(if r.male { 1i32 } else { 2 }.to_be_bytes());
        for _ in 0..3 {
            text(&mut out, &enc);
        }
        text(&mut out, &format!("{:064}", i));
        text(&mut out, &enc);
        text(&mut out, "");
        text(&mut out, &r.branch);
        text(&mut out, path);
        out.extend(4i32.to_be_bytes());
        out.extend(((r.admitted - epoch).num_days() as i32).to_be_bytes());
        text(&mut out, "12-NQ/ĐTN");
        out.extend(4i32.to_be_bytes());
        out.extend(1i32.to_be_bytes());
        out.extend(1i32.to_be_bytes());
        out.push(0);
        text(&mut out, "bench");
        out.extend(8i32.to_be_bytes());
        out.extend(0i64.to_be_bytes());
        text(&mut out, &r.name.to_lowercase());
    }
    out.extend((-1i16).to_be_bytes());
    out
}

/// A district with `branches` branches and its officer.
pub(crate) async fn district(
    tp: &TestPlatform,
    branches: usize,
) -> anyhow::Result<(Gateway, String, String, Vec<String>, String)> {
    let gw = Gateway::connect(tp.platform.gateway_addr).await?;
    let admin = gw.login("admin", ADMIN_PASSWORD).await?;
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Nghệ An", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Huyện đoàn Quỳnh Lưu", District).await;
    let mut ids = Vec::new();
    let mut school = String::new();
    for b in 0..branches {
        if b % 30 == 0 {
            school = create_unit(&gw, &admin, &district, &format!("Đoàn xã số {}", b / 30 + 1), Grassroots).await;
        }
        ids.push(create_unit(&gw, &admin, &school, &format!("Chi đoàn {}", b + 1), Branch).await);
    }
    let path = gw
        .membership
        .clone()
        .get_unit(authed(&admin, mem::GetUnitRequest { unit_id: district.clone() }))
        .await?
        .into_inner()
        .unit
        .expect("unit")
        .path;
    let officer = officer(&gw, &admin, &district, "bench.import").await;
    Ok((gw, officer, district, ids, path))
}

/// Uploads, submits and watches an import to its end; seconds to DONE and the import.
pub(crate) async fn import(
    gw: &Gateway,
    officer: &str,
    unit: &str,
    file: &[u8],
) -> anyhow::Result<(f64, mem::MemberImport)> {
    let started = Instant::now();
    let m = gw.membership.clone();
    let created = m
        .clone()
        .create_member_import(authed(
            officer,
            mem::CreateMemberImportRequest {
                unit_id: unit.into(),
                file_name: "doan-vien.csv".into(),
                format: mem::FileFormat::Csv as i32,
                mode: mem::ImportMode::ValidRows as i32,
                size_bytes: file.len() as u64,
            },
        ))
        .await?
        .into_inner();
    let id = created.import.expect("import").import_id;
    let chunk = created.max_chunk_bytes as usize;
    for (i, data) in file.chunks(chunk).enumerate() {
        let request = mem::UploadMemberImportChunkRequest {
            import_id: id.clone(),
            offset: (i * chunk) as u64,
            data: data.to_vec(),
        };
        m.clone().upload_member_import_chunk(authed(officer, request)).await?;
    }
    m.clone()
        .submit_member_import(authed(
            officer,
            mem::SubmitMemberImportRequest { import_id: id.clone(), sha256: String::new() },
        ))
        .await?;
    let mut watch = m
        .clone()
        .watch_member_import(authed(officer, mem::WatchMemberImportRequest { import_id: id }))
        .await?
        .into_inner();
    let mut last = None;
    let mut timeline = Vec::new();
    while let Some(update) = watch.next().await {
        let i = update?.import;
        if let Some(i) = &i {
            timeline.push(format!(
                "{:.1}s state {} read {} written {} published {} applied {}",
                started.elapsed().as_secs_f64(),
                i.state,
                i.rows_read,
                i.rows_written,
                i.events_published,
                i.events_applied
            ));
        }
        last = i;
    }
    eprintln!("import timeline:\n  {}", timeline.join("\n  "));
    let last = last.expect("an update");
    anyhow::ensure!(last.state == mem::ImportState::Done as i32, "the import ended {last:?}");
    Ok((started.elapsed().as_secs_f64(), last))
}

/// Exports the district as `format` (personal data with a purpose); seconds and rows.
async fn export(gw: &Gateway, officer: &str, unit: &str, format: mem::FileFormat) -> anyhow::Result<(f64, u32, usize)> {
    let started = Instant::now();
    let mut stream = gw
        .membership
        .clone()
        .export_members(authed(
            officer,
            mem::ExportMembersRequest {
                unit_id: unit.into(),
                format: format as i32,
                include_personal_data: true,
                purpose_code: mem::AccessPurpose::RecordKeeping as i32,
                purpose: "Đo hiệu năng xuất danh sách".into(),
            },
        ))
        .await?
        .into_inner();
    let (mut rows, mut bytes) = (0, 0);
    while let Some(message) = stream.next().await {
        match message?.item {
            Some(mem::export_members_response::Item::Progress(p)) => rows = p.rows_written,
            Some(mem::export_members_response::Item::Chunk(c)) => bytes += c.data.len(),
            None => {}
        }
    }
    Ok((started.elapsed().as_secs_f64(), rows, bytes))
}

/// Runs the scenario on `tp` (`postgres` when on the servers); `n` rows.
pub async fn run(tp: &TestPlatform, mode: &str, n: usize, table: &mut Table) -> anyhow::Result<()> {
    let (gw, officer, district, branches, path) = district(tp, 300).await?;
    let all = rows(&branches, n);
    let file = csv_file(&all);
    let db = tp.database("membership").await?;
    db.execute_unprepared("DROP TABLE IF EXISTS bench_import").await?;
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let create = if postgres {
        CREATE.to_string()
    } else {
        CREATE.replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
    };
    db.execute_unprepared(&create).await?;
    let (baseline, baseline_label) = if postgres {
        let url = tp
            .settings
            .service("membership")
            .map(|s| secrecy::ExposeSecret::expose_secret(&s.database_url).to_string())
            .unwrap_or_default();
        let mut conn = <sqlx::postgres::PgConnection as sqlx::Connection>::connect(&url).await?;
        let data = binary_copy(&all, &path);
        let started = Instant::now();
        let mut copy = conn
            .copy_in_raw(
                "COPY bench_import (member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc, citizen_id_enc, \
                 citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, status, \
                 guardian_consent, admitted_by, created_at, name_key) FROM STDIN (FORMAT binary)",
            )
            .await?;
        copy.send(data).await?;
        copy.finish().await?;
        (started.elapsed().as_secs_f64(), "raw binary COPY of the same rows, same shape")
    } else {
        let started = Instant::now();
        let txn = sea_orm::TransactionTrait::begin(&db).await?;
        for (c, chunk) in all.chunks(500).enumerate() {
            let values: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let k = c * 500 + i;
                    format!(
                        "('m{k}', '{}', '{}', 1, 'x', 'x', 'x', 'c{k}', 'x', '', '{}', '{path}', '{}', '12', 1, 0, 'b', '2026-01-01', '{}')",
                        r.name, r.born, r.branch, r.admitted, r.name.to_lowercase()
                    )
                })
                .collect();
            txn.execute_unprepared(&format!(
                "INSERT INTO bench_import (member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc, \
                 citizen_id_enc, citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, \
                 status, guardian_consent, admitted_by, created_at, name_key) VALUES {}",
                values.join(", ")
            ))
            .await?;
        }
        txn.commit().await?;
        (started.elapsed().as_secs_f64(), "raw multi-row INSERT of the same rows in one transaction, same shape")
    };
    db.execute_unprepared("DROP TABLE bench_import").await?;
    let (took, done) = import(&gw, &officer, &district, &file).await?;
    eprintln!("import {mode}: {n} rows in {took:.1} s (baseline {baseline:.2} s); {done:?}");
    table.row(vec![
        format!("{mode}: {baseline_label}"),
        n.to_string(),
        f(baseline, 2),
        f(n as f64 / baseline, 0),
        "1.00".into(),
    ]);
    table.row(vec![
        format!(
            "{mode}: ImportMembers through the gateway, upload to DONE with every read model complete ({} batches)",
            done.events_total
        ),
        done.rows_written.to_string(),
        f(took, 2),
        f(f64::from(done.rows_written) / took, 0),
        f(baseline / took, 3),
    ]);
    for format in [mem::FileFormat::Csv, mem::FileFormat::Xlsx] {
        let (secs, rows, bytes) = export(&gw, &officer, &district, format).await?;
        table.row(vec![
            format!(
                "{mode}: ExportMembers {} with personal data ({:.1} MB)",
                if format == mem::FileFormat::Csv { "csv" } else { "xlsx" },
                bytes as f64 / 1e6
            ),
            rows.to_string(),
            f(secs, 2),
            f(f64::from(rows) / secs, 0),
            "—".into(),
        ]);
    }
    Ok(())
}
