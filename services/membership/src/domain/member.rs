//! Member rules: admission age, identity documents, contact details, member numbers.

use chrono::{Datelike, Months, NaiveDate};
use doan_platform::AppError;
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;

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

/// Admission age under the 12th Charter: from 15 years and 1 day ("tuổi 16") up to and
/// including the 30th birthday, on the date the branch considers the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionAge {
    /// True when the member is legally a child (under 16): guardian consent is required
    /// before their personal data is processed.
    pub is_child: bool,
}

impl AdmissionAge {
    /// Checks a date of birth against the admission date.
    pub fn check(date_of_birth: NaiveDate, admitted_on: NaiveDate) -> AppResult<Self> {
        let years = |n: u32| date_of_birth.checked_add_months(Months::new(12 * n));
        let earliest = years(15).and_then(|d| d.succ_opt());
        let latest = years(30);
        match (earliest, latest) {
            (Some(earliest), _) if admitted_on < earliest => Err(AppError::invalid(
                "date_of_birth",
                format!(
                    "the member must be at least 15 years and 1 day old on admitted_on ({admitted_on}); earliest admission is {earliest}"
                ),
            )),
            (_, Some(latest)) if admitted_on > latest => Err(AppError::invalid(
                "date_of_birth",
                format!(
                    "the member must be at most 30 years old on admitted_on ({admitted_on}); the 30th birthday was {latest}"
                ),
            )),
            (Some(_), Some(_)) => Ok(Self { is_child: years(16).is_some_and(|d| admitted_on < d) }),
            _ => Err(AppError::invalid("date_of_birth", "is out of range")),
        }
    }
}

/// Checks an admission date: not in the future, not before 1931 (the Union's founding).
pub fn check_admission_date(admitted_on: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if admitted_on > today {
        return Err(AppError::invalid("admitted_on", "must not be in the future"));
    }
    if admitted_on.year() < 1931 {
        return Err(AppError::invalid("admitted_on", "must not be before 1931"));
    }
    Ok(())
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

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn admission_age_bounds() {
        // 15 years exactly: too young; 15 years + 1 day: a child member.
        assert!(AdmissionAge::check(d("2010-03-10"), d("2025-03-10")).is_err());
        assert_eq!(AdmissionAge::check(d("2010-03-10"), d("2025-03-11")).unwrap(), AdmissionAge { is_child: true });
        assert_eq!(AdmissionAge::check(d("2010-03-10"), d("2026-03-10")).unwrap(), AdmissionAge { is_child: false });
        // The 30th birthday is the last day.
        assert!(AdmissionAge::check(d("1996-03-10"), d("2026-03-10")).is_ok());
        let err = AdmissionAge::check(d("1996-03-10"), d("2026-03-11")).unwrap_err();
        assert!(err.to_string().contains("date_of_birth"));
        // Leap day births.
        assert!(AdmissionAge::check(d("2008-02-29"), d("2023-03-01")).is_ok());
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
        assert!(check_admission_date(d("2030-01-01"), d("2026-11-23")).is_err());
        assert!(parse_sex(0).is_err());
    }
}
