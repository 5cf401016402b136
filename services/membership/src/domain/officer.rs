//! Officers' positions: which position, in which unit, for which term; the access an officer
//! has derives from the positions in force.

use chrono::{NaiveDate, TimeZone};
use doan_platform::AppError;
use doan_platform::error::AppResult;

/// A committee position (numbers match `doan.membership.v1.PositionKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PositionKind {
    /// Bí thư.
    Secretary = 1,
    /// Phó Bí thư.
    DeputySecretary = 2,
    /// Ủy viên Ban Thường vụ.
    StandingCommitteeMember = 3,
    /// Ủy viên Ban Chấp hành.
    ExecutiveCommitteeMember = 4,
}

impl PositionKind {
    /// Parses the proto number (field `kind`); unspecified is `default`, when given.
    pub fn parse(value: i32, default: Option<Self>) -> AppResult<Self> {
        match (value, default) {
            (0, Some(d)) => Ok(d),
            (1, _) => Ok(Self::Secretary),
            (2, _) => Ok(Self::DeputySecretary),
            (3, _) => Ok(Self::StandingCommitteeMember),
            (4, _) => Ok(Self::ExecutiveCommitteeMember),
            _ => Err(AppError::invalid(
                "kind",
                "must be SECRETARY, DEPUTY_SECRETARY, STANDING_COMMITTEE_MEMBER or EXECUTIVE_COMMITTEE_MEMBER",
            )),
        }
    }
}

/// A position's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day of the term, if set.
    pub ends_on: Option<NaiveDate>,
    /// Last day held, when ended early.
    pub ended_on: Option<NaiveDate>,
}

impl Term {
    /// Checks a new term: starts not before 1931 nor more than a year after `today`; ends not
    /// before it starts.
    pub fn new(starts_on: NaiveDate, ends_on: Option<NaiveDate>, today: NaiveDate) -> AppResult<Self> {
        if starts_on < NaiveDate::from_ymd_opt(1931, 3, 26).expect("date") {
            return Err(AppError::invalid("starts_on", "must not be before 1931-03-26"));
        }
        if starts_on > today + chrono::Duration::days(366) {
            return Err(AppError::invalid("starts_on", "must be at most a year from today"));
        }
        if ends_on.is_some_and(|e| e < starts_on) {
            return Err(AppError::invalid("ends_on", "must not be before starts_on"));
        }
        Ok(Self { starts_on, ends_on, ended_on: None })
    }

    /// The last day the position gives access: the earlier of the term's end and an early end.
    pub fn last_day(&self) -> Option<NaiveDate> {
        match (self.ends_on, self.ended_on) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// True when the position is held on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && self.last_day().is_none_or(|last| day <= last)
    }

    /// The moment access ends (seconds since the epoch): midnight in Vietnam after the last
    /// day; `None` for an open term.
    pub fn access_ends_at(&self) -> Option<u64> {
        let next = self.last_day()?.succ_opt()?;
        let midnight = doan_platform::clock::vietnam().from_local_datetime(&next.and_hms_opt(0, 0, 0)?).single()?;
        Some(midnight.timestamp().max(0) as u64)
    }

    /// Checks an early end on `ended_on` (not before the start, not after `today`).
    pub fn end(mut self, ended_on: NaiveDate, today: NaiveDate) -> AppResult<Self> {
        if ended_on < self.starts_on {
            return Err(AppError::invalid(
                "ended_on",
                format!("must not be before the position began ({})", self.starts_on),
            ));
        }
        if ended_on > today {
            return Err(AppError::invalid("ended_on", format!("must not be after today ({today} in Vietnam)")));
        }
        if self.ended_on.is_some() {
            return Err(AppError::FailedPrecondition("the position has already ended".into()));
        }
        self.ended_on = Some(ended_on);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn terms_give_access_from_the_first_to_the_last_day() {
        let today = d("2026-11-30");
        let term = Term::new(d("2022-12-01"), Some(d("2027-11-30")), today).unwrap();
        assert!(term.in_force(today) && !term.in_force(d("2027-12-01")) && !term.in_force(d("2022-11-30")));
        let ended = term.end(today, today).unwrap();
        assert!(ended.in_force(today) && !ended.in_force(d("2026-12-01")));
        // Midnight in Vietnam after the last day: 2026-11-30T17:00:00Z.
        let expected = "2026-11-30T17:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp() as u64;
        assert_eq!(ended.access_ends_at(), Some(expected));
        assert!(ended.end(today, today).is_err(), "ended once");
        assert!(Term::new(d("2026-01-01"), Some(d("2025-12-31")), today).is_err());
        assert!(Term::new(d("2028-01-01"), None, today).is_err());
        assert!(term.end(d("2022-01-01"), today).is_err());
        assert_eq!(Term::new(today, None, today).unwrap().access_ends_at(), None);
        assert_eq!(
            PositionKind::parse(0, Some(PositionKind::ExecutiveCommitteeMember)).unwrap(),
            PositionKind::ExecutiveCommitteeMember
        );
        assert!(PositionKind::parse(0, None).is_err());
    }
}
