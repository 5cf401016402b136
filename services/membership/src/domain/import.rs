//! Member imports: the columns of the member lists units keep (Vietnamese headers), reading a
//! row's cells into an admission, the problems only a file can have (duplicates inside it,
//! members already on file), and an import's progress.

use chrono::NaiveDate;

use super::member::{AdmissionInput, name_key};

/// Largest file an import accepts (64 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest chunk of an upload (1 MiB).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Most member rows in one file.
pub const MAX_ROWS: usize = 200_000;
/// Members written per batch: one transaction and one `MembersAdmitted` event.
pub const BATCH: usize = 1_000;

/// A file format (numbers match `doan.membership.v1.FileFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Office Open XML workbook.
    Xlsx = 1,
    /// Comma-separated values, UTF-8.
    Csv = 2,
}

impl FileFormat {
    /// The format stored as `value`.
    pub fn from_stored(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Xlsx),
            2 => Some(Self::Csv),
            _ => None,
        }
    }

    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    /// MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// What an import writes (numbers match `doan.membership.v1.ImportMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Check only.
    ValidateOnly = 1,
    /// Everything in one transaction, or nothing.
    AllOrNothing = 2,
    /// The valid rows, batch by batch.
    ValidRows = 3,
}

impl ImportMode {
    /// The mode stored as `value`.
    pub fn from_stored(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::ValidateOnly),
            2 => Some(Self::AllOrNothing),
            3 => Some(Self::ValidRows),
            _ => None,
        }
    }
}

/// Where an import stands (numbers match `doan.membership.v1.ImportState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImportState {
    /// Chunks arriving.
    Uploading = 1,
    /// Submitted, waiting for a worker.
    Queued = 2,
    /// Rows being checked.
    Validating = 3,
    /// Rows being written.
    Writing = 4,
    /// Waiting for the read models.
    Applying = 5,
    /// Finished.
    Done = 6,
    /// Ended without writing.
    Failed = 7,
}

impl ImportState {
    /// The state stored as `value` (unknown values read as failed).
    pub fn from_stored(value: i32) -> Self {
        match value {
            1 => Self::Uploading,
            2 => Self::Queued,
            3 => Self::Validating,
            4 => Self::Writing,
            5 => Self::Applying,
            6 => Self::Done,
            _ => Self::Failed,
        }
    }

    /// True once it can change no more.
    pub fn ended(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A column an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// STT: the row's number (ignored; "Ví dụ" marks the template's example row).
    Number,
    /// Họ và tên.
    FullName,
    /// Ngày sinh.
    DateOfBirth,
    /// Giới tính.
    Sex,
    /// Dân tộc.
    Ethnicity,
    /// Tôn giáo.
    Religion,
    /// Số CCCD.
    CitizenId,
    /// Số điện thoại.
    Phone,
    /// Email.
    Email,
    /// Mã chi đoàn.
    Unit,
    /// Ngày vào Đoàn.
    AdmittedOn,
    /// Số nghị quyết.
    Resolution,
    /// Đồng ý của người giám hộ.
    GuardianConsent,
    /// Xác nhận khác người.
    ConfirmDuplicate,
}

/// Every column: its header as the template writes it, whether a file must have it, and the
/// other headers (without diacritics) that name it.
pub const COLUMNS: [(Column, &str, bool, &[&str]); 14] = [
    (Column::Number, "STT", false, &["so thu tu"]),
    (Column::FullName, "Họ và tên", true, &["ho ten"]),
    (Column::DateOfBirth, "Ngày sinh", true, &["ngay thang nam sinh"]),
    (Column::Sex, "Giới tính", true, &[]),
    (Column::Ethnicity, "Dân tộc", true, &[]),
    (Column::Religion, "Tôn giáo", false, &[]),
    (Column::CitizenId, "Số CCCD", true, &["cccd", "so can cuoc cong dan", "can cuoc cong dan", "so can cuoc"]),
    (Column::Phone, "Số điện thoại", true, &["dien thoai", "sdt", "so dt"]),
    (Column::Email, "Email", false, &["thu dien tu"]),
    (Column::Unit, "Mã chi đoàn", true, &["chi doan"]),
    (Column::AdmittedOn, "Ngày vào Đoàn", true, &["ngay vao doan tncs ho chi minh", "ngay ket nap"]),
    (Column::Resolution, "Số nghị quyết", false, &["so nghi quyet ket nap"]),
    (Column::GuardianConsent, "Đồng ý của người giám hộ", false, &["nguoi giam ho dong y"]),
    (Column::ConfirmDuplicate, "Xác nhận khác người", false, &[]),
];

/// The header of `column` as the template writes it.
pub fn header(column: Column) -> &'static str {
    COLUMNS.iter().find(|c| c.0 == column).map(|c| c.1).unwrap_or_default()
}

