//! Members in bulk, through the gateway, in both modes: a district imports a 2,000-row
//! workbook holding every kind of bad row (checked only, all or nothing, then the valid rows),
//! the report of rejected rows is read back cell by cell, uploading the same file again admits
//! nobody twice, a csv file goes in all or nothing, and the district's members come back out
//! as csv (with personal data, logged per member) and xlsx. Every read model holds every
//! imported member the moment the import says DONE.

use std::time::Duration;

use calamine::Reader;
use chrono::{Datelike, Days, Months, NaiveDate};
use doan_proto::membership::{self as mem, UnitLevel::*};
use doan_tests::client::{Gateway, admission, authed, create_unit, member_name, officer};
use doan_tests::{TestPlatform, real_servers};
use sea_orm::{ConnectionTrait, Statement};
use tokio_stream::StreamExt;
use tonic::Code;

/// The columns of the test file, in the template's order.
const HEADER: [&str; 14] = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Tôn giáo",
    "Số CCCD",
    "Số điện thoại",
    "Email",
    "Mã chi đoàn",
    "Ngày vào Đoàn",
    "Số nghị quyết",
    "Đồng ý của người giám hộ",
    "Xác nhận khác người",
];
const NAME: usize = 1;
const BORN: usize = 2;
const SEX: usize = 3;
const ETHNICITY: usize = 4;
const CITIZEN_ID: usize = 6;
const PHONE: usize = 7;
const EMAIL: usize = 8;
const UNIT: usize = 9;
const ADMITTED: usize = 10;
const CONSENT: usize = 12;
const CONFIRM: usize = 13;

/// A cell as the test writes it.
#[derive(Clone, Debug)]
enum C {
    T(String),
    N(f64),
    D(NaiveDate),
}

impl C {
    /// The cell as an officer reads it (and as the report shows it).
    fn shown(&self) -> String {
        match self {
            C::T(s) => s.clone(),
            C::N(n) => format!("{}", *n as i64),
            C::D(d) => d.format("%d/%m/%Y").to_string(),
        }
    }
}

fn t(s: impl Into<String>) -> C {
    C::T(s.into())
}

fn dmy(d: NaiveDate) -> C {
    t(d.format("%d/%m/%Y").to_string())
}

fn vietnam_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

struct World {
    gw: Gateway,
    district: String,
    officer: String,
    /// Member numbers of the three members admitted one by one.
    existing: Vec<String>,
    /// Their admission requests.
    existing_requests: Vec<mem::AdmitMemberRequest>,
    elsewhere: String,
    b1: String,
    b2: String,
}

async fn world(tp: &TestPlatform) -> World {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.unwrap();
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.unwrap();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Sơn La", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Huyện đoàn Mộc Châu", District).await;
    let school = create_unit(&gw, &admin, &district, "Đoàn trường THPT Mộc Lỵ", Grassroots).await;
    let b1 = create_unit(&gw, &admin, &school, "Chi đoàn 10A1", Branch).await;
    let b2 = create_unit(&gw, &admin, &school, "Chi đoàn 10A2", Branch).await;
    create_unit(&gw, &admin, &district, "Chi đoàn cơ sở Xã Vân Hồ", GrassrootsBranch).await;
    let other = create_unit(&gw, &admin, &root, "Tỉnh đoàn Điện Biên", Provincial).await;
    let other_school = create_unit(&gw, &admin, &other, "Đoàn trường THPT Mường Nhé", Grassroots).await;
    let elsewhere = create_unit(&gw, &admin, &other_school, "Chi đoàn 11B", Branch).await;
    let officer = officer(&gw, &admin, &district, "bithu.mocchau").await;
    let mut existing = Vec::new();
    let mut existing_requests = Vec::new();
    for n in 1..=3 {
        let request = admission(&b1, n);
        let m = gw.membership.clone().admit_member(authed(&officer, request.clone())).await.expect("admit");
        existing.push(m.into_inner().member.unwrap().member_number);
        existing_requests.push(request);
    }
    World { gw, district, officer, existing, existing_requests, elsewhere, b1, b2 }
}

/// One test row and what the import must say of it.
struct TestRow {
    cells: Vec<C>,
    /// The report's error cell, or `None` for a row that must be written (or is present).
    error: Option<String>,
    present: bool,
}

/// Row number in the sheet of row `i` (the header is row 1, a blank row follows row 999).
fn line(i: usize) -> u32 {
    i as u32 + 2 + u32::from(i >= 1000)
}

