//! Member rules: admission age, identity documents, contact details, member numbers.

use chrono::{Datelike, Days, Months, NaiveDate};
use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;

use super::rules::AdmissionRule;

/// A member's status (numbers match `doan.membership.v1.MemberStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberStatus {
    /// An active member.
    Active = 1,
    /// Transferred outside the system.
    TransferredOut = 2,
    /// Aged out (trưởng thành đoàn).
    AgedOut = 3,
    /// Removed (xóa tên).
    Removed = 4,
    /// Expelled (khai trừ).
    Expelled = 5,
}

impl MemberStatus {
    /// A stored number (written by this code; unknown numbers read as active).
    pub fn from_stored(value: i32) -> Self {
        match value {
            2 => Self::TransferredOut,
            3 => Self::AgedOut,
            4 => Self::Removed,
            5 => Self::Expelled,
            _ => Self::Active,
        }
    }

    /// Fails unless the member is active (only active members are removed, disciplined,
    /// aged out, transferred or recorded as admitted to the Party).
    pub fn require_active(self, member_id: &str) -> AppResult<()> {
        if self != Self::Active {
            return Err(AppError::FailedPrecondition(format!("member {member_id} is {self:?}, not active")));
        }
        Ok(())
    }
}

/// A disciplinary measure (numbers match `doan.membership.v1.DisciplineKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisciplineKind {
    /// Khiển trách.
    Reprimand = 1,
    /// Cảnh cáo.
    Warning = 2,
    /// Khai trừ: ends the membership.
    Expulsion = 3,
}

impl DisciplineKind {
    /// Parses the proto number (field `kind`).
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Reprimand),
            2 => Ok(Self::Warning),
            3 => Ok(Self::Expulsion),
            _ => Err(AppError::invalid("kind", "must be REPRIMAND, WARNING or EXPULSION")),
        }
    }
}

/// A decision date (`field`): a Vietnam date, not after `today`, not before `admitted_on`.
pub fn check_decision_date(
    field: &'static str,
    on: NaiveDate,
    admitted_on: NaiveDate,
    today: NaiveDate,
) -> AppResult<()> {
    if on > today {
        return Err(AppError::invalid(field, format!("must not be after today ({today} in Vietnam)")));
    }
    if on < admitted_on {
        return Err(AppError::invalid(field, format!("must not be before the member's admission ({admitted_on})")));
    }
    Ok(())
}

/// The day a member born on `date_of_birth` turns `years` (29 February births: 28 February in
/// years without that day).
pub fn birthday(date_of_birth: NaiveDate, years: u32) -> Option<NaiveDate> {
    date_of_birth.checked_add_months(Months::new(12 * years))
}

/// The month `YYYY-MM` as its first and last day.
pub fn parse_month(field: &'static str, value: &str) -> AppResult<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", value.trim()), "%Y-%m-%d")
        .ok()
        .filter(|d| (1931..=2199).contains(&d.year()))
        .ok_or_else(|| AppError::invalid(field, "expected a month like 2026-11 (1931 to 2199)"))?;
    let last = first.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).expect("month end");
    Ok((first, last))
}

/// Members proposed for age-out in a month: those whose 30th birthday (the rule's
/// `max_age_years`) falls on or before the month's last day.
pub fn ages_out_by(date_of_birth: NaiveDate, month_last_day: NaiveDate, max_age_years: u32) -> bool {
    birthday(date_of_birth, max_age_years).is_some_and(|d| d <= month_last_day)
}