/// Where each column is in a file.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    at: Vec<(Column, usize)>,
}

impl Columns {
    /// Finds the columns in a header row (compared without diacritics, case or extra
    /// spaces); the Vietnamese reason when a required column is missing or named twice.
    pub fn find(header_row: &[String]) -> Result<Self, String> {
        let mut at = Vec::new();
        for (index, cell) in header_row.iter().enumerate() {
            let key = name_key(cell);
            let Some(column) =
                COLUMNS.iter().find(|(_, h, _, other)| name_key(h) == key || other.contains(&key.as_str()))
            else {
                continue;
            };
            if at.iter().any(|(c, _)| *c == column.0) {
                return Err(format!("Cột «{}» xuất hiện hai lần trong dòng tiêu đề", column.1));
            }
            at.push((column.0, index));
        }
        let missing: Vec<&str> =
            COLUMNS.iter().filter(|c| c.2 && !at.iter().any(|(col, _)| *col == c.0)).map(|c| c.1).collect();
        if !missing.is_empty() {
            return Err(format!(
                "Thiếu cột bắt buộc trong dòng tiêu đề: {} (tải tệp mẫu để xem các cột)",
                missing.join(", ")
            ));
        }
        Ok(Self { at })
    }

    /// The index of `column`, when the file has it.
    pub fn index(&self, column: Column) -> Option<usize> {
        self.at.iter().find(|(c, _)| *c == column).map(|(_, i)| *i)
    }

    /// The column at `index`, when it is one an import reads.
    pub fn column_at(&self, index: usize) -> Option<Column> {
        self.at.iter().find(|(_, i)| *i == index).map(|(c, _)| *c)
    }
}

/// A cell as a file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number cell.
    Number(f64),
    /// A date cell.
    Date(NaiveDate),
    /// A true/false cell.
    Bool(bool),
}

impl Cell {
    /// The cell as text, the way an officer reads it (a whole number without ".0", a date as
    /// dd/mm/yyyy), for the report.
    pub fn shown(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.format("%d/%m/%Y").to_string(),
            Self::Bool(true) => "Có".into(),
            Self::Bool(false) => "Không".into(),
        }
    }

    /// The cell's value for `column`, as the admission rules read it: dates in ISO 8601, a
    /// citizen ID stored as a number padded back to 12 digits, a phone stored as a 9-digit
    /// number given its leading 0.
    fn value(&self, column: Column) -> String {
        let shown = self.shown();
        match (self, column) {
            (Self::Date(d), _) => d.format("%Y-%m-%d").to_string(),
            (Self::Number(_), Column::CitizenId) if shown.len() < 12 => format!("{shown:0>12}"),
            (Self::Number(_), Column::Phone) if shown.len() == 9 => format!("0{shown}"),
            (_, Column::DateOfBirth | Column::AdmittedOn) => iso_date(shown.trim()).unwrap_or(shown),
            _ => shown,
        }
    }
}

