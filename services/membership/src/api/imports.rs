//! Members in bulk: import sessions (uploaded in chunks, checked and written in the
//! background by whichever process holds the import's lease, watched by a stream), the
//! report of rejected rows, the template, and exports of a subtree.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use doan_platform::AppError;
use doan_platform::auth::{Caller, Role};
use doan_platform::convert::{new_id, parse_id, required_text, timestamp};
use doan_platform::crypto::FieldCipher;
use doan_platform::error::AppResult;
use doan_platform::service::ServiceContext;
use doan_proto::events::MembersAdmitted;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;
use sha2::Digest;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::MembershipApi;
use crate::domain::import::{
    self, BATCH, COLUMNS, Cell, Columns, FileFormat, ImportMode, ImportState, MAX_CHUNK_BYTES, MAX_FILE_BYTES, Row,
    SeenInFile,
};
use crate::domain::member::{Admission, AdmissionAuthority, MemberStatus, member_number};
use crate::domain::sheet::{self, SheetOut};
use crate::domain::stats::{self, MemberFacts};
use crate::domain::unit::UnitLevel;
use crate::events::publish;
use crate::storage::entities::{member, member_import, unit};
use crate::storage::imports::{self, Counts};
use crate::storage::members::NewMember;
use crate::storage::{access_log, members, statistics, units};

/// The services whose read models hold every member: an import is done when each applied
/// every batch (`MemberImportBatchApplied`).
pub const READ_MODELS: [&str; 3] = ["activities", "awards", "notifications"];

/// Rows checked between two progress records.
const CHECK_CHUNK: usize = 1_000;

/// The stream of a watched import.
pub(super) type ImportStream = Pin<Box<dyn Stream<Item = Result<pb::WatchMemberImportResponse, Status>> + Send>>;
/// The stream of a report download.
pub(super) type ReportStream =
    Pin<Box<dyn Stream<Item = Result<pb::DownloadMemberImportReportResponse, Status>> + Send>>;
/// The stream of an export.
pub(super) type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportMembersResponse, Status>> + Send>>;

/// Runs imports in the background: one task per import this process holds.
#[derive(Clone)]
pub struct Importer {
    ctx: ServiceContext,
    cipher: FieldCipher,
    rules: Arc<crate::Rules>,
    runner: String,
    running: doan_platform::jobs::Running,
}

/// A row that passed every check, waiting to be written.
struct Valid {
    admission: Admission,
    unit: Arc<unit::Model>,
    /// The citizen ID's blind index.
    citizen_index: String,
    /// "Xác nhận khác người": the same name and birth date as a member on file is another person.
    confirm_duplicate: bool,
}

impl Importer {
    /// An importer for this process.
    pub fn new(ctx: ServiceContext, cipher: FieldCipher, rules: Arc<crate::Rules>) -> Self {
        Self { ctx, cipher, rules, runner: new_id(), running: Default::default() }
    }

    /// Runs `import_id` on a task of its own unless this process already does.
    pub fn spawn(&self, import_id: &str) {
        let this = self.clone();
        self.running.spawn("member import", import_id, move |id| async move { this.run(&id).await });
    }

    /// Looks for imports left unfinished (by a process that stopped) now and every few
    /// seconds, until shutdown.
    pub fn resume_forever(&self) {
        let (look, resume) = (self.clone(), self.clone());
        self.running.look_forever(
            "member import",
            Duration::from_secs(3),
            self.ctx.shutdown.clone(),
            move || {
                let this = look.clone();
                async move { Ok(imports::runnable(&this.ctx.db).await?.into_iter().map(|i| i.import_id).collect()) }
            },
            move |id| resume.spawn(id),
        );
    }

    /// Holds the lease on `import_id` for another lease period; false when another process
    /// took it or it ended.
    async fn renew(&self, import_id: &str) -> anyhow::Result<bool> {
        let lease = chrono::Duration::seconds(self.ctx.settings.jobs.lease_secs.max(1) as i64);
        let now = self.ctx.clock.now();
        Ok(imports::claim(&self.ctx.db, import_id, &self.runner, now, now + lease).await?)
    }