/// A citizen ID (CCCD): exactly 12 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses a citizen ID, ignoring spaces.
    pub fn parse(value: &str) -> AppResult<Self> {
        let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid("citizen_id", "expected exactly 12 digits (CCCD)"));
        }
        Ok(Self(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Vietnamese mobile number, normalised to `0` + 9 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `0xxxxxxxxx` or `+84xxxxxxxxx` (spaces, dots and dashes ignored).
    pub fn parse(value: &str) -> AppResult<Self> {
        let cleaned: String = value.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        let national = match cleaned.strip_prefix("+84") {
            Some(rest) => format!("0{rest}"),
            None => cleaned,
        };
        if national.len() != 10 || !national.starts_with('0') || !national.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::invalid("phone", "expected 10 digits starting with 0, or +84 and 9 digits"));
        }
        Ok(Self(national))
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's full name as on the citizen ID: NFC text of at most 200 characters whose every
/// word is letters, with apostrophes or hyphens only between letters ("Nguyễn Thị Minh Khai",
/// "H'Hen Niê", "Ka-Sô Liễng"); a name of punctuation alone is refused.
pub fn parse_full_name(value: &str) -> AppResult<String> {
    let name = TextRule::line(200).parse("full_name", value)?;
    let word_ok =
        |word: &str| word.split(['\'', '-']).all(|part| !part.is_empty() && part.chars().all(char::is_alphabetic));
    if !name.split(' ').all(word_ok) {
        return Err(AppError::invalid(
            "full_name",
            "each word must be letters, with apostrophes or hyphens only between letters",
        ));
    }
    Ok(name)
}

/// A name as search and duplicate detection compare it: no diacritics ("Đ" is "d"), lower
/// case, single spaces. "Nguyễn Văn An" → "nguyen van an".
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let bare: String = name
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if matches!(c, 'đ' | 'Đ') { 'd' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tokens a name search asks the PostgreSQL index for (migration m0012 computes the same
/// for every member from its path and name key): `u:<unit id>` for the subtree's root unless it
/// is the root of the whole tree (everyone has that one), each word of `key` but the last
/// followed by a space (a whole word), and the last as it is (the beginning of a word).
pub fn search_tokens(path: &str, key: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let units: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let (true, Some(unit)) = (units.len() > 1, units.last()) {
        tokens.push(format!("u:{unit}"));
    }
    let words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    if let Some((last, whole)) = words.split_last() {
        tokens.extend(whole.iter().map(|w| format!("{w} ")));
        tokens.push((*last).to_string());
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The LIKE pattern a search key `key` (already free of `%`, `_` and `\\`) is matched with,
/// against `' ' || name_key`: the words in order and consecutive, each a whole word of the name
/// but the last, which may be the beginning of one ("nguyen van a" finds "nguyen van anh" and
/// "le nguyen van an", not "nguyen vanh an" nor "anguyen van a").
pub fn name_pattern(key: &str) -> String {
    format!("% {key}%")
}

/// An optional email: empty, or an address with one `@`, no spaces and a dot in the domain,
/// at most 254 characters; stored lowercase.
pub fn parse_email(value: &str) -> AppResult<String> {
    let email = TextRule::optional_line(254).parse("email", value)?;
    if email.is_empty() {
        return Ok(email);
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !email.contains(' ') =>
        {
            Ok(email.to_lowercase())
        }
        _ => Err(AppError::invalid("email", "expected an address like name@example.vn")),
    }
}

/// An optional religion as declared (empty when none), at most 50 characters.
pub fn parse_religion(value: &str) -> AppResult<String> {
    TextRule::optional_line(50).parse("religion", value)
}

/// An ethnicity as on the citizen ID (e.g. "Kinh", "Ê Đê"), at most 50 characters.
pub fn parse_ethnicity(value: &str) -> AppResult<String> {
    TextRule::line(50).parse("ethnicity", value)
}

/// The admission age of a member under an [`AdmissionRule`] (the version in force on the
/// admission date): under the 12th Charter from 15 years and 1 day ("tuổi 16") up to and
/// including the 30th birthday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionAge {
    /// True when the member is legally a child (under `child_under_years`): guardian consent
    /// is required before their personal data is processed.
    pub is_child: bool,
}

impl AdmissionAge {
    /// Checks a date of birth against the admission date.
    pub fn check(date_of_birth: NaiveDate, admitted_on: NaiveDate, rule: &AdmissionRule) -> AppResult<Self> {
        let years = |n: u32| date_of_birth.checked_add_months(Months::new(12 * n));
        let earliest =
            years(rule.min_age_years).and_then(|d| d.checked_add_days(Days::new(rule.min_age_extra_days.into())));
        let latest = years(rule.max_age_years);
        match (earliest, latest) {
            (Some(earliest), _) if admitted_on < earliest => Err(AppError::invalid(
                "date_of_birth",
                format!(
                    "the member must be at least {} years and {} day(s) old on admitted_on ({admitted_on}); earliest admission is {earliest}",
                    rule.min_age_years, rule.min_age_extra_days
                ),
            )),
            (_, Some(latest)) if admitted_on > latest => Err(AppError::invalid(
                "date_of_birth",
                format!(
                    "the member must be at most {} years old on admitted_on ({admitted_on}); that birthday was {latest}",
                    rule.max_age_years
                ),
            )),
            (Some(_), Some(_)) => Ok(Self { is_child: years(rule.child_under_years).is_some_and(|d| admitted_on < d) }),
            _ => Err(AppError::invalid("date_of_birth", "is out of range")),
        }
    }
}

/// Checks an admission date against today (Vietnam dates): not in the future, not before 1931
/// (the Union's founding), and not dated back more than the rule's window unless
/// `supervising` (an administrator, or an officer above the unit that decides admissions).
pub fn check_admission_date(
    admitted_on: NaiveDate,
    today: NaiveDate,
    rule: &AdmissionRule,
    supervising: bool,
) -> AppResult<()> {
    if admitted_on > today {
        return Err(AppError::invalid(
            "admitted_on",
            format!("must not be in the future (today is {today} in Vietnam)"),
        ));
    }
    if admitted_on.year() < 1931 {
        return Err(AppError::invalid("admitted_on", "must not be before 1931"));
    }
    let window = today - chrono::Duration::days(rule.backdate_days.into());
    if admitted_on < window && !supervising {
        return Err(AppError::PermissionDenied(format!(
            "admitted_on {admitted_on} is more than {} days before today ({today}); an admission dated that far back is recorded by an officer above the admitting unit",
            rule.backdate_days
        )));
    }
    Ok(())
}

/// What an admission states, as a request or a file row gives it.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmissionInput<'a> {
    /// Full name.
    pub full_name: &'a str,
    /// Date of birth, ISO 8601.
    pub date_of_birth: &'a str,
    /// Sex number.
    pub sex: i32,
    /// Ethnicity.
    pub ethnicity: &'a str,
    /// Religion; empty for none.
    pub religion: &'a str,
    /// Citizen ID.
    pub citizen_id: &'a str,
    /// Phone.
    pub phone: &'a str,
    /// Email; may be empty.
    pub email: &'a str,
    /// Admission date, ISO 8601.
    pub admitted_on: &'a str,
    /// Resolution number.
    pub resolution_number: &'a str,
    /// Guardian consent on file.
    pub guardian_consent: bool,
}

/// An admission whose every field and rule checked out.
#[derive(Debug, Clone)]
pub struct Admission {
    /// Full name.
    pub full_name: String,
    /// The name as duplicates are compared ([`name_key`]).
    pub name_key: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex number.
    pub sex: i32,
    /// Ethnicity.
    pub ethnicity: String,
    /// Religion.
    pub religion: String,
    /// Citizen ID.
    pub citizen_id: CitizenId,
    /// Phone.
    pub phone: Phone,
    /// Email (lowercase) or empty.
    pub email: String,
    /// Admission date.
    pub admitted_on: NaiveDate,
    /// Resolution number.
    pub resolution_number: String,
    /// Guardian consent on file.
    pub guardian_consent: bool,
    /// Id of the admission rule version that decided.
    pub rule_id: String,
}

/// One thing wrong with an admission: the API's error (English, naming the field) and the
/// same in Vietnamese for the officers' import reports.
#[derive(Debug)]
pub struct Problem {
    /// The error the API returns.
    pub error: AppError,
    /// What an import report says.
    pub vietnamese: String,
}

impl Admission {
    /// Checks every field of `input` and the admission rule in force on its admission date
    /// (age, guardian consent, the back-dating window unless `supervising`), today being
    /// `today` in Vietnam; every problem found, in field order.
    pub fn check(
        input: &AdmissionInput<'_>,
        rules: &doan_platform::rules::Versioned<AdmissionRule>,
        today: NaiveDate,
        supervising: bool,
    ) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        fn keep<T>(
            problems: &mut Vec<Problem>,
            r: AppResult<T>,
            vietnamese: impl FnOnce(&AppError) -> String,
        ) -> Option<T> {
            match r {
                Ok(v) => Some(v),
                Err(error) => {
                    problems.push(Problem { vietnamese: vietnamese(&error), error });
                    None
                }
            }
        }
        let full_name = keep(&mut problems, parse_full_name(input.full_name), |_| {
            "Họ và tên: bắt buộc, tối đa 200 ký tự; mỗi từ chỉ gồm chữ cái (dấu nháy, gạch nối chỉ ở giữa các chữ)"
                .into()
        });
        let date_of_birth =
            keep(&mut problems, doan_platform::convert::parse_date("date_of_birth", input.date_of_birth), |_| {
                "Ngày sinh: không phải ngày hợp lệ (dd/mm/yyyy)".into()
            });
        let admitted_on =
            keep(&mut problems, doan_platform::convert::parse_date("admitted_on", input.admitted_on), |_| {
                "Ngày vào Đoàn: không phải ngày hợp lệ (dd/mm/yyyy)".into()
            });
        let rule = admitted_on.and_then(|on| {
            keep(&mut problems, rules.at("admitted_on", on).cloned(), |_| {
                format!("Ngày vào Đoàn: không có quy định kết nạp nào có hiệu lực vào ngày {}", on.format("%d/%m/%Y"))
            })
        });
        if let (Some(on), Some(rule)) = (admitted_on, &rule) {
            keep(&mut problems, check_admission_date(on, today, &rule.rule, supervising), |e| match e {
                AppError::PermissionDenied(_) => format!(
                    "Ngày vào Đoàn: sớm hơn {} ngày trước hôm nay; chỉ cấp trên của đơn vị kết nạp được nhập",
                    rule.rule.backdate_days
                ),
                _ if on > today => "Ngày vào Đoàn: không được sau ngày hôm nay".into(),
                _ => "Ngày vào Đoàn: không được trước năm 1931".into(),
            });
            if let Some(born) = date_of_birth {
                let r = &rule.rule;
                let age = keep(&mut problems, AdmissionAge::check(born, on, r), |_| {
                    format!(
                        "Ngày sinh: vào ngày vào Đoàn phải từ đủ {} tuổi {} ngày đến {} tuổi",
                        r.min_age_years, r.min_age_extra_days, r.max_age_years
                    )
                });
                if age.is_some_and(|a| a.is_child) && !input.guardian_consent {
                    keep(
                        &mut problems,
                        Err::<(), _>(AppError::invalid(
                            "guardian_consent",
                            format!(
                                "is required: the member is under {} on admitted_on, so their guardian must consent",
                                r.child_under_years
                            ),
                        )),
                        |_| {
                            format!(
                                "Đồng ý của người giám hộ: bắt buộc vì đoàn viên dưới {} tuổi vào ngày vào Đoàn",
                                r.child_under_years
                            )
                        },
                    );
                }
            }
        }
        let sex = keep(&mut problems, parse_sex(input.sex), |_| "Giới tính: ghi Nam hoặc Nữ".into());
        let ethnicity =
            keep(&mut problems, parse_ethnicity(input.ethnicity), |_| "Dân tộc: bắt buộc, tối đa 50 ký tự".into());
        let religion = keep(&mut problems, parse_religion(input.religion), |_| "Tôn giáo: tối đa 50 ký tự".into());
        let citizen_id =
            keep(&mut problems, CitizenId::parse(input.citizen_id), |_| "Số CCCD: phải gồm đúng 12 chữ số".into());
        let phone = keep(&mut problems, Phone::parse(input.phone), |_| {
            "Số điện thoại: 10 chữ số bắt đầu bằng 0, hoặc +84 và 9 chữ số".into()
        });
        let email =
            keep(&mut problems, parse_email(input.email), |_| "Email: không đúng dạng (ví dụ ten@example.vn)".into());
        let resolution_number = keep(&mut problems, parse_resolution_number(input.resolution_number), |_| {
            "Số nghị quyết: bắt buộc, tối đa 64 ký tự".into()
        });
        match (
            full_name,
            date_of_birth,
            admitted_on,
            rule,
            sex,
            ethnicity,
            religion,
            citizen_id,
            phone,
            email,
            resolution_number,
        ) {
            (
                Some(full_name),
                Some(date_of_birth),
                Some(admitted_on),
                Some(rule),
                Some(sex),
                Some(ethnicity),
                Some(religion),
                Some(citizen_id),
                Some(phone),
                Some(email),
                Some(resolution_number),
            ) if problems.is_empty() => Ok(Self {
                name_key: name_key(&full_name),
                full_name,
                date_of_birth,
                sex,
                ethnicity,
                religion,
                citizen_id,
                phone,
                email,
                admitted_on,
                resolution_number,
                guardian_consent: input.guardian_consent,
                rule_id: rule.id,
            }),
            _ => Err(problems),
        }
    }
}

/// What an officer may do about an admission to a unit in their scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionAuthority {
    /// A branch's own officer: proposes; the grassroots unit above decides.
    Proposes,
    /// The deciding unit's officer (grassroots for a branch; a chi đoàn cơ sở for itself).
    Decides,
    /// An officer above the deciding unit, or an administrator: also records admissions dated
    /// beyond the back-dating window.
    Supervises,
}

impl AdmissionAuthority {
    /// The authority of a caller (an administrator, or an officer of `caller_unit`, which is on
    /// `unit_path`) over admissions to the unit at `unit_path` (`/root/…/unit/`), a branch when
    /// `is_branch` (decided by its parent) or a chi đoàn cơ sở (decided by itself).
    pub fn of(is_admin: bool, caller_unit: Option<&str>, unit_path: &str, is_branch: bool) -> Self {
        if is_admin {
            return Self::Supervises;
        }
        let line: Vec<&str> = unit_path.split('/').filter(|s| !s.is_empty()).collect();
        let deciding = line.len().saturating_sub(if is_branch { 2 } else { 1 });
        match caller_unit.and_then(|u| line.iter().position(|s| *s == u)) {
            Some(i) if i < deciding => Self::Supervises,
            Some(i) if i == deciding => Self::Decides,
            _ => Self::Proposes,
        }
    }
}

/// True for a document kind: 1 to 40 of `a-z`, `0-9`, `_`.
pub fn is_document_kind(kind: &str) -> bool {
    (1..=40).contains(&kind.len()) && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An application's documents as `(kind, reference)` (request field `field`): kinds as
/// [`is_document_kind`], each once; references 1 to 200 characters of text.
pub fn parse_documents(field: &'static str, docs: &[(String, String)]) -> AppResult<Vec<(String, String)>> {
    if docs.len() > 20 {
        return Err(AppError::invalid(field, "at most 20 documents"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (kind, reference) in docs {
        let kind = kind.trim().to_string();
        if !is_document_kind(&kind) {
            return Err(AppError::invalid(field, "a kind is 1 to 40 of a-z, 0-9 and _"));
        }
        if out.iter().any(|(k, _)| *k == kind) {
            return Err(AppError::invalid(field, format!("{kind} is given twice")));
        }
        out.push((kind, TextRule::line(200).parse(field, reference)?));
    }
    Ok(out)
}

/// The kinds of `required` that `held` lacks.
pub fn missing_documents(required: &[String], held: &[(String, String)]) -> Vec<String> {
    required.iter().filter(|r| !held.iter().any(|(k, _)| k == *r)).cloned().collect()
}

/// A resolution number, e.g. `15-NQ/ĐTN`.
pub fn parse_resolution_number(value: &str) -> AppResult<String> {
    doan_platform::convert::required_text("resolution_number", value, 64)
}

/// Member numbers are `DV` and 10 digits, derived from the member's row sequence.
pub fn member_number(seq: i64) -> String {
    format!("DV{seq:010}")
}

/// The sequence in a member number, or an error naming `field`.
pub fn parse_member_number(field: &'static str, value: &str) -> AppResult<i64> {
    value
        .trim()
        .strip_prefix("DV")
        .filter(|d| d.len() == 10 && d.chars().all(|c| c.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| AppError::invalid(field, "expected a member number like DV0000000123"))
}

/// Sex as on the citizen ID (numbers match `doan.membership.v1.Sex`).
pub fn parse_sex(value: i32) -> AppResult<i32> {
    match value {
        1 | 2 => Ok(value),
        _ => Err(AppError::invalid("sex", "must be SEX_MALE or SEX_FEMALE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_tokens_ask_for_the_subtree_whole_words_and_the_last_word_begun() {
        assert_eq!(search_tokens("/root/", "nguyen van a"), ["a", "nguyen ", "van "]);
        assert_eq!(search_tokens("/root/p1/d2/", "  le  "), ["le", "u:d2"]);
        assert_eq!(search_tokens("/root/p1/", ""), ["u:p1"]);
        assert_eq!(name_pattern("nguyen van a"), "% nguyen van a%");
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const RULE: AdmissionRule = AdmissionRule {
        min_age_years: 15,
        min_age_extra_days: 1,
        max_age_years: 30,
        child_under_years: 16,
        backdate_days: 90,
        age_out_years: 30,
        transfer_expiry_days: 60,
        required_documents: Vec::new(),
    };

    #[test]
    fn admission_age_bounds() {
        let check = |dob, on| AdmissionAge::check(d(dob), d(on), &RULE);
        // 15 years exactly: too young; 15 years + 1 day: a child member.
        assert!(check("2010-03-10", "2025-03-10").is_err());
        assert_eq!(check("2010-03-10", "2025-03-11").unwrap(), AdmissionAge { is_child: true });
        assert_eq!(check("2010-03-10", "2026-03-10").unwrap(), AdmissionAge { is_child: false });
        // The 30th birthday is the last day.
        assert!(check("1996-03-10", "2026-03-10").is_ok());
        let err = check("1996-03-10", "2026-03-11").unwrap_err();
        assert!(err.to_string().contains("date_of_birth"));
        // Leap day births.
        assert!(check("2008-02-29", "2023-03-01").is_ok());
        // Another rule version, other bounds.
        let older = AdmissionRule { min_age_years: 16, min_age_extra_days: 0, ..RULE };
        // Documents.
        let held = parse_documents("documents", &[("application_letter".into(), "Đơn ngày 1/11".into())]).unwrap();
        let required = vec!["application_letter".to_string(), "personal_history".to_string()];
        assert_eq!(missing_documents(&required, &held), vec!["personal_history".to_string()]);
        assert!(parse_documents("documents", &[("Đơn".into(), "x".into())]).is_err());
        assert!(parse_documents("documents", &[("a".into(), "x".into()), ("a".into(), "y".into())]).is_err());
        assert!(AdmissionAge::check(d("2010-03-10"), d("2025-03-11"), &older).is_err());
    }

    #[test]
    fn grassroots_decides_branches_propose_and_higher_levels_supervise() {
        use AdmissionAuthority::*;
        let branch = "/root/prov/dist/grass/branch/";
        assert_eq!(AdmissionAuthority::of(false, Some("branch"), branch, true), Proposes);
        assert_eq!(AdmissionAuthority::of(false, Some("grass"), branch, true), Decides);
        assert_eq!(AdmissionAuthority::of(false, Some("dist"), branch, true), Supervises);
        assert_eq!(AdmissionAuthority::of(true, None, branch, true), Supervises);
        // A chi đoàn cơ sở decides for itself.
        let grassroots_branch = "/root/prov/dist/cdcs/";
        assert_eq!(AdmissionAuthority::of(false, Some("cdcs"), grassroots_branch, false), Decides);
        assert_eq!(AdmissionAuthority::of(false, Some("dist"), grassroots_branch, false), Supervises);
    }

    #[test]
    fn admission_dates_are_vietnam_dates_within_the_window() {
        let today = d("2026-11-24");
        assert!(check_admission_date(today, today, &RULE, false).is_ok());
        let future = check_admission_date(d("2026-11-25"), today, &RULE, false).unwrap_err().to_string();
        assert!(future.contains("2026-11-24 in Vietnam"), "{future}");
        assert!(check_admission_date(d("2026-08-26"), today, &RULE, false).is_ok(), "90 days back");
        let deep = check_admission_date(d("2026-08-25"), today, &RULE, false).unwrap_err();
        assert!(matches!(deep, AppError::PermissionDenied(_)), "{deep}");
        assert!(check_admission_date(d("2026-08-25"), today, &RULE, true).is_ok(), "a supervising officer");
    }

    #[test]
    fn age_out_months_and_decision_dates() {
        let (first, last) = parse_month("month", "2026-02").unwrap();
        assert_eq!((first, last), (d("2026-02-01"), d("2026-02-28")));
        assert!(parse_month("month", "2026-13").is_err());
        assert!(parse_month("month", "1900-01").is_err());
        // 30 on 28 February 2026 (born on a leap day): proposed in February, not January.
        assert!(ages_out_by(d("1996-02-29"), d("2026-02-28"), 30));
        assert!(!ages_out_by(d("1996-02-29"), d("2026-01-31"), 30));
        assert!(ages_out_by(d("1990-05-01"), d("2026-02-28"), 30), "older members are proposed too");
        let today = d("2026-11-30");
        assert!(check_decision_date("decided_on", d("2026-12-01"), d("2020-01-01"), today).is_err());
        assert!(check_decision_date("decided_on", d("2019-12-31"), d("2020-01-01"), today).is_err());
        assert!(check_decision_date("decided_on", today, d("2020-01-01"), today).is_ok());
        assert_eq!(MemberStatus::from_stored(4), MemberStatus::Removed);
        assert!(MemberStatus::Expelled.require_active("m").is_err());
        assert!(DisciplineKind::parse(0).is_err());
    }

    #[test]
    fn names_compare_without_diacritics() {
        assert_eq!(name_key("Nguyễn Văn An"), "nguyen van an");
        assert_eq!(name_key("  ĐẶNG   thị  Đào "), "dang thi dao");
        assert_eq!(name_key("H'Hen Niê"), "h'hen nie");
        assert_eq!(name_key("Nguye\u{302}\u{303}n"), "nguyen", "decomposed input");
    }

    #[test]
    fn identity_documents() {
        assert_eq!(CitizenId::parse("079 203 001 234").unwrap().as_str(), "079203001234");
        assert!(CitizenId::parse("07920300123").is_err());
        assert!(CitizenId::parse("07920300123a").is_err());
        assert_eq!(Phone::parse("+84 912 345 678").unwrap().as_str(), "0912345678");
        assert_eq!(Phone::parse("0912.345.678").unwrap().as_str(), "0912345678");
        assert!(Phone::parse("12345").is_err());
    }

    #[test]
    fn names_emails_numbers() {
        assert_eq!(parse_full_name("  Nguyễn   Thị  Minh Khai ").unwrap(), "Nguyễn Thị Minh Khai");
        assert!(parse_full_name("").is_err());
        assert!(parse_full_name("Robert'); DROP TABLE").is_err());
        assert_eq!(parse_full_name("Nguye\u{302}\u{303}n Va\u{306}n A").unwrap(), "Nguyễn Văn A", "decomposed input");
        for punctuation in ["'", "-", "' -", "'-'", "A-", "-A"] {
            assert!(parse_full_name(punctuation).is_err(), "{punctuation:?}");
        }
        assert!(parse_full_name("H'Hen Niê").is_ok());
        assert!(parse_full_name("Lan\0").is_err());
        assert!(parse_email("a\0@doan.vn").is_err());
        assert!(parse_religion("Phật\u{202E}giáo").is_err());
        assert_eq!(parse_religion("").unwrap(), "");
        assert!(parse_ethnicity("").is_err());
        assert_eq!(parse_email("A@Doan.VN").unwrap(), "a@doan.vn");
        assert!(parse_email("nope").is_err());
        assert_eq!(member_number(123), "DV0000000123");
        assert_eq!(parse_member_number("member_number", "DV0000000123").unwrap(), 123);
        assert!(parse_member_number("member_number", "DV123").is_err());
        assert!(parse_sex(0).is_err());
    }
}