/// A date as officers write it (dd/mm/yyyy, d/m/yyyy, with "/", "-" or "."; or yyyy-mm-dd) in
/// ISO 8601; `None` when it is none of these.
pub fn iso_date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let number = |s: &str| s.parse::<u32>().ok().filter(|_| !s.is_empty() && s.len() <= 4);
    let (day, month, year) = match (number(a)?, number(b)?, number(c)?) {
        (y, m, d) if a.len() == 4 => (d, m, y),
        (d, m, y) if c.len() == 4 => (d, m, y),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year as i32, month, day).map(|d| d.format("%Y-%m-%d").to_string())
}

fn yes(text: &str) -> bool {
    matches!(name_key(text).as_str(), "co" | "x" | "1" | "dong y" | "yes" | "true")
}

/// One member row of a file: its row number in the file (1 is the header) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Row number in the sheet (1-based, the header being row 1).
    pub line: u32,
    /// The cells as read.
    pub cells: Vec<Cell>,
}

/// A row's values for the admission rules.
#[derive(Debug, Clone, Default)]
pub struct RowValues {
    /// Full name.
    pub full_name: String,
    /// Date of birth (ISO when it could be read as a date).
    pub date_of_birth: String,
    /// Sex number (0 when unreadable).
    pub sex: i32,
    /// Ethnicity.
    pub ethnicity: String,
    /// Religion; empty for none.
    pub religion: String,
    /// Citizen ID.
    pub citizen_id: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
    /// The branch: an id or a name.
    pub unit: String,
    /// Admission date.
    pub admitted_on: String,
    /// Resolution number ("Nhập từ tệp" when the file has none).
    pub resolution_number: String,
    /// Guardian consent.
    pub guardian_consent: bool,
    /// Another person than a same-named member of the same birth date.
    pub confirm_duplicate: bool,
}

/// The resolution number recorded when a file gives none.
pub const NO_RESOLUTION: &str = "Nhập từ tệp";

impl Row {
    /// True when every cell is empty (such rows are skipped, not counted).
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.shown().trim().is_empty())
    }

    /// True for the template's example row ("Ví dụ" in STT).
    pub fn is_example(&self, columns: &Columns) -> bool {
        columns.index(Column::Number).and_then(|i| self.cells.get(i)).is_some_and(|c| name_key(&c.shown()) == "vi du")
    }

    /// The row's values by column.
    pub fn values(&self, columns: &Columns) -> RowValues {
        let get = |column: Column| {
            columns.index(column).and_then(|i| self.cells.get(i)).map(|c| c.value(column)).unwrap_or_default()
        };
        let sex = match name_key(&get(Column::Sex)).as_str() {
            "nam" => 1,
            "nu" => 2,
            _ => 0,
        };
        let religion = get(Column::Religion);
        let religion = match name_key(&religion).as_str() {
            "khong" | "-" => String::new(),
            _ => religion,
        };
        let resolution = get(Column::Resolution);
        RowValues {
            full_name: get(Column::FullName),
            date_of_birth: get(Column::DateOfBirth),
            sex,
            ethnicity: get(Column::Ethnicity),
            religion,
            citizen_id: get(Column::CitizenId),
            phone: get(Column::Phone),
            email: get(Column::Email),
            unit: get(Column::Unit).trim().to_string(),
            admitted_on: get(Column::AdmittedOn),
            resolution_number: if resolution.trim().is_empty() { NO_RESOLUTION.into() } else { resolution },
            guardian_consent: yes(&get(Column::GuardianConsent)),
            confirm_duplicate: yes(&get(Column::ConfirmDuplicate)),
        }
    }
}

impl RowValues {
    /// The values as an admission states them.
    pub fn admission(&self) -> AdmissionInput<'_> {
        AdmissionInput {
            full_name: &self.full_name,
            date_of_birth: &self.date_of_birth,
            sex: self.sex,
            ethnicity: &self.ethnicity,
            religion: &self.religion,
            citizen_id: &self.citizen_id,
            phone: &self.phone,
            email: &self.email,
            admitted_on: &self.admitted_on,
            resolution_number: &self.resolution_number,
            guardian_consent: self.guardian_consent,
        }
    }
}