    async fn run(&self, import_id: &str) -> anyhow::Result<()> {
        loop {
            if self.ctx.shutdown.is_cancelled() {
                imports::release(&self.ctx.db, import_id, &self.runner).await?;
                return Ok(());
            }
            if !self.renew(import_id).await? {
                return Ok(());
            }
            let Some(imp) = imports::find(&self.ctx.db, import_id).await? else { return Ok(()) };
            match ImportState::from_stored(imp.state) {
                ImportState::Queued | ImportState::Validating | ImportState::Writing => {
                    self.check_and_write(&imp).await?
                }
                ImportState::Applying => {
                    let services = READ_MODELS.map(String::from);
                    if imports::applied_batches(&self.ctx.db, import_id, &services).await? >= imp.events_total {
                        imports::finish(&self.ctx.db, import_id, ImportState::Done, "", self.ctx.clock.now()).await?;
                        tracing::info!(import_id, written = imp.rows_written, "member import done");
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                _ => return Ok(()),
            }
        }
    }

    async fn fail(&self, import_id: &str, why: &str) -> anyhow::Result<()> {
        imports::finish(&self.ctx.db, import_id, ImportState::Failed, why, self.ctx.clock.now()).await?;
        tracing::info!(import_id, why, "member import failed");
        Ok(())
    }

    /// Reads the file, checks every row, then writes the valid ones as the mode says. Run
    /// again after an interruption, it finds the members it wrote (their import id) and
    /// carries on after them.
    async fn check_and_write(&self, imp: &member_import::Model) -> anyhow::Result<()> {
        let db = &self.ctx.db;
        let format = FileFormat::from_stored(imp.format).unwrap_or(FileFormat::Csv);
        let mode = ImportMode::from_stored(imp.mode).unwrap_or(ImportMode::ValidateOnly);
        let bytes = imports::file(db, &imp.import_id).await?;
        let sheet = match sheet::read(&bytes, format) {
            Ok(sheet) => sheet,
            Err(why) => return self.fail(&imp.import_id, &why).await,
        };
        drop(bytes);
        let columns = match Columns::find(&sheet.header) {
            Ok(columns) => columns,
            Err(why) => return self.fail(&imp.import_id, &why).await,
        };
        let rows: Vec<Row> = sheet.rows.into_iter().filter(|r| !r.is_example(&columns)).collect();
        let header = serde_json::to_string(&sheet.header)?;
        imports::begin_checking(db, &imp.import_id, &header, rows.len() as i32).await?;

        // The branches rows may name: active units holding members in the subtree.
        let held = units::member_units_under(db, &imp.unit_path, 10_000_000).await?;
        let mut by_id: HashMap<String, Arc<unit::Model>> = HashMap::new();
        let mut by_name: HashMap<String, Vec<Arc<unit::Model>>> = HashMap::new();
        for u in held {
            let u = Arc::new(u);
            by_name.entry(crate::domain::member::name_key(&u.name)).or_default().push(u.clone());
            by_id.insert(u.unit_id.clone(), u);
        }
        let caller_unit = Some(imp.caller_unit_id.as_str()).filter(|u| !u.is_empty());
        let authority = |u: &unit::Model| {
            AdmissionAuthority::of(
                imp.caller_admin,
                caller_unit,
                &u.path,
                UnitLevel::from_stored(u.level) == Some(UnitLevel::Branch),
            )
        };
        let today = self.ctx.clock.today();
        let mut counts = Counts { total: rows.len() as i32, ..Counts::default() };
        let mut seen = SeenInFile::default();
        let mut valid: Vec<Valid> = Vec::new();
        let mut written_before = 0;
        for chunk in rows.chunks(CHECK_CHUNK) {
            let mut checked: Vec<(&Row, Result<Valid, Vec<String>>)> = Vec::with_capacity(chunk.len());
            for row in chunk {
                let values = row.values(&columns);
                let mut problems = Vec::new();
                let unit = match by_id.get(&values.unit) {
                    Some(u) => Some(u.clone()),
                    None => match by_name.get(&crate::domain::member::name_key(&values.unit)).map(Vec::as_slice) {
                        Some([one]) => Some(one.clone()),
                        Some([_, _, ..]) => {
                            problems.push(format!(
                                "Mã chi đoàn: có nhiều chi đoàn tên «{}»; hãy ghi mã chi đoàn",
                                short(&values.unit)
                            ));
                            None
                        }
                        _ => {
                            problems.push(format!(
                                "Mã chi đoàn: không có chi đoàn đang hoạt động nào có mã hoặc tên «{}» trong đơn vị nhập",
                                short(&values.unit)
                            ));
                            None
                        }
                    },
                };
                let supervising = match &unit {
                    Some(u) => match authority(u) {
                        AdmissionAuthority::Proposes => {
                            problems.push(
                                "Mã chi đoàn: cán bộ chi đoàn chỉ đề nghị kết nạp; đoàn cơ sở phía trên quyết định"
                                    .into(),
                            );
                            false
                        }
                        a => a == AdmissionAuthority::Supervises,
                    },
                    None => false,
                };
                let admission = Admission::check(&values.admission(), &self.rules.admission, today, supervising)
                    .map_err(|found| found.into_iter().map(|p| p.vietnamese).collect::<Vec<_>>());
                let result = match (admission, unit) {
                    (Ok(a), Some(unit)) if problems.is_empty() => {
                        let twins = seen.check(
                            row.line,
                            a.citizen_id.as_str(),
                            &a.name_key,
                            a.date_of_birth,
                            values.confirm_duplicate,
                        );
                        if twins.is_empty() {
                            let citizen_index = self.cipher.blind_index(a.citizen_id.as_str());
                            let confirm_duplicate = values.confirm_duplicate;
                            Ok(Valid { admission: a, unit, citizen_index, confirm_duplicate })
                        } else {
                            Err(twins)
                        }
                    }
                    (Ok(_), _) => Err(problems),
                    (Err(mut found), _) => {
                        problems.append(&mut found);
                        Err(problems)
                    }
                };
                checked.push((row, result));
            }
            // Members on file: the same person (citizen ID, name, birth date) is present; the
            // same citizen ID on someone else, or the same name and birth date unconfirmed,
            // is a duplicate.
            let indexes: Vec<String> =
                checked.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|v| v.citizen_index.clone()).collect();
            let on_file: HashMap<String, member::Model> = members::by_citizen_indexes(db, &indexes)
                .await?
                .into_iter()
                .map(|m| (m.citizen_id_index.clone(), m))
                .collect();
            let keys: Vec<String> =
                checked.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|v| v.admission.name_key.clone()).collect();
            let mut same_people: HashMap<(String, chrono::NaiveDate), i64> = HashMap::new();
            for m in members::by_name_keys(db, &keys).await? {
                same_people.entry((m.name_key, m.date_of_birth)).or_insert(m.seq);
            }
            let mut rejected = Vec::new();
            for (row, result) in checked {
                counts.read += 1;
                let problems = match result {
                    Ok(v) => {
                        let a = &v.admission;
                        match on_file.get(&v.citizen_index) {
                            Some(m) if m.import_id == imp.import_id => {
                                // Written by this import before an interruption.
                                counts.valid += 1;
                                written_before += 1;
                                continue;
                            }
                            Some(m) if m.name_key == a.name_key && m.date_of_birth == a.date_of_birth => {
                                counts.present += 1;
                                continue;
                            }
                            Some(m) => vec![format!("Số CCCD: đã thuộc đoàn viên {}", member_number(m.seq))],
                            None => match same_people.get(&(a.name_key.clone(), a.date_of_birth)) {
                                Some(seq) if !v.confirm_duplicate => vec![format!(
                                    "Họ và tên: đoàn viên {} có cùng họ tên và ngày sinh; nếu là người khác, ghi «Có» ở cột «Xác nhận khác người»",
                                    member_number(*seq)
                                )],
                                _ => {
                                    counts.valid += 1;
                                    valid.push(v);
                                    continue;
                                }
                            },
                        }
                    }
                    Err(problems) => problems,
                };
                counts.rejected += 1;
                let cells: Vec<String> = row.cells.iter().map(Cell::shown).collect();
                rejected.push((row.line as i32, serde_json::to_string(&cells)?, problems.join("\n")));
            }
            imports::record_checked(db, &imp.import_id, counts, rejected).await?;
            if !self.renew(&imp.import_id).await? {
                return Ok(());
            }
        }

        match mode {
            ImportMode::ValidateOnly => {
                imports::finish(db, &imp.import_id, ImportState::Done, "", self.ctx.clock.now()).await?;
                return Ok(());
            }
            ImportMode::AllOrNothing if counts.rejected > 0 => {
                let why = format!(
                    "Có {} dòng lỗi nên không dòng nào được ghi (chế độ «tất cả hoặc không»); tải báo cáo lỗi để sửa",
                    counts.rejected
                );
                return self.fail(&imp.import_id, &why).await;
            }
            _ => {}
        }
        imports::set_state(db, &imp.import_id, ImportState::Writing).await?;
        let mut batch_no = imp.events_total;
        if mode == ImportMode::AllOrNothing {
            // One transaction: every member or none.
            let txn = db.begin().await?;
            for batch in valid.chunks(BATCH) {
                batch_no += 1;
                self.write_batch(&txn, imp, batch, batch_no).await?;
            }
            txn.commit().await?;
        } else {
            for batch in valid.chunks(BATCH) {
                batch_no += 1;
                let txn = db.begin().await?;
                self.write_batch(&txn, imp, batch, batch_no).await?;
                txn.commit().await?;
                self.ctx.outbox.wake();
                if !self.renew(&imp.import_id).await? {
                    return Ok(());
                }
            }
        }
        self.ctx.outbox.wake();
        tracing::info!(
            import_id = %imp.import_id,
            written = valid.len(),
            written_before,
            rejected = counts.rejected,
            present = counts.present,
            "member import written"
        );
        if batch_no == 0 {
            imports::finish(db, &imp.import_id, ImportState::Done, "", self.ctx.clock.now()).await?;
        } else {
            imports::set_state(db, &imp.import_id, ImportState::Applying).await?;
        }
        Ok(())
    }

