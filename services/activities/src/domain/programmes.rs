//! Movements, campaigns, teams, youth projects, activity outputs and the year-end review:
//! their rules. No I/O, no storage, no proto.

use chrono::{Datelike, NaiveDate};
use doan_platform::AppError;
use doan_platform::convert::{format_date, parse_date};
use doan_platform::error::AppResult;

/// Years a campaign or a review may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// The longest campaign, and the longest review period, in days.
pub const MAX_SPAN_DAYS: i64 = 366;
/// Phases per campaign.
pub const MAX_PHASES: usize = 20;
/// Members per team.
pub const MAX_TEAM_MEMBERS: usize = 500;
/// Evidence per output version.
pub const MAX_EVIDENCE: usize = 20;
/// The largest amount in đồng a field accepts (10 trillion).
pub const MAX_VND: i64 = 10_000_000_000_000;

/// A date in the years 2000 to 2100.
pub fn parse_day(field: &'static str, value: &str) -> AppResult<NaiveDate> {
    let day = parse_date(field, value)?;
    if !YEARS.contains(&day.year()) {
        return Err(AppError::invalid(field, "must be in the years 2000 to 2100"));
    }
    Ok(day)
}

/// A year filter: 0 for every year, else 2000 to 2100.
pub fn optional_year(year: i32) -> AppResult<Option<i32>> {
    match year {
        0 => Ok(None),
        y if YEARS.contains(&y) => Ok(Some(y)),
        _ => Err(AppError::invalid("year", "must be 0 or between 2000 and 2100")),
    }
}

/// A span of days, first to last inclusive, at most [`MAX_SPAN_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Span {
    /// A span from two request fields.
    pub fn parse(from_field: &'static str, from: &str, to_field: &'static str, to: &str) -> AppResult<Self> {
        let from = parse_day(from_field, from)?;
        let to = parse_day(to_field, to)?;
        if to < from {
            return Err(AppError::invalid(to_field, format!("must be on or after {from_field}")));
        }
        if (to - from).num_days() > MAX_SPAN_DAYS {
            return Err(AppError::invalid(
                to_field,
                format!("must be at most {MAX_SPAN_DAYS} days after {from_field}"),
            ));
        }
        Ok(Self { from, to })
    }

    /// True when `other` lies within this span.
    pub fn contains(&self, other: &Span) -> bool {
        self.from <= other.from && other.to <= self.to
    }
}

/// A campaign's year: 2000 to 2100, and the year its span starts or ends in.
pub fn check_campaign_year(year: i32, span: &Span) -> AppResult<i32> {
    if !YEARS.contains(&year) {
        return Err(AppError::invalid("year", "must be between 2000 and 2100"));
    }
    if year != span.from.year() && year != span.to.year() {
        return Err(AppError::invalid("year", "must be the year the campaign starts or ends in"));
    }
    Ok(year)
}

/// Phases inside their campaign, none overlapping, in order of their first day.
pub fn check_phases(campaign: &Span, phases: &mut [(String, Span)]) -> AppResult<()> {
    if phases.len() > MAX_PHASES {
        return Err(AppError::invalid("phases", format!("at most {MAX_PHASES}")));
    }
    phases.sort_by_key(|(_, span)| span.from);
    for (name, span) in phases.iter() {
        if !campaign.contains(span) {
            return Err(AppError::invalid("phases", format!("phase {name:?} must lie within the campaign's days")));
        }
    }
    for pair in phases.windows(2) {
        if pair[1].1.from <= pair[0].1.to {
            return Err(AppError::invalid("phases", format!("phases {:?} and {:?} overlap", pair[0].0, pair[1].0)));
        }
    }
    Ok(())
}

/// A project's kind (numbers match `doan.activities.v1.ProjectKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectKind {
    /// Công trình thanh niên.
    Project = 1,
    /// Phần việc thanh niên.
    Task = 2,
}