/// What the rows so far hold, to find duplicates inside a file: the first row of each
/// citizen ID and of each name and date of birth.
#[derive(Debug, Default)]
pub struct SeenInFile {
    citizen_ids: std::collections::HashMap<String, u32>,
    people: std::collections::HashMap<(String, NaiveDate), u32>,
}

impl SeenInFile {
    /// Notes row `line` and returns its problems with earlier rows (Vietnamese).
    pub fn check(
        &mut self,
        line: u32,
        citizen_id: &str,
        name_key: &str,
        born: NaiveDate,
        confirmed_other: bool,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        match self.citizen_ids.get(citizen_id) {
            Some(first) => problems.push(format!("Số CCCD: trùng với dòng {first} của tệp")),
            None => {
                self.citizen_ids.insert(citizen_id.to_string(), line);
            }
        }
        match self.people.get(&(name_key.to_string(), born)) {
            Some(first) if !confirmed_other => problems.push(format!(
                "Họ và tên: trùng họ tên và ngày sinh với dòng {first} của tệp; nếu là người khác, ghi «Có» ở cột «Xác nhận khác người»"
            )),
            Some(_) => {}
            None => {
                self.people.insert((name_key.to_string(), born), line);
            }
        }
        problems
    }
}

/// How far an import is, in rows and batches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Member rows in the file.
    pub total: u32,
    /// Rows checked.
    pub read: u32,
    /// Rows to write (valid).
    pub to_write: u32,
    /// Rows written.
    pub written: u32,
    /// Batches committed.
    pub batches: u32,
    /// Batches every read model applied.
    pub applied: u32,
}

impl Progress {
    /// Per cent done: checking is the first 40 (all of it when only checking), writing the
    /// next 40, the read models the last 20.
    pub fn percent(&self, mode: ImportMode, state: ImportState) -> u32 {
        let share = |done: u32, of: u32| if of == 0 { 1.0 } else { (done.min(of) as f64) / of as f64 };
        let checked = if state > ImportState::Validating { 1.0 } else { share(self.read, self.total.max(1)) };
        let value = match (state, mode) {
            (ImportState::Done, _) => 1.0,
            (ImportState::Uploading | ImportState::Queued, _) => 0.0,
            (_, ImportMode::ValidateOnly) => checked,
            (ImportState::Validating, _) => 0.4 * checked,
            _ => 0.4 + 0.4 * share(self.written, self.to_write) + 0.2 * share(self.applied, self.batches),
        };
        (value * 100.0).floor().clamp(0.0, 100.0) as u32
    }
}