    /// Writes one batch inside `txn`: the members (personal data encrypted and indexed as in
    /// a single admission), their placements, the counters of their units, one
    /// `MembersAdmitted` event, and the batch's record.
    async fn write_batch(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        imp: &member_import::Model,
        batch: &[Valid],
        batch_no: i32,
    ) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let new: Vec<NewMember> = batch
            .iter()
            .map(|v| {
                let a = &v.admission;
                let member_id = new_id();
                let seal = |column: &'static str, value: &str| {
                    self.cipher.seal(&crate::storage::members::protected(column, &member_id), value)
                };
                NewMember {
                    ethnicity_enc: seal("ethnicity_enc", &a.ethnicity),
                    religion_enc: seal("religion_enc", &a.religion),
                    citizen_id_enc: seal("citizen_id_enc", a.citizen_id.as_str()),
                    phone_enc: seal("phone_enc", a.phone.as_str()),
                    member_id: member_id.clone(),
                    full_name: a.full_name.clone(),
                    date_of_birth: a.date_of_birth,
                    sex: a.sex,
                    citizen_id_index: v.citizen_index.clone(),
                    phone_index: self.cipher.blind_index(a.phone.as_str()),
                    name_key: a.name_key.clone(),
                    email: a.email.clone(),
                    unit_id: v.unit.unit_id.clone(),
                    unit_path: v.unit.path.clone(),
                    admitted_on: a.admitted_on,
                    resolution_number: a.resolution_number.clone(),
                    status: MemberStatus::Active,
                    guardian_consent: a.guardian_consent,
                    admitted_by: imp.created_by.clone(),
                    created_at: now,
                    admission_rule: a.rule_id.clone(),
                    import_id: imp.import_id.clone(),
                }
            })
            .collect();
        let stored = members::admit_many(txn, new).await?;
        // Counters: one statement per unit for the whole batch.
        let mut per_unit: HashMap<&str, statistics::UnitChanges<'_>> = HashMap::new();
        for (m, v) in stored.iter().zip(batch) {
            let facts = MemberFacts {
                status: MemberStatus::Active,
                sex: m.sex,
                birth_year: m.date_of_birth.year(),
                kinh: stats::is_kinh(&v.admission.ethnicity),
            };
            let (_, _, counted) = per_unit
                .entry(m.unit_id.as_str())
                .or_insert_with(|| (m.unit_id.as_str(), v.unit.path.as_str(), Vec::new()));
            let mut changes = stats::diff(None, Some(&facts));
            changes.push(stats::flow("admitted", m.admitted_on));
            for (counter, delta) in changes {
                match counted.iter_mut().find(|(c, _)| *c == counter) {
                    Some((_, n)) => *n += delta,
                    None => counted.push((counter, delta)),
                }
            }
        }
        let event = MembersAdmitted {
            members: stored.iter().map(publish::member_admitted).collect(),
            import_id: imp.import_id.clone(),
            batch: batch_no as u32,
        };
        let event_id = self.ctx.outbox.enqueue(txn, &event).await?;
        imports::record_batch(txn, &imp.import_id, batch_no, &event_id, stored.len() as i32).await?;
        let per_unit: Vec<statistics::UnitChanges<'_>> = per_unit.into_values().collect();
        statistics::apply_many(txn, &per_unit).await?;
        Ok(())
    }

    /// The import as the API shows it, with its publication, read-model and pace figures.
    pub(super) async fn shown(&self, imp: member_import::Model) -> AppResult<pb::MemberImport> {
        let db = &self.ctx.db;
        let state = ImportState::from_stored(imp.state);
        let mode = ImportMode::from_stored(imp.mode).unwrap_or(ImportMode::ValidateOnly);
        let (published, applied) = if imp.events_total > 0 {
            let services = READ_MODELS.map(String::from);
            (
                imports::published_batches(db, &imp.import_id).await?,
                imports::applied_batches(db, &imp.import_id, &services).await?,
            )
        } else {
            (0, 0)
        };
        let u = |n: i32| n.max(0) as u32;
        let percent = import::Progress {
            total: u(imp.rows_total),
            read: u(imp.rows_read),
            to_write: u(imp.rows_valid),
            written: u(imp.rows_written),
            batches: u(imp.events_total),
            applied: u(applied),
        }
        .percent(mode, state);
        let elapsed =
            imp.started_at.map(|s| (self.ctx.clock.now() - s).num_milliseconds() as f64 / 1000.0).unwrap_or_default();
        Ok(pb::MemberImport {
            eta_seconds: if state.ended() { 0 } else { import::eta_seconds(percent, elapsed) },
            percent,
            import_id: imp.import_id,
            unit_id: imp.unit_id,
            file_name: imp.file_name,
            format: imp.format,
            mode: imp.mode,
            state: imp.state,
            size_bytes: imp.size_bytes.max(0) as u64,
            received_bytes: imp.received_bytes.max(0) as u64,
            sha256: imp.sha256,
            rows_total: u(imp.rows_total),
            rows_read: u(imp.rows_read),
            rows_valid: u(imp.rows_valid),
            rows_rejected: u(imp.rows_rejected),
            rows_present: u(imp.rows_present),
            rows_written: u(imp.rows_written),
            events_total: u(imp.events_total),
            events_published: u(published),
            events_applied: u(applied),
            error: imp.error,
            created_at: Some(timestamp(imp.created_at)),
            finished_at: imp.finished_at.map(timestamp),
            created_by: imp.created_by,
        })
    }

    fn open(&self, column: &'static str, member_id: &str, value: &str) -> anyhow::Result<String> {
        self.cipher
            .open(&crate::storage::members::protected(column, member_id), value)
            .map_err(|e| e.context(format!("decrypt members.{column} for an export")))
    }

    /// Pages through the subtree's members and sends progress and the file.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn export(
        &self,
        caller: &Caller,
        unit: &unit::Model,
        format: FileFormat,
        purpose: Option<String>,
        total: u64,
        units: &[(String, String)],
        tx: &tokio::sync::mpsc::Sender<Result<pb::ExportMembersResponse, Status>>,
    ) -> anyhow::Result<()> {
        use pb::export_members_response::Item;
        let personal = purpose.is_some();
        let name = format!("doan-vien-{}.{}", unit.unit_id, format.extension());
        let content_type = format.content_type();
        let mut rows = vec![export_header(personal)];
        let mut written = 0u64;
        let mut offset = 0u64;
        let send = |item| async { tx.send(Ok(pb::ExportMembersResponse { item: Some(item) })).await.is_ok() };
        // Unit by unit (by path), each unit's members by number: every query is one unit's.
        let mut pages = units.iter().map(|(id, name)| (id, name, 0i64));
        let mut current = pages.next();
        while let Some((unit_id, unit_name, after)) = current.take() {
            let page = members::page_in_unit(&self.ctx.db, unit_id, after, 1_000).await?;
            let Some(last) = page.last() else {
                current = pages.next();
                continue;
            };
            current = Some((unit_id, unit_name, last.seq));
            if let Some(purpose) = &purpose {
                let ids: Vec<String> = page.iter().map(|m| m.member_id.clone()).collect();
                access_log::record_many(
                    &self.ctx.db,
                    &caller.account_id,
                    &ids,
                    "ExportMembers",
                    purpose,
                    self.ctx.clock.now(),
                )
                .await?;
            }
            for m in page {
                written += 1;
                let mut row = vec![
                    written.to_string(),
                    member_number(m.seq),
                    m.full_name.clone(),
                    m.date_of_birth.format("%d/%m/%Y").to_string(),
                    if m.sex == 1 { "Nam" } else { "Nữ" }.to_string(),
                ];
                if personal {
                    row.extend([
                        self.open("ethnicity_enc", &m.member_id, &m.ethnicity_enc)?,
                        self.open("religion_enc", &m.member_id, &m.religion_enc)?,
                        self.open("citizen_id_enc", &m.member_id, &m.citizen_id_enc)?,
                        self.open("phone_enc", &m.member_id, &m.phone_enc)?,
                        m.email.clone(),
                    ]);
                }
                row.extend([
                    m.unit_id.clone(),
                    unit_name.clone(),
                    m.admitted_on.format("%d/%m/%Y").to_string(),
                    m.resolution_number.clone(),
                    status_vi(m.status).to_string(),
                ]);
                rows.push(row);
            }
            let progress = pb::ExportProgress {
                rows_total: total.max(written) as u32,
                rows_written: written as u32,
                percent: (written * 100 / total.max(written).max(1)) as u32,
            };
            if format == FileFormat::Csv {
                // A CSV file goes out as it is read: this page's lines (the first with the BOM).
                let data = sheet::write_csv(&rows, offset == 0);
                rows.clear();
                let chunk = pb::FileChunk {
                    file_name: name.clone(),
                    content_type: content_type.to_string(),
                    offset,
                    total_bytes: 0,
                    data,
                };
                offset += chunk.data.len() as u64;
                if !send(Item::Chunk(chunk)).await {
                    return Ok(());
                }
            }
            if !send(Item::Progress(progress)).await {
                return Ok(());
            }
        }
        let data = match format {
            FileFormat::Csv => {
                let last = sheet::write_csv(&rows, offset == 0);
                if last.is_empty() {
                    // The whole size, now known, on a closing empty piece.
                    Vec::new()
                } else {
                    last
                }
            }
            FileFormat::Xlsx => {
                sheet::write_xlsx(&[SheetOut { name: "Đoàn viên", rows }]).map_err(|e| anyhow::anyhow!(e))?
            }
        };
        if format == FileFormat::Csv {
            let total_bytes = offset + data.len() as u64;
            let chunk =
                pb::FileChunk { file_name: name, content_type: content_type.to_string(), offset, data, total_bytes };
            send(Item::Chunk(chunk)).await;
        } else {
            for chunk in file_chunks(&data, &name, content_type) {
                if !send(Item::Chunk(chunk)).await {
                    return Ok(());
                }
            }
        }
        if personal {
            tracing::info!(unit_id = %unit.unit_id, members = written, by = %caller.account_id, "members exported with personal data");
        }
        Ok(())
    }
}