impl ProjectKind {
    /// The kind of a request's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Project),
            2 => Ok(Self::Task),
            _ => Err(AppError::invalid("kind", "must be PROJECT_KIND_PROJECT or PROJECT_KIND_TASK")),
        }
    }
}

/// A project's status (numbers match `doan.activities.v1.ProjectStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProjectStatus {
    /// Planned.
    Planned = 1,
    /// Under way.
    InProgress = 2,
    /// Inaugurated.
    Inaugurated = 3,
}

impl ProjectStatus {
    /// The status of a request's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Planned),
            2 => Ok(Self::InProgress),
            3 => Ok(Self::Inaugurated),
            _ => Err(AppError::invalid("status", "must be PLANNED, IN_PROGRESS or INAUGURATED")),
        }
    }

    /// The stored number's status.
    pub fn of(stored: i32) -> Self {
        match stored {
            3 => Self::Inaugurated,
            2 => Self::InProgress,
            _ => Self::Planned,
        }
    }
}

/// A project's state as a request sets it: status, inauguration day, value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectState {
    /// Status.
    pub status: ProjectStatus,
    /// Inauguration day, exactly when inaugurated.
    pub inaugurated_on: Option<NaiveDate>,
    /// Value in đồng.
    pub value_vnd: i64,
}

impl ProjectState {
    /// The state of a request: inaugurated_on given exactly when INAUGURATED, on or after
    /// `started_on` and not after `today`; a value of 0 to [`MAX_VND`].
    pub fn parse(
        status: i32,
        inaugurated_on: &str,
        value_vnd: i64,
        started_on: NaiveDate,
        today: NaiveDate,
    ) -> AppResult<Self> {
        let status = ProjectStatus::parse(status)?;
        let inaugurated_on = match (status, inaugurated_on.is_empty()) {
            (ProjectStatus::Inaugurated, true) => {
                return Err(AppError::invalid("inaugurated_on", "is required for an inaugurated project"));
            }
            (ProjectStatus::Inaugurated, false) => {
                let day = parse_day("inaugurated_on", inaugurated_on)?;
                if day < started_on {
                    return Err(AppError::invalid("inaugurated_on", "must be on or after started_on"));
                }
                if day > today {
                    return Err(AppError::invalid("inaugurated_on", "must not be in the future"));
                }
                Some(day)
            }
            (_, false) => {
                return Err(AppError::invalid("inaugurated_on", "is set only when the project is inaugurated"));
            }
            (_, true) => None,
        };
        Ok(Self { status, inaugurated_on, value_vnd: parse_amount("value_vnd", value_vnd, MAX_VND)? })
    }

    /// Fails unless a project may move from `from` to this state: never back to PLANNED once
    /// under way, never out of INAUGURATED.
    pub fn check_move(&self, from: ProjectStatus) -> AppResult<()> {
        if from == ProjectStatus::Inaugurated && self.status != ProjectStatus::Inaugurated {
            return Err(AppError::FailedPrecondition("an inaugurated project stays inaugurated".into()));
        }
        if from == ProjectStatus::InProgress && self.status == ProjectStatus::Planned {
            return Err(AppError::FailedPrecondition("a project under way does not go back to planned".into()));
        }
        Ok(())
    }
}

/// A count or amount between 0 and `max`.
pub fn parse_amount(field: &'static str, value: i64, max: i64) -> AppResult<i64> {
    if !(0..=max).contains(&value) {
        return Err(AppError::invalid(field, format!("must be between 0 and {max}")));
    }
    Ok(value)
}

/// An activity's kind number: unset is GENERAL (1); 1 to 7.
pub fn parse_activity_kind(value: i32) -> AppResult<i32> {
    match value {
        0 => Ok(1),
        1..=7 => Ok(value),
        _ => Err(AppError::invalid("kind", "is not an ActivityKind")),
    }
}