/// Seconds left at the pace so far: `elapsed` seconds for `percent` per cent.
pub fn eta_seconds(percent: u32, elapsed: f64) -> u32 {
    if percent == 0 || percent >= 100 || elapsed <= 0.0 {
        return 0;
    }
    (elapsed * f64::from(100 - percent) / f64::from(percent)).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_are_found_without_diacritics_in_any_order() {
        let columns = Columns::find(&text(&[
            "SỐ CCCD",
            "ho va ten",
            "Ngày  sinh",
            "Giới tính",
            "Dân tộc",
            "SĐT",
            "Chi đoàn",
            "Ngày kết nạp",
            "Ghi chú",
        ]))
        .unwrap();
        assert_eq!(columns.index(Column::CitizenId), Some(0));
        assert_eq!(columns.index(Column::FullName), Some(1));
        assert_eq!(columns.index(Column::Phone), Some(5));
        assert_eq!(columns.index(Column::AdmittedOn), Some(7));
        assert_eq!(columns.column_at(8), None);
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let err = Columns::find(&text(&["Họ và tên", "Ngày sinh"])).unwrap_err();
        assert!(err.contains("Giới tính") && err.contains("Số CCCD") && err.contains("Mã chi đoàn"), "{err}");
        let twice = Columns::find(&text(&["Họ và tên", "Ho ten"])).unwrap_err();
        assert!(twice.contains("hai lần"), "{twice}");
    }

    #[test]
    fn cells_read_as_officers_write_them() {
        assert_eq!(iso_date("05/09/2007").as_deref(), Some("2007-09-05"));
        assert_eq!(iso_date("5-9-2007").as_deref(), Some("2007-09-05"));
        assert_eq!(iso_date("2007-09-05").as_deref(), Some("2007-09-05"));
        assert_eq!(iso_date("31/02/2007"), None);
        assert_eq!(iso_date("hôm qua"), None);
        assert_eq!(Cell::Number(1_099_012_345.0).value(Column::CitizenId), "001099012345");
        assert_eq!(Cell::Number(912_345_678.0).value(Column::Phone), "0912345678");
        assert_eq!(Cell::Number(3.5).shown(), "3.5");
        assert_eq!(Cell::Date(NaiveDate::from_ymd_opt(2007, 9, 5).unwrap()).shown(), "05/09/2007");
    }

    #[test]
    fn a_row_reads_sex_religion_consent_and_a_missing_resolution() {
        let columns = Columns::find(&text(&[
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Dân tộc",
            "Tôn giáo",
            "Số CCCD",
            "Số điện thoại",
            "Mã chi đoàn",
            "Ngày vào Đoàn",
            "Đồng ý của người giám hộ",
        ]))
        .unwrap();
        let row = Row {
            line: 2,
            cells: [
                "Nguyễn Thị Hoa",
                "01/02/2009",
                "Nữ",
                "Kinh",
                "Không",
                "001209000001",
                "0912345678",
                " u1 ",
                "26/03/2025",
                "có",
            ]
            .iter()
            .map(|s| Cell::Text(s.to_string()))
            .collect(),
        };
        let v = row.values(&columns);
        assert_eq!((v.sex, v.religion.as_str(), v.unit.as_str()), (2, "", "u1"));
        assert_eq!((v.date_of_birth.as_str(), v.admitted_on.as_str()), ("2009-02-01", "2025-03-26"));
        assert!(v.guardian_consent && !v.confirm_duplicate);
        assert_eq!(v.resolution_number, NO_RESOLUTION);
    }

    #[test]
    fn duplicates_inside_a_file_name_the_first_row() {
        let born = NaiveDate::from_ymd_opt(2005, 1, 1).unwrap();
        let mut seen = SeenInFile::default();
        assert!(seen.check(2, "001", "an", born, false).is_empty());
        let again = seen.check(3, "001", "an", born, false);
        assert_eq!(again.len(), 2);
        assert!(again[0].contains("dòng 2"));
        assert_eq!(seen.check(4, "002", "an", born, true), Vec::<String>::new());
    }

    #[test]
    fn progress_runs_from_checking_to_read_models() {
        use ImportMode::*;
        use ImportState::*;
        let p = |read, to_write, written, batches, applied| Progress {
            total: 100,
            read,
            to_write,
            written,
            batches,
            applied,
        };
        assert_eq!(p(50, 0, 0, 0, 0).percent(ValidRows, Validating), 20);
        assert_eq!(p(50, 0, 0, 0, 0).percent(ValidateOnly, Validating), 50);
        assert_eq!(p(100, 80, 40, 1, 0).percent(ValidRows, Writing), 60);
        assert_eq!(p(100, 80, 80, 2, 1).percent(ValidRows, Applying), 90);
        assert_eq!(p(100, 80, 80, 2, 2).percent(ValidRows, Done), 100);
        assert_eq!(eta_seconds(50, 10.0), 10);
        assert_eq!(eta_seconds(0, 10.0), 0);
    }
}
