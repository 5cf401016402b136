//! Activity rules: no I/O, no storage, no proto.

pub mod attendance;
pub mod ideas;
pub mod programmes;
pub mod reports;
pub mod targets;

use chrono::{DateTime, Duration, Utc};
use doan_platform::AppError;
use doan_platform::auth::path_contains;
use doan_platform::clock::vietnam_time;
use doan_platform::error::AppResult;

/// How far a member got with an activity (numbers match `doan.activities.v1.ParticipationState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipationState {
    /// Registered, not (yet) checked in.
    Registered = 1,
    /// Checked in: counted once.
    CheckedIn = 2,
    /// Waiting in line for a place.
    Waitlisted = 3,
    /// Cancelled before checking in.
    Cancelled = 4,
}

impl ParticipationState {
    /// Whether a participation in this state holds one of the activity's places.
    pub fn holds_place(state: i32) -> bool {
        state == Self::Registered as i32 || state == Self::CheckedIn as i32
    }
}

/// The most places an activity may offer.
pub const MAX_CAPACITY: i32 = 100_000;

/// Places for registration: 0 (no limit) to [`MAX_CAPACITY`].
pub fn parse_capacity(value: i32) -> AppResult<i32> {
    if !(0..=MAX_CAPACITY).contains(&value) {
        return Err(AppError::invalid("capacity", format!("must be 0 (no limit) to {MAX_CAPACITY}")));
    }
    Ok(value)
}

/// The longest check-in window an activity may have.
pub const MAX_WINDOW_DAYS: i64 = 31;

/// A validated check-in window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInWindow {
    /// Opens.
    pub starts_at: DateTime<Utc>,
    /// Closes.
    pub ends_at: DateTime<Utc>,
}

impl CheckInWindow {
    /// A window that ends after it starts and lasts at most [`MAX_WINDOW_DAYS`].
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> AppResult<Self> {
        if ends_at <= starts_at {
            return Err(AppError::invalid("ends_at", "must be after starts_at"));
        }
        if ends_at - starts_at > Duration::days(MAX_WINDOW_DAYS) {
            return Err(AppError::invalid(
                "ends_at",
                format!("must be at most {MAX_WINDOW_DAYS} days after starts_at"),
            ));
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Fails unless check-in is open at `now`.
    pub fn check_open(&self, now: DateTime<Utc>) -> AppResult<()> {
        if now < self.starts_at || now > self.ends_at {
            return Err(AppError::FailedPrecondition(format!(
                "check-in is open only from {} to {}; it is now {}",
                vietnam_time(self.starts_at),
                vietnam_time(self.ends_at),
                vietnam_time(now)
            )));
        }
        Ok(())
    }
}

/// Points a check-in may earn.
pub fn parse_points(value: i32) -> AppResult<i32> {
    if !(0..=100).contains(&value) {
        return Err(AppError::invalid("points", "must be between 0 and 100"));
    }
    Ok(value)
}

/// A member may take part in an activity organised by their branch or any unit above it.
pub fn is_open_to(member_unit_path: &str, activity_unit_id: &str) -> bool {
    path_contains(member_unit_path, activity_unit_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows() {
        assert!(CheckInWindow::new(t("2026-03-26T08:00:00Z"), t("2026-03-26T07:00:00Z")).is_err());
        assert!(CheckInWindow::new(t("2026-03-01T00:00:00Z"), t("2026-04-15T00:00:00Z")).is_err());
        let w = CheckInWindow::new(t("2026-03-26T08:00:00Z"), t("2026-03-26T11:00:00Z")).unwrap();
        assert!(w.check_open(t("2026-03-26T08:00:00Z")).is_ok());
        assert!(w.check_open(t("2026-03-26T11:00:00Z")).is_ok());
        assert!(matches!(w.check_open(t("2026-03-26T11:00:01Z")), Err(AppError::FailedPrecondition(_))));
        assert!(w.check_open(t("2026-03-26T07:59:59Z")).is_err());
    }

    #[test]
    fn eligibility_and_points() {
        assert!(is_open_to("/root/prov/branch/", "prov"));
        assert!(!is_open_to("/root/prov/branch/", "other"));
        assert!(parse_points(101).is_err());
        assert_eq!(parse_points(5).unwrap(), 5);
        assert!(parse_capacity(-1).is_err());
        assert!(parse_capacity(MAX_CAPACITY + 1).is_err());
        assert_eq!(parse_capacity(0).unwrap(), 0);
        assert!(ParticipationState::holds_place(2) && !ParticipationState::holds_place(3));
    }
}