/// The 2,000 rows: valid ones by default, the bad ones at known places.
fn rows(w: &World) -> Vec<TestRow> {
    let today = vietnam_today();
    let admitted = today - Days::new(30);
    let born = admitted.checked_sub_months(Months::new(20 * 12)).unwrap();
    let mut rows: Vec<TestRow> = (0..2000)
        .map(|i| {
            let unit = match i % 3 {
                0 => t(&w.b1),
                1 => t(&w.b2),
                _ => t("Chi đoàn cơ sở Xã Vân Hồ"),
            };
            let citizen_id = if i % 7 == 0 { C::N(79_200_000_000.0 + i as f64) } else { t(format!("0792{i:08}")) };
            TestRow {
                cells: vec![
                    C::N(i as f64 + 1.0),
                    t(member_name(10_000 + i as u32)),
                    if i % 2 == 0 { C::D(born) } else { dmy(born) },
                    t(if i % 2 == 0 { "Nam" } else { "Nữ" }),
                    t("Kinh"),
                    t("Không"),
                    citizen_id,
                    t("0912345678"),
                    t(""),
                    unit,
                    dmy(admitted),
                    t("12-NQ/ĐTN"),
                    t(""),
                    t(""),
                ],
                error: None,
                present: false,
            }
        })
        .collect();
    let age_rule = "Ngày sinh: vào ngày vào Đoàn phải từ đủ 15 tuổi 1 ngày đến 30 tuổi";
    fn bad(rows: &mut [TestRow], i: usize, column: usize, value: C, error: &str) {
        rows[i].cells[column] = value;
        rows[i].error = Some(error.to_string());
    }
    bad(
        &mut rows,
        10,
        NAME,
        t("Nguyễn Văn 3"),
        "Họ và tên: bắt buộc, tối đa 200 ký tự; mỗi từ chỉ gồm chữ cái (dấu nháy, gạch nối chỉ ở giữa các chữ)",
    );
    bad(&mut rows, 11, BORN, t("31/02/2005"), "Ngày sinh: không phải ngày hợp lệ (dd/mm/yyyy)");
    bad(&mut rows, 12, BORN, dmy(admitted.checked_sub_months(Months::new(14 * 12)).unwrap()), age_rule);
    bad(&mut rows, 13, BORN, dmy(admitted.checked_sub_months(Months::new(31 * 12)).unwrap()), age_rule);
    let child = admitted.checked_sub_months(Months::new(15 * 12)).unwrap() - Days::new(100);
    bad(
        &mut rows,
        14,
        BORN,
        dmy(child),
        "Đồng ý của người giám hộ: bắt buộc vì đoàn viên dưới 16 tuổi vào ngày vào Đoàn",
    );
    // A child whose guardian consented is admitted.
    rows[15].cells[BORN] = dmy(child);
    rows[15].cells[CONSENT] = t("Có");
    bad(&mut rows, 16, SEX, t("X"), "Giới tính: ghi Nam hoặc Nữ");
    bad(&mut rows, 17, ETHNICITY, t(""), "Dân tộc: bắt buộc, tối đa 50 ký tự");
    bad(&mut rows, 18, CITIZEN_ID, t("12345678901"), "Số CCCD: phải gồm đúng 12 chữ số");
    rows[19].cells[PHONE] = t("12345");
    bad(
        &mut rows,
        19,
        EMAIL,
        t("khong-co-a-cong"),
        "Số điện thoại: 10 chữ số bắt đầu bằng 0, hoặc +84 và 9 chữ số\nEmail: không đúng dạng (ví dụ ten@example.vn)",
    );
    bad(
        &mut rows,
        20,
        UNIT,
        t("khong-ton-tai"),
        "Mã chi đoàn: không có chi đoàn đang hoạt động nào có mã hoặc tên «khong-ton-tai» trong đơn vị nhập",
    );
    let outside =
        format!("Mã chi đoàn: không có chi đoàn đang hoạt động nào có mã hoặc tên «{}» trong đơn vị nhập", w.elsewhere);
    bad(&mut rows, 21, UNIT, t(&w.elsewhere), &outside);
    bad(&mut rows, 22, ADMITTED, dmy(today + Days::new(5)), "Ngày vào Đoàn: không được sau ngày hôm nay");
    bad(&mut rows, 23, ADMITTED, t("hôm qua"), "Ngày vào Đoàn: không phải ngày hợp lệ (dd/mm/yyyy)");
    let first = rows[5].cells[CITIZEN_ID].clone();
    bad(&mut rows, 25, CITIZEN_ID, first, &format!("Số CCCD: trùng với dòng {} của tệp", line(5)));
    let twin = rows[6].cells[NAME].clone();
    bad(
        &mut rows,
        26,
        NAME,
        twin,
        &format!(
            "Họ và tên: trùng họ tên và ngày sinh với dòng {} của tệp; nếu là người khác, ghi «Có» ở cột «Xác nhận khác người»",
            line(6)
        ),
    );
    // The same name and birth date, confirmed as another person: admitted.
    rows[27].cells[NAME] = rows[7].cells[NAME].clone();
    rows[27].cells[CONFIRM] = t("Có");
    // Members on file: another person's citizen ID; a same-named twin (unconfirmed, then
    // confirmed); the very same person (present).
    let e = &w.existing_requests;
    bad(&mut rows, 28, CITIZEN_ID, t(&e[0].citizen_id), &format!("Số CCCD: đã thuộc đoàn viên {}", w.existing[0]));
    let e_born = NaiveDate::parse_from_str(&e[1].date_of_birth, "%Y-%m-%d").unwrap();
    rows[29].cells[BORN] = dmy(e_born);
    bad(
        &mut rows,
        29,
        NAME,
        t(&e[1].full_name),
        &format!(
            "Họ và tên: đoàn viên {} có cùng họ tên và ngày sinh; nếu là người khác, ghi «Có» ở cột «Xác nhận khác người»",
            w.existing[1]
        ),
    );
    rows[30].cells[NAME] = t(&e[1].full_name);
    rows[30].cells[BORN] = dmy(e_born);
    rows[30].cells[CONFIRM] = t("Có");
    rows[31].cells[NAME] = t(&e[2].full_name);
    rows[31].cells[BORN] = C::D(NaiveDate::parse_from_str(&e[2].date_of_birth, "%Y-%m-%d").unwrap());
    rows[31].cells[CITIZEN_ID] = t(&e[2].citizen_id);
    rows[31].cells[SEX] = t("Nữ");
    rows[31].present = true;
    rows
}

