//! Time as an input: one clock every decision reads (real, or fixed in tests), and Vietnam
//! dates. Dates people see and enter — admission dates, decision dates, "today", standings
//! years — are Vietnam dates (Asia/Ho_Chi_Minh, UTC+7; no daylight saving since 1975), so an
//! admission dated today is today in Hà Nội at any hour, and messages show Vietnam times.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// Vietnam's offset from UTC.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The Vietnam calendar date at instant `t`.
pub fn vietnam_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam()).date_naive()
}

/// The instant Vietnam day `day` begins (its midnight in Hà Nội).
pub fn vietnam_day_start(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    vietnam()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset")
        .to_utc()
}

/// The Vietnam year of `t`.
pub fn vietnam_year(t: DateTime<Utc>) -> i32 {
    vietnam_date(t).year()
}

/// `t` as people in Vietnam read it, e.g. `2026-11-24 08:00 (UTC+7)`.
pub fn vietnam_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam()).format("%Y-%m-%d %H:%M (UTC+7)").to_string()
}

/// Where "now" comes from. Cheap to clone.
#[derive(Clone)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fixed {
            None => f.write_str("Clock(system)"),
            Some(t) => write!(f, "Clock(fixed at {})", t.lock().expect("clock")),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock standing at `t` until [`Clock::set`] moves it (tests).
    pub fn fixed(t: DateTime<Utc>) -> Self {
        Self { fixed: Some(Arc::new(Mutex::new(t))) }
    }

    /// Moves a fixed clock (every clone sees it); no effect on the system clock.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.lock().expect("clock") = t;
        }
    }

    /// The current instant, to the microsecond: as PostgreSQL keeps it, so an instant
    /// written in any way (a bound value, a JSON text the server parses, which rounds) reads
    /// back equal, and compares the same way on both databases.
    pub fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        match &self.fixed {
            Some(t) => t.lock().expect("clock").trunc_subsecs(6),
            None => Utc::now().trunc_subsecs(6),
        }
    }

    /// Today's date in Vietnam.
    pub fn today(&self) -> NaiveDate {
        vietnam_date(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_dates_run_seven_hours_ahead_of_utc() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 01:00 in Hà Nội on 24 November is still the 23rd in UTC.
        let clock = Clock::fixed(t("2026-11-23T18:00:00Z"));
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        assert_eq!(vietnam_time(clock.now()), "2026-11-24 01:00 (UTC+7)");
        clock.set(t("2026-11-23T16:59:59Z"));
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(vietnam_year(t("2026-12-31T17:00:00Z")), 2027);
        assert_eq!(vietnam_year(t("2026-12-31T16:59:59Z")), 2026);
    }
}