/// The counts an organiser records for an activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// People taking part without the app.
    pub extra_participations: i64,
    /// Blood units.
    pub blood_units: i64,
    /// Trees planted.
    pub trees_planted: i64,
    /// Gift packages.
    pub gift_packages: i64,
    /// Beneficiaries.
    pub beneficiaries: i64,
    /// Value mobilised, đồng.
    pub vnd_mobilised: i64,
}

impl Metrics {
    /// Checks each count against its bound (named `metrics.<field>`).
    pub fn check(self) -> AppResult<Self> {
        parse_amount("metrics.extra_participations", self.extra_participations, 10_000_000)?;
        parse_amount("metrics.blood_units", self.blood_units, 1_000_000)?;
        parse_amount("metrics.trees_planted", self.trees_planted, 100_000_000)?;
        parse_amount("metrics.gift_packages", self.gift_packages, 10_000_000)?;
        parse_amount("metrics.beneficiaries", self.beneficiaries, 100_000_000)?;
        parse_amount("metrics.vnd_mobilised", self.vnd_mobilised, MAX_VND)?;
        Ok(self)
    }
}

/// A piece of evidence: kind (1 photo, 2 document), an https URL, a caption.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// `doan.activities.v1.EvidenceKind` number.
    pub kind: i32,
    /// Where it is.
    pub uri: String,
    /// What it shows.
    pub caption: String,
}

impl Evidence {
    /// Checks one piece: a kind, an https:// URL of at most 1000 characters without spaces or
    /// control characters, a caption of at most 500.
    pub fn check(kind: i32, uri: &str, caption: &str) -> AppResult<Self> {
        if !(1..=2).contains(&kind) {
            return Err(AppError::invalid("evidence", "kind must be PHOTO or DOCUMENT"));
        }
        let uri = doan_platform::convert::required_text("evidence", uri, 1000)?;
        if !uri.starts_with("https://") || uri.len() <= 8 || uri.chars().any(char::is_whitespace) {
            return Err(AppError::invalid(
                "evidence",
                format!("uri must be an https:// URL, got {}", doan_platform::text::quote(&uri)),
            ));
        }
        let caption = doan_platform::convert::optional_text("evidence", caption, 500)?;
        Ok(Self { kind, uri, caption })
    }
}

/// The figures of a subtree and period.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    /// Activities.
    pub activities: i64,
    /// Accepted check-ins.
    pub check_ins: i64,
    /// Unique members who checked in.
    pub unique_members: i64,
    /// Approved volunteer minutes.
    pub volunteer_minutes: i64,
    /// The latest approved outputs, summed.
    pub outputs: Metrics,
    /// Teams formed.
    pub teams: i64,
    /// Campaigns overlapping the period.
    pub campaigns: i64,
    /// Projects started, and their value.
    pub projects: (i64, i64),
    /// Projects inaugurated.
    pub projects_inaugurated: i64,
    /// Tasks started, and their value.
    pub tasks: (i64, i64),
}

impl Figures {
    /// Participations (lượt): check-ins plus those recorded without the app.
    pub fn participations(&self) -> i64 {
        self.check_ins + self.outputs.extra_participations
    }
}

/// A whole number the Vietnamese way: dots between thousands ("1.234.567").
pub fn vn_number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Hours from minutes, the Vietnamese way, one decimal ("1.234,5").
pub fn vn_hours(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    format!("{},{}", vn_number(tenths / 10), tenths % 10)
}

/// One figure of the review: a count (or amount) or hours (from minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// A whole number.
    Count(i64),
    /// Hours, from whole minutes.
    Hours(i64),
    /// Progress toward a target: (actual, target).
    Progress(i64, i64),
}

impl Figure {
    /// As people read it in Vietnamese ("1.234.567", "12,5").
    pub fn display(&self) -> String {
        match *self {
            Self::Count(n) => vn_number(n),
            Self::Hours(minutes) => vn_hours(minutes),
            Self::Progress(actual, target) => {
                format!("{}/{} ({}%)", vn_number(actual), vn_number(target), super::targets::percent(actual, target))
            }
        }
    }