/// At most 40 characters of `value`, for messages that quote it.
fn short(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn format_of(field: &'static str, value: i32) -> AppResult<FileFormat> {
    FileFormat::from_stored(value)
        .ok_or_else(|| AppError::invalid(field, "must be FILE_FORMAT_XLSX or FILE_FORMAT_CSV"))
}

/// A file sent back as a stream of pieces of at most 1 MiB.
fn file_chunks(bytes: &[u8], file_name: &str, content_type: &str) -> Vec<pb::FileChunk> {
    let total = bytes.len() as u64;
    let mut out: Vec<pb::FileChunk> = bytes
        .chunks(MAX_CHUNK_BYTES)
        .enumerate()
        .map(|(i, data)| pb::FileChunk {
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            offset: (i * MAX_CHUNK_BYTES) as u64,
            data: data.to_vec(),
            total_bytes: total,
        })
        .collect();
    if out.is_empty() {
        out.push(pb::FileChunk {
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            ..Default::default()
        });
    }
    out
}

/// `rows` of one member for an export: the import's columns (personal ones only when asked),
/// then the member number, unit name and status.
fn export_header(personal: bool) -> Vec<String> {
    let mut h = vec!["STT", "Số đoàn viên", "Họ và tên", "Ngày sinh", "Giới tính"];
    if personal {
        h.extend(["Dân tộc", "Tôn giáo", "Số CCCD", "Số điện thoại", "Email"]);
    }
    h.extend(["Mã chi đoàn", "Tên chi đoàn", "Ngày vào Đoàn", "Số nghị quyết", "Trạng thái"]);
    h.into_iter().map(String::from).collect()
}

fn status_vi(status: i32) -> &'static str {
    match MemberStatus::from_stored(status) {
        MemberStatus::Active => "Đang sinh hoạt",
        MemberStatus::TransferredOut => "Đã chuyển sinh hoạt ra ngoài",
        MemberStatus::AgedOut => "Đã trưởng thành Đoàn",
        MemberStatus::Removed => "Đã bị xóa tên",
        MemberStatus::Expelled => "Đã bị khai trừ",
    }
}

