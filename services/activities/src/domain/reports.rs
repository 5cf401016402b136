//! Report requests: which report, and how one unit's report moves from pending to accepted.
//! No I/O, no storage, no proto.

use chrono::NaiveDate;
use doan_platform::AppError;
use doan_platform::error::AppResult;

/// Which report (numbers match `doan.activities.v1.ReportKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Sơ kết.
    MidYear = 1,
    /// Tổng kết.
    YearEnd = 2,
    /// A campaign phase's report.
    CampaignPhase = 3,
}

impl ReportKind {
    /// The kind of a request's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::MidYear),
            2 => Ok(Self::YearEnd),
            3 => Ok(Self::CampaignPhase),
            _ => Err(AppError::invalid("kind", "must be MID_YEAR, YEAR_END or CAMPAIGN_PHASE")),
        }
    }
}

/// Where one unit's report stands (numbers match `doan.activities.v1.ReportState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportState {
    /// Not yet submitted.
    Pending = 1,
    /// Submitted.
    Submitted = 2,
    /// More was asked for.
    NeedsSupplement = 3,
    /// Submitted again after that.
    Resubmitted = 4,
    /// Accepted.
    Accepted = 5,
    /// Past the deadline without a submission waiting (shown, never stored).
    Overdue = 6,
    /// Exempted.
    Exempted = 7,
}

/// The requesting level's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportDecision {
    /// Accept the latest submission.
    Accept,
    /// Ask for more.
    RequestSupplement,
    /// Exempt the unit.
    Exempt,
}

impl ReportDecision {
    /// The decision of a request's number.
    pub fn parse(value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Accept),
            2 => Ok(Self::RequestSupplement),
            3 => Ok(Self::Exempt),
            _ => Err(AppError::invalid("decision", "must be ACCEPT, REQUEST_SUPPLEMENT or EXEMPT")),
        }
    }
}

impl ReportState {
    /// The stored number's state.
    pub fn of(stored: i32) -> Self {
        match stored {
            2 => Self::Submitted,
            3 => Self::NeedsSupplement,
            4 => Self::Resubmitted,
            5 => Self::Accepted,
            7 => Self::Exempted,
            _ => Self::Pending,
        }
    }

    /// The state people see on `today`: waiting on the unit past the deadline is OVERDUE.
    pub fn shown(self, deadline: NaiveDate, today: NaiveDate) -> Self {
        match self {
            Self::Pending | Self::NeedsSupplement if today > deadline => Self::Overdue,
            other => other,
        }
    }

    /// The state after a submission: late ones are accepted too (their lateness shows in the
    /// dates); nothing is submitted after acceptance or exemption.
    pub fn after_submission(self) -> AppResult<Self> {
        match self {
            Self::Pending | Self::Submitted | Self::Overdue => Ok(Self::Submitted),
            Self::NeedsSupplement | Self::Resubmitted => Ok(Self::Resubmitted),
            Self::Accepted | Self::Exempted => {
                Err(AppError::FailedPrecondition("this report was already accepted or exempted".into()))
            }
        }
    }

    /// The state after the requesting level's decision.
    pub fn after(self, decision: ReportDecision) -> AppResult<Self> {
        let waiting = matches!(self, Self::Submitted | Self::Resubmitted);
        match decision {
            ReportDecision::Accept if waiting => Ok(Self::Accepted),
            ReportDecision::RequestSupplement if waiting => Ok(Self::NeedsSupplement),
            ReportDecision::Exempt if !matches!(self, Self::Accepted | Self::Exempted) => Ok(Self::Exempted),
            _ => Err(AppError::FailedPrecondition(format!("a report in state {self:?} cannot be decided so"))),
        }
    }

    /// Accepted or exempted: nothing more is expected.
    pub fn completed(self) -> bool {
        matches!(self, Self::Accepted | Self::Exempted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportDecision::*;
    use ReportState::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_report_moves_forward() {
        assert_eq!(Pending.after_submission().unwrap(), Submitted);
        assert_eq!(Submitted.after(RequestSupplement).unwrap(), NeedsSupplement);
        assert_eq!(NeedsSupplement.after_submission().unwrap(), Resubmitted);
        assert_eq!(Resubmitted.after(Accept).unwrap(), Accepted);
        assert!(Accepted.after_submission().is_err());
        assert!(Pending.after(Accept).is_err(), "nothing to accept");
        assert_eq!(Pending.after(Exempt).unwrap(), Exempted);
        assert!(Accepted.after(Exempt).is_err());
        assert!(Exempted.completed() && Accepted.completed() && !Submitted.completed());
    }

    #[test]
    fn overdue_is_seen_not_stored() {
        let deadline = d("2026-12-15");
        assert_eq!(Pending.shown(deadline, d("2026-12-15")), Pending);
        assert_eq!(Pending.shown(deadline, d("2026-12-16")), Overdue);
        assert_eq!(NeedsSupplement.shown(deadline, d("2026-12-16")), Overdue);
        assert_eq!(Submitted.shown(deadline, d("2026-12-16")), Submitted);
        assert_eq!(Overdue.after_submission().unwrap(), Submitted, "late, but taken");
    }
}