    /// As a spreadsheet number (hours to one decimal); None for progress, which a sheet
    /// shows as its text.
    pub fn number(&self) -> Option<f64> {
        match *self {
            Self::Count(n) => Some(n as f64),
            Self::Hours(minutes) => Some(((minutes * 10 + 30) / 60) as f64 / 10.0),
            Self::Progress(..) => None,
        }
    }
}

/// A section of the review: its heading and rows of (label, figure).
pub type ReviewSection = (String, Vec<(String, Figure)>);

/// The review's sections, in Vietnamese.
pub fn review_sections(f: &Figures) -> Vec<ReviewSection> {
    let n = Figure::Count;
    vec![
        (
            "Phong trào và hoạt động".into(),
            vec![
                ("Chiến dịch, chương trình".into(), n(f.campaigns)),
                ("Đội hình tình nguyện".into(), n(f.teams)),
                ("Hoạt động được tổ chức".into(), n(f.activities)),
                ("Lượt đoàn viên, thanh niên tham gia".into(), n(f.participations())),
                ("Đoàn viên tham gia (không trùng lặp)".into(), n(f.unique_members)),
                ("Giờ tình nguyện được xác nhận".into(), Figure::Hours(f.volunteer_minutes)),
            ],
        ),
        (
            "Công trình, phần việc thanh niên".into(),
            vec![
                ("Công trình thanh niên".into(), n(f.projects.0)),
                ("Giá trị công trình (đồng)".into(), n(f.projects.1)),
                ("Công trình đã khánh thành".into(), n(f.projects_inaugurated)),
                ("Phần việc thanh niên".into(), n(f.tasks.0)),
                ("Giá trị phần việc (đồng)".into(), n(f.tasks.1)),
            ],
        ),
        (
            "Kết quả".into(),
            vec![
                ("Đơn vị máu tiếp nhận".into(), n(f.outputs.blood_units)),
                ("Cây xanh được trồng".into(), n(f.outputs.trees_planted)),
                ("Suất quà được trao".into(), n(f.outputs.gift_packages)),
                ("Người được hưởng lợi".into(), n(f.outputs.beneficiaries)),
                ("Giá trị vận động (đồng)".into(), n(f.outputs.vnd_mobilised)),
            ],
        ),
    ]
}

/// The review's title and lines under it.
pub fn review_heading(unit_name: &str, span: &Span, made_on: NaiveDate) -> (String, Vec<String>) {
    let title = if span.from.year() == span.to.year()
        && span.from == NaiveDate::from_ymd_opt(span.from.year(), 1, 1).unwrap_or(span.from)
        && span.to == NaiveDate::from_ymd_opt(span.to.year(), 12, 31).unwrap_or(span.to)
    {
        format!("BÁO CÁO TỔNG KẾT CÔNG TÁC ĐOÀN VÀ PHONG TRÀO THANH NIÊN NĂM {}", span.from.year())
    } else {
        "BÁO CÁO KẾT QUẢ CÔNG TÁC ĐOÀN VÀ PHONG TRÀO THANH NIÊN".to_string()
    };
    let vn = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    (
        title,
        vec![
            format!("Đơn vị: {unit_name}"),
            format!("Từ ngày {} đến ngày {}", vn(span.from), vn(span.to)),
            format!("Số liệu tổng hợp từ hệ thống ngày {}", vn(made_on)),
        ],
    )
}