/// The rows as an xlsx workbook: number and date cells where the test put them, a blank row
/// after row 999.
fn xlsx(rows: &[TestRow]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let ws = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        let r = line(i) - 1;
        for (c, cell) in row.cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                C::T(s) if s.is_empty() => {}
                C::T(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                C::D(d) => {
                    let d = rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                        .unwrap();
                    ws.write_datetime_with_format(r, c, &d, &date).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Uploads `bytes` in chunks of 64 KiB (resending the first chunk once, which is harmless),
/// submits, and watches the import until it ends; returns the final state and the percents
/// seen.
async fn run_import(
    w: &World,
    unit: &str,
    name: &str,
    format: mem::FileFormat,
    mode: mem::ImportMode,
    bytes: &[u8],
) -> (mem::MemberImport, Vec<u32>) {
    let m = w.gw.membership.clone();
    let created = m
        .clone()
        .create_member_import(authed(
            &w.officer,
            mem::CreateMemberImportRequest {
                unit_id: unit.into(),
                file_name: name.into(),
                format: format as i32,
                mode: mode as i32,
                size_bytes: bytes.len() as u64,
            },
        ))
        .await
        .expect("create import")
        .into_inner();
    assert_eq!(created.max_chunk_bytes, 1024 * 1024);
    let id = created.import.unwrap().import_id;
    let chunk = |offset: usize, len: usize| mem::UploadMemberImportChunkRequest {
        import_id: id.clone(),
        offset: offset as u64,
        data: bytes[offset..(offset + len).min(bytes.len())].to_vec(),
    };
    let mut offset = 0;
    while offset < bytes.len() {
        let len = (bytes.len() - offset).min(64 * 1024);
        let r = m.clone().upload_member_import_chunk(authed(&w.officer, chunk(offset, len))).await.expect("chunk");
        offset += len;
        assert_eq!(r.into_inner().received_bytes, offset as u64);
        if offset == len {
            // A retried first chunk changes nothing; a gap is refused.
            let again = m.clone().upload_member_import_chunk(authed(&w.officer, chunk(0, len))).await.expect("again");
            assert_eq!(again.into_inner().received_bytes, offset as u64);
            if offset < bytes.len() {
                let gap = m.clone().upload_member_import_chunk(authed(&w.officer, chunk(offset + 1, 10))).await;
                assert_eq!(gap.unwrap_err().code(), Code::FailedPrecondition);
                let early = m
                    .clone()
                    .submit_member_import(authed(
                        &w.officer,
                        mem::SubmitMemberImportRequest { import_id: id.clone(), sha256: String::new() },
                    ))
                    .await;
                assert_eq!(early.unwrap_err().code(), Code::FailedPrecondition);
            }
        }
    }
    let submitted = m
        .clone()
        .submit_member_import(authed(
            &w.officer,
            mem::SubmitMemberImportRequest { import_id: id.clone(), sha256: sha256_hex(bytes) },
        ))
        .await
        .expect("submit")
        .into_inner()
        .import
        .unwrap();
    assert!(submitted.state >= mem::ImportState::Queued as i32, "{submitted:?}");
    let mut watch = m
        .clone()
        .watch_member_import(authed(&w.officer, mem::WatchMemberImportRequest { import_id: id.clone() }))
        .await
        .expect("watch")
        .into_inner();
    let mut percents = Vec::new();
    let mut last = None;
    let ended = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(message) = watch.next().await {
            let i = message.expect("watch message").import.unwrap();
            percents.push(i.percent);
            last = Some(i);
        }
    })
    .await;
    assert!(ended.is_ok(), "the import did not end in 180 s: {last:?}");
    let last = last.expect("at least one watch message");
    assert!(last.state == mem::ImportState::Done as i32 || last.state == mem::ImportState::Failed as i32, "{last:?}");
    (last, percents)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts with `sql` (returning one `n`) in `service`'s database.
async fn count(tp: &TestPlatform, service: &str, sql: &str) -> i64 {
    let db = tp.database(service).await.expect("db");
    let backend = db.get_database_backend();
    let row = db.query_one_raw(Statement::from_string(backend, sql.to_string())).await.expect("query").expect("row");
    db.close().await.ok();
    row.try_get::<i64>("", "n").expect("n")
}

/// Every read model holds every member membership holds, and every member has a welcome.
async fn read_models_complete(tp: &TestPlatform, what: &str) {
    let members = count(tp, "membership", "SELECT COUNT(*) AS n FROM members").await;
    for service in ["activities", "awards", "notifications"] {
        let held = count(tp, service, "SELECT COUNT(*) AS n FROM directory_members").await;
        assert_eq!(held, members, "{what}: {service} holds {held} of {members} members");
    }
    let welcomed =
        count(tp, "notifications", "SELECT COUNT(DISTINCT member_id) AS n FROM notifications WHERE kind = 1").await;
    assert_eq!(welcomed, members, "{what}: welcome notices");
}

async fn download_report(w: &World, import_id: &str) -> Vec<Vec<String>> {
    let mut stream =
        w.gw.membership
            .clone()
            .download_member_import_report(authed(
                &w.officer,
                mem::DownloadMemberImportReportRequest { import_id: import_id.into() },
            ))
            .await
            .expect("report")
            .into_inner();
    let mut bytes = Vec::new();
    let mut name = String::new();
    while let Some(piece) = stream.next().await {
        let chunk = piece.expect("piece").chunk.unwrap();
        assert_eq!(chunk.offset, bytes.len() as u64);
        name = chunk.file_name;
        bytes.extend(chunk.data);
    }
    assert_eq!(name, "doan-vien-moc-chau-loi.xlsx");
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx report");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

async fn export(w: &World, format: mem::FileFormat, personal: bool) -> (Vec<u8>, Vec<mem::ExportProgress>) {
    let mut stream = w
        .gw
        .membership
        .clone()
        .export_members(authed(
            &w.officer,
            mem::ExportMembersRequest {
                unit_id: w.district.clone(),
                format: format as i32,
                include_personal_data: personal,
                purpose: if personal { "Rà soát danh sách đoàn viên cuối năm".into() } else { String::new() },
                purpose_code: if personal { mem::AccessPurpose::RecordKeeping as i32 } else { 0 },
            },
        ))
        .await
        .expect("export")
        .into_inner();
    let mut bytes = Vec::new();
    let mut progress = Vec::new();
    while let Some(message) = stream.next().await {
        match message.expect("export message").item.expect("item") {
            mem::export_members_response::Item::Progress(p) => progress.push(p),
            mem::export_members_response::Item::Chunk(c) => {
                assert_eq!(c.offset, bytes.len() as u64);
                bytes.extend(c.data);
            }
        }
    }
    (bytes, progress)
}

async fn imports(tp: &TestPlatform) {
    let w = world(tp).await;
    let rows = rows(&w);
    let file = xlsx(&rows);
    let rejected: Vec<(usize, &TestRow)> = rows.iter().enumerate().filter(|(_, r)| r.error.is_some()).collect();
    let present = rows.iter().filter(|r| r.present).count() as u32;
    let valid = 2000 - rejected.len() as u32 - present;
    assert_eq!((rejected.len(), present), (17, 1));

    // Checked only: the counts, and nothing written.
    let (checked, percents) = run_import(
        &w,
        &w.district,
        "doan-vien-moc-chau.xlsx",
        mem::FileFormat::Xlsx,
        mem::ImportMode::ValidateOnly,
        &file,
    )
    .await;
    assert_eq!(checked.state, mem::ImportState::Done as i32, "{checked:?}");
    assert_eq!(
        (checked.rows_total, checked.rows_read, checked.rows_valid, checked.rows_rejected, checked.rows_present),
        (2000, 2000, valid, rejected.len() as u32, present)
    );
    assert_eq!((checked.rows_written, checked.events_total, checked.percent), (0, 0, 100));
    assert!(percents.windows(2).all(|p| p[0] <= p[1]), "progress only grows: {percents:?}");
    assert_eq!(count(tp, "membership", "SELECT COUNT(*) AS n FROM members").await, 3);

    // The report: the header, then every rejected row as it was read, with its problems.
    let report = download_report(&w, &checked.import_id).await;
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    header.push("Lỗi".into());
    assert_eq!(report[0], header);
    assert_eq!(report.len(), rejected.len() + 1);
    for ((i, expected), got) in rejected.iter().zip(&report[1..]) {
        let mut want: Vec<String> = expected.cells.iter().map(C::shown).collect();
        want.push(expected.error.clone().unwrap());
        assert_eq!(got, &want, "report row for file row {}", line(*i));
    }

    // All or nothing: one bad row and nothing is written, no event is sent.
    let (all, _) = run_import(
        &w,
        &w.district,
        "doan-vien-moc-chau.xlsx",
        mem::FileFormat::Xlsx,
        mem::ImportMode::AllOrNothing,
        &file,
    )
    .await;
    assert_eq!(all.state, mem::ImportState::Failed as i32, "{all:?}");
    assert!(all.error.contains("17 dòng lỗi"), "{}", all.error);
    assert_eq!((all.rows_written, all.events_total), (0, 0));
    assert_eq!(count(tp, "membership", "SELECT COUNT(*) AS n FROM members").await, 3);
    assert_eq!(
        count(tp, "membership", "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'doan.events.v1.MembersAdmitted'")
            .await,
        0
    );

    // The valid rows: written in batches, and every read model holds them at DONE.
    let (done, percents) = run_import(
        &w,
        &w.district,
        "doan-vien-moc-chau.xlsx",
        mem::FileFormat::Xlsx,
        mem::ImportMode::ValidRows,
        &file,
    )
    .await;
    assert_eq!(done.state, mem::ImportState::Done as i32, "{done:?}");
    assert_eq!((done.rows_valid, done.rows_written, done.rows_rejected, done.rows_present), (valid, valid, 17, 1));
    assert_eq!((done.events_total, done.events_published, done.events_applied, done.percent), (2, 2, 2, 100));
    assert!(percents.windows(2).all(|p| p[0] <= p[1]), "progress only grows: {percents:?}");
    read_models_complete(tp, "after the import").await;
    let imported = format!("SELECT COUNT(*) AS n FROM members WHERE import_id = '{}'", done.import_id);
    assert_eq!(count(tp, "membership", &imported).await, valid as i64);
    // Counters count them: the district's statistics.
    let stats =
        w.gw.membership
            .clone()
            .get_unit_statistics(authed(
                &w.officer,
                mem::GetUnitStatisticsRequest { unit_id: w.district.clone(), ..Default::default() },
            ))
            .await
            .expect("statistics")
            .into_inner();
    assert_eq!(stats.active_members, u64::from(valid) + 3, "{stats:?}");

    // The same file again: everybody is present, nobody is admitted twice.
    let (again, _) = run_import(
        &w,
        &w.district,
        "doan-vien-moc-chau.xlsx",
        mem::FileFormat::Xlsx,
        mem::ImportMode::ValidRows,
        &file,
    )
    .await;
    assert_eq!(again.state, mem::ImportState::Done as i32, "{again:?}");
    assert_eq!((again.rows_written, again.rows_present, again.rows_rejected), (0, valid + 1, 17));
    assert_eq!(count(tp, "membership", "SELECT COUNT(*) AS n FROM members").await, valid as i64 + 3);

    // A csv file, columns in another order, all or nothing: all 50 written.
    let born = (vietnam_today() - Days::new(400)).checked_sub_months(Months::new(19 * 12)).unwrap();
    let mut csv =
        String::from("\u{feff}Mã chi đoàn,Số CCCD,Họ và tên,Giới tính,Ngày sinh,Dân tộc,Số điện thoại,Ngày vào Đoàn\n");
    for n in 0..50 {
        csv.push_str(&format!(
            "Chi đoàn 10A2,0363{n:08},{},Nam,{},Thái,+84 912 345 678,{}\n",
            member_name(20_000 + n),
            born.format("%Y-%m-%d"),
            (vietnam_today() - Days::new(10)).format("%d/%m/%Y")
        ));
    }
    let (csv_done, _) = run_import(
        &w,
        &w.district,
        "lop-10a2.csv",
        mem::FileFormat::Csv,
        mem::ImportMode::AllOrNothing,
        csv.as_bytes(),
    )
    .await;
    assert_eq!(csv_done.state, mem::ImportState::Done as i32, "{csv_done:?}");
    assert_eq!((csv_done.rows_written, csv_done.events_total), (50, 1));
    read_models_complete(tp, "after the csv import").await;
    doan_tests::effects::subtree_totals_match_members(&tp.settings).await;

    // Export: csv with personal data (logged per member), xlsx without.
    let total = valid as i64 + 53;
    let (bytes, progress) = export(&w, mem::FileFormat::Csv, true).await;
    assert_eq!(progress.last().map(|p| (p.rows_written, p.percent)), Some((total as u32, 100)));
    let mut reader = csv::Reader::from_reader(bytes.strip_prefix("\u{feff}".as_bytes()).expect("a BOM"));
    let head: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head.len(), 15);
    assert_eq!(head[7], "Số CCCD");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len() as i64, total);
    let first = records.iter().find(|r| r[2] == member_name(10_000)).expect("row 0 exported");
    // A number cell's citizen ID got its leading zero back.
    assert_eq!(&first[7], "079200000000");
    assert_eq!(&first[10], w.b1.as_str());
    assert_eq!(&first[14], "Đang sinh hoạt");
    let logged = count(tp, "membership", "SELECT COUNT(*) AS n FROM pii_access_log WHERE rpc = 'ExportMembers'").await;
    assert_eq!(logged, total);
    let (bytes, _) = export(&w, mem::FileFormat::Xlsx, false).await;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx export");
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.height() as i64, total + 1);
    assert_eq!(range.width(), 10);
    assert_eq!(
        count(tp, "membership", "SELECT COUNT(*) AS n FROM pii_access_log WHERE rpc = 'ExportMembers'").await,
        total
    );

    // The template lists the district's branches.
    let template = w
        .gw
        .membership
        .clone()
        .get_member_import_template(authed(
            &w.officer,
            mem::GetMemberImportTemplateRequest { unit_id: w.district.clone(), format: mem::FileFormat::Xlsx as i32 },
        ))
        .await
        .expect("template")
        .into_inner();
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(template.data)).expect("an xlsx template");
    let branches = book.worksheet_range_at(1).unwrap().unwrap();
    assert_eq!(branches.height(), 4, "a header and the three branches");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let first_row: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(first_row, HEADER.map(String::from).to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_imports_2000_members_with_every_kind_of_bad_row_embedded() {
    let tp = TestPlatform::embedded().await.expect("start");
    imports(&tp).await;
    tp.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_imports_2000_members_with_every_kind_of_bad_row_on_the_servers() {
    let Some(urls) = real_servers("a_district_imports_2000_members_with_every_kind_of_bad_row_on_the_servers").await
    else {
        return;
    };
    let tp = TestPlatform::servers(urls).await.expect("start");
    imports(&tp).await;
    tp.stop().await.expect("stop");
}