impl MembershipApi {
    /// An import of a unit the caller manages.
    async fn managed_import(&self, caller: &Caller, import_id: &str) -> AppResult<member_import::Model> {
        caller.require_officer()?;
        let import_id = parse_id("import_id", import_id)?;
        let imp = imports::find(&self.ctx.db, &import_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("import {import_id} (import_id) does not exist")))?;
        caller.require_manages(&imp.unit_path, &format!("import {import_id}"))?;
        Ok(imp)
    }

    pub(super) async fn get_member_import_template(
        &self,
        caller: &Caller,
        r: pb::GetMemberImportTemplateRequest,
    ) -> AppResult<pb::GetMemberImportTemplateResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let format = format_of("format", r.format)?;
        let header: Vec<String> = COLUMNS.iter().map(|c| c.1.to_string()).collect();
        let example = [
            "Ví dụ",
            "Nguyễn Thị Minh Khai",
            "01/09/2006",
            "Nữ",
            "Kinh",
            "Không",
            "001306012345",
            "0912345678",
            "minhkhai@example.vn",
            "(mã chi đoàn)",
            "26/03/2024",
            "15-NQ/ĐTN",
            "",
            "",
        ];
        let rows = vec![header, example.iter().map(|s| s.to_string()).collect()];
        let data = match format {
            FileFormat::Csv => sheet::write_csv(&rows, true),
            FileFormat::Xlsx => {
                let mut branches = vec![vec!["Mã chi đoàn".to_string(), "Tên chi đoàn".to_string()]];
                for u in units::member_units_under(&self.ctx.db, &unit.path, 5_000).await? {
                    branches.push(vec![u.unit_id, u.name]);
                }
                sheet::write_xlsx(&[
                    SheetOut { name: "Đoàn viên", rows },
                    SheetOut { name: "Chi đoàn", rows: branches },
                ])
                .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?
            }
        };
        Ok(pb::GetMemberImportTemplateResponse {
            file_name: format!("mau-nhap-doan-vien.{}", format.extension()),
            content_type: format.content_type().to_string(),
            data,
        })
    }

    pub(super) async fn create_member_import(
        &self,
        caller: &Caller,
        r: pb::CreateMemberImportRequest,
    ) -> AppResult<pb::CreateMemberImportResponse> {
        caller.require_officer()?;
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        super::units::require_active(&unit)?;
        let file_name = required_text("file_name", &r.file_name, 200)?;
        let format = format_of("format", r.format)?;
        let mode = ImportMode::from_stored(r.mode).ok_or_else(|| {
            AppError::invalid(
                "mode",
                "must be IMPORT_MODE_VALIDATE_ONLY, IMPORT_MODE_ALL_OR_NOTHING or IMPORT_MODE_VALID_ROWS",
            )
        })?;
        if r.size_bytes == 0 || r.size_bytes > MAX_FILE_BYTES {
            return Err(AppError::invalid("size_bytes", format!("must be 1 to {MAX_FILE_BYTES} bytes")));
        }
        // A branch's own officers propose admissions; they do not import members.
        if caller.role != Role::Admin
            && let Some(own) = caller.unit_id.as_deref()
            && let Some(own) = units::find(&self.ctx.db, own).await?
            && UnitLevel::from_stored(own.level) == Some(UnitLevel::Branch)
        {
            return Err(AppError::PermissionDenied(
                "a branch officer proposes admissions; imports are made at grassroots level or above".into(),
            ));
        }
        let row = member_import::Model {
            import_id: new_id(),
            unit_id: unit.unit_id.clone(),
            unit_path: unit.path.clone(),
            created_by: caller.account_id.clone(),
            caller_unit_id: caller.unit_id.clone().unwrap_or_default(),
            caller_admin: caller.role == Role::Admin,
            file_name,
            format: format as i32,
            mode: mode as i32,
            state: ImportState::Uploading as i32,
            size_bytes: r.size_bytes as i64,
            received_bytes: 0,
            sha256: String::new(),
            header: String::new(),
            rows_total: 0,
            rows_read: 0,
            rows_valid: 0,
            rows_rejected: 0,
            rows_present: 0,
            rows_written: 0,
            events_total: 0,
            error: String::new(),
            created_at: self.ctx.clock.now(),
            started_at: None,
            finished_at: None,
            runner: None,
            lease_until: None,
        };
        let created = imports::create(&self.ctx.db, row).await?;
        tracing::info!(import_id = %created.import_id, unit_id = %unit.unit_id, by = %caller.account_id, "member import created");
        Ok(pb::CreateMemberImportResponse {
            import: Some(self.importer.shown(created).await?),
            max_chunk_bytes: MAX_CHUNK_BYTES as u32,
        })
    }

    pub(super) async fn upload_member_import_chunk(
        &self,
        caller: &Caller,
        r: pb::UploadMemberImportChunkRequest,
    ) -> AppResult<pb::UploadMemberImportChunkResponse> {
        let imp = self.managed_import(caller, &r.import_id).await?;
        if r.data.is_empty() || r.data.len() > MAX_CHUNK_BYTES {
            return Err(AppError::invalid("data", format!("must be 1 to {MAX_CHUNK_BYTES} bytes")));
        }
        let end = r.offset.saturating_add(r.data.len() as u64);
        if end > imp.size_bytes as u64 {
            return Err(AppError::invalid(
                "data",
                format!("ends at byte {end}, past the file's declared size_bytes {}", imp.size_bytes),
            ));
        }
        let received = imp.received_bytes as u64;
        if ImportState::from_stored(imp.state) != ImportState::Uploading {
            return Err(AppError::FailedPrecondition(format!(
                "import {} was submitted; no more chunks are accepted",
                imp.import_id
            )));
        }
        if end <= received {
            // A retried chunk already stored.
            return Ok(pb::UploadMemberImportChunkResponse { received_bytes: received });
        }
        if r.offset != received {
            return Err(AppError::FailedPrecondition(format!(
                "offset {} does not follow the {received} bytes received; send the chunk at offset {received}",
                r.offset
            )));
        }
        match imports::append_chunk(&self.ctx.db, &imp.import_id, r.offset as i64, r.data).await? {
            Some(after) => Ok(pb::UploadMemberImportChunkResponse { received_bytes: after as u64 }),
            // Another call appended at the same offset first: the client re-reads the offset.
            None => Err(AppError::FailedPrecondition(
                "another chunk was stored at this offset meanwhile; read received_bytes with GetMemberImport and continue from there".into(),
            )),
        }
    }

    pub(super) async fn submit_member_import(
        &self,
        caller: &Caller,
        r: pb::SubmitMemberImportRequest,
    ) -> AppResult<pb::SubmitMemberImportResponse> {
        let imp = self.managed_import(caller, &r.import_id).await?;
        let expected = r.sha256.trim().to_ascii_lowercase();
        if !expected.is_empty() && (expected.len() != 64 || !expected.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(AppError::invalid("sha256", "expected 64 hexadecimal digits, or empty"));
        }
        if ImportState::from_stored(imp.state) != ImportState::Uploading {
            return Ok(pb::SubmitMemberImportResponse { import: Some(self.importer.shown(imp).await?) });
        }
        if imp.received_bytes != imp.size_bytes {
            return Err(AppError::FailedPrecondition(format!(
                "{} of {} bytes received; upload the rest from offset {} before submitting",
                imp.received_bytes, imp.size_bytes, imp.received_bytes
            )));
        }
        let bytes = imports::file(&self.ctx.db, &imp.import_id).await?;
        let sha256: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        if !expected.is_empty() && expected != sha256 {
            imports::restart_upload(&self.ctx.db, &imp.import_id).await?;
            return Err(AppError::FailedPrecondition(format!(
                "the bytes received have SHA-256 {sha256}, not the sha256 given; the upload restarts at offset 0"
            )));
        }
        imports::submit(&self.ctx.db, &imp.import_id, &sha256).await?;
        self.importer.spawn(&imp.import_id);
        tracing::info!(import_id = %imp.import_id, bytes = bytes.len(), by = %caller.account_id, "member import submitted");
        let imp = imports::find(&self.ctx.db, &imp.import_id).await?.unwrap_or(imp);
        Ok(pb::SubmitMemberImportResponse { import: Some(self.importer.shown(imp).await?) })
    }

    pub(super) async fn get_member_import(
        &self,
        caller: &Caller,
        r: pb::GetMemberImportRequest,
    ) -> AppResult<pb::GetMemberImportResponse> {
        let imp = self.managed_import(caller, &r.import_id).await?;
        Ok(pb::GetMemberImportResponse { import: Some(self.importer.shown(imp).await?) })
    }

    pub(super) async fn watch_member_import(
        &self,
        caller: &Caller,
        r: pb::WatchMemberImportRequest,
    ) -> AppResult<ImportStream> {
        let imp = self.managed_import(caller, &r.import_id).await?;
        let importer = self.importer.clone();
        let import_id = imp.import_id;
        let look = move || {
            let (importer, import_id) = (importer.clone(), import_id.clone());
            async move {
                let imp = imports::find(&importer.ctx.db, &import_id).await.ok()??;
                importer.shown(imp).await.ok()
            }
        };
        // The pace estimate changes every tick; a message goes out when a count does.
        let key = |i: &pb::MemberImport| pb::MemberImport { eta_seconds: 0, ..i.clone() };
        let ended = |i: &pb::MemberImport| ImportState::from_stored(i.state).ended();
        let stream = super::watch::polled(&self.ctx, caller, look, key, ended);
        Ok(Box::pin(stream.map(|r| r.map(|i| pb::WatchMemberImportResponse { import: Some(i) }))))
    }

    pub(super) async fn download_member_import_report(
        &self,
        caller: &Caller,
        r: pb::DownloadMemberImportReportRequest,
    ) -> AppResult<ReportStream> {
        let imp = self.managed_import(caller, &r.import_id).await?;
        let state = ImportState::from_stored(imp.state);
        if state < ImportState::Writing {
            return Err(AppError::FailedPrecondition(format!(
                "import {} is still being checked; the report is ready when checking ends",
                imp.import_id
            )));
        }
        let mut header: Vec<String> = serde_json::from_str(&imp.header).unwrap_or_default();
        let width = header.len();
        header.push("Lỗi".into());
        let mut rows = vec![header];
        for reject in imports::rejects(&self.ctx.db, &imp.import_id).await? {
            let mut cells: Vec<String> = serde_json::from_str(&reject.cells).unwrap_or_default();
            cells.resize(width.max(cells.len()), String::new());
            cells.truncate(width);
            cells.push(reject.problems);
            rows.push(cells);
        }
        let data = sheet::write_xlsx(&[SheetOut { name: "Dòng lỗi", rows }])
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        let stem = imp.file_name.rsplit_once('.').map_or(imp.file_name.as_str(), |(s, _)| s);
        let name = format!("{stem}-loi.xlsx");
        let pieces = file_chunks(&data, &name, FileFormat::Xlsx.content_type());
        let stream = tokio_stream::iter(
            pieces.into_iter().map(|chunk| Ok(pb::DownloadMemberImportReportResponse { chunk: Some(chunk) })),
        );
        Ok(Box::pin(stream))
    }

    pub(super) async fn export_members(&self, caller: &Caller, r: pb::ExportMembersRequest) -> AppResult<ExportStream> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let format = format_of("format", r.format)?;
        let purpose = match r.include_personal_data {
            true => Some(Self::required_purpose(r.purpose_code, &r.purpose)?),
            false => None,
        };
        let total = members::count_in_subtree(&self.ctx.db, &unit.path).await?;
        let units = units::names_under(&self.ctx.db, &unit.path).await?;
        let this = self.importer.clone();
        let caller = caller.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            if let Err(e) = this.export(&caller, &unit, format, purpose, total, &units, &tx).await {
                tracing::warn!(error = %format!("{e:#}"), "export failed");
                let _ = tx.send(Err(Status::unavailable("the export was interrupted; start it again"))).await;
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_goes_out_in_pieces_of_a_mebibyte() {
        let bytes = vec![7u8; MAX_CHUNK_BYTES * 2 + 10];
        let pieces = file_chunks(&bytes, "a.xlsx", "x");
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[2].offset, (MAX_CHUNK_BYTES * 2) as u64);
        assert!(pieces.iter().all(|p| p.total_bytes == bytes.len() as u64));
        assert_eq!(file_chunks(&[], "a", "x").len(), 1);
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(short("abc"), "abc");
        assert_eq!(short(&"x".repeat(50)).chars().count(), 41);
    }

    #[test]
    fn every_column_is_in_the_export_with_personal_data() {
        assert_eq!(export_header(false).len(), 10);
        assert_eq!(export_header(true).len(), 15);
    }
}