/// The file name of an export.
pub fn review_file_name(span: &Span, extension: &str) -> String {
    format!("bao-cao-tong-ket-{}-{}.{extension}", format_date(span.from), format_date(span.to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn spans_and_phases() {
        let c = Span::parse("starts_on", "2026-06-01", "ends_on", "2026-08-31").unwrap();
        assert!(Span::parse("starts_on", "2026-06-01", "ends_on", "2026-05-31").is_err());
        assert!(Span::parse("starts_on", "2026-01-01", "ends_on", "2027-01-03").is_err());
        assert!(Span::parse("starts_on", "1999-12-31", "ends_on", "2000-01-03").is_err());
        assert!(check_campaign_year(2026, &c).is_ok() && check_campaign_year(2025, &c).is_err());
        let span = |a, b| Span { from: d(a), to: d(b) };
        let mut ok =
            vec![("2".to_string(), span("2026-07-01", "2026-07-31")), ("1".into(), span("2026-06-01", "2026-06-30"))];
        check_phases(&c, &mut ok).unwrap();
        assert_eq!(ok[0].0, "1", "sorted by first day");
        let mut overlap =
            vec![("1".to_string(), span("2026-06-01", "2026-06-30")), ("2".into(), span("2026-06-30", "2026-07-31"))];
        assert!(check_phases(&c, &mut overlap).is_err());
        let mut outside = vec![("1".to_string(), span("2026-05-01", "2026-06-30"))];
        assert!(check_phases(&c, &mut outside).is_err());
    }

    #[test]
    fn projects_move_forward_only() {
        let started = d("2026-03-01");
        let today = d("2026-11-30");
        assert!(ProjectState::parse(3, "", 0, started, today).is_err(), "inaugurated needs its day");
        assert!(ProjectState::parse(2, "2026-05-01", 0, started, today).is_err(), "a day only when inaugurated");
        assert!(ProjectState::parse(3, "2026-02-01", 0, started, today).is_err(), "before the start");
        assert!(ProjectState::parse(3, "2026-12-01", 0, started, today).is_err(), "in the future");
        assert!(ProjectState::parse(1, "", -1, started, today).is_err());
        let done = ProjectState::parse(3, "2026-09-02", 150_000_000, started, today).unwrap();
        assert!(done.check_move(ProjectStatus::InProgress).is_ok());
        let back = ProjectState::parse(1, "", 0, started, today).unwrap();
        assert!(back.check_move(ProjectStatus::InProgress).is_err());
        assert!(ProjectState::parse(2, "", 0, started, today).unwrap().check_move(ProjectStatus::Inaugurated).is_err());
    }

    #[test]
    fn evidence_and_metrics() {
        assert!(Evidence::check(1, "https://anh.doan.vn/1.jpg", "Lễ ra quân").is_ok());
        for bad in ["http://x.vn/a", "https://", "javascript:alert(1)", "https://a b"] {
            assert!(Evidence::check(1, bad, "").is_err(), "{bad}");
        }
        assert!(Evidence::check(3, "https://x.vn", "").is_err());
        assert!(Metrics { blood_units: -1, ..Default::default() }.check().is_err());
        assert!(Metrics { vnd_mobilised: MAX_VND + 1, ..Default::default() }.check().is_err());
    }

    #[test]
    fn vietnamese_numbers_and_headings() {
        assert_eq!(vn_number(0), "0");
        assert_eq!(vn_number(999), "999");
        assert_eq!(vn_number(1_234_567), "1.234.567");
        assert_eq!(vn_number(-1000), "-1.000");
        assert_eq!(vn_hours(90), "1,5");
        assert_eq!(vn_hours(60 * 1234), "1.234,0");
        let year = Span { from: d("2026-01-01"), to: d("2026-12-31") };
        let (title, lines) = review_heading("Thành đoàn Hà Nội", &year, d("2026-12-15"));
        assert!(title.ends_with("NĂM 2026"), "{title}");
        assert_eq!(lines[1], "Từ ngày 01/01/2026 đến ngày 31/12/2026");
        assert_eq!(review_file_name(&year, "pdf"), "bao-cao-tong-ket-2026-01-01-2026-12-31.pdf");
        let f = Figures {
            check_ins: 10,
            outputs: Metrics { extra_participations: 5, ..Default::default() },
            ..Default::default()
        };
        assert_eq!(f.participations(), 15);
    }
}
