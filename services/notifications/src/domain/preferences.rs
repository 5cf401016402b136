//! Preferences: which categories reach a recipient on which channel, their quiet hours in their
//! own time zone, their language and email address; and the routing decision made for every
//! notice on every channel.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A category of notices (numbers match `doan.notifications.v1.NoticeCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Welcome, ratings.
    Membership = 1,
    /// Check-ins, places, hours, ideas.
    Activities = 2,
    /// Awards.
    Awards = 3,
    /// Dues, evaluation and remittance reminders.
    Reminders = 4,
    /// Directives, their reminders and escalations.
    Directives = 5,
    /// Meeting invitations.
    Meetings = 6,
    /// Announcements.
    Announcements = 7,
}

impl Category {
    /// Every category, in number order.
    pub const ALL: [Category; 7] = [
        Category::Membership,
        Category::Activities,
        Category::Awards,
        Category::Reminders,
        Category::Directives,
        Category::Meetings,
        Category::Announcements,
    ];

    /// The category numbered `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| *c as i32 == n)
    }
}

/// A channel beside the inbox (numbers match `doan.notifications.v1.Channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Push to the app.
    Push = 1,
    /// Email.
    Email = 2,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::Push, Channel::Email];

    /// The channel numbered `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| *c as i32 == n)
    }
}

/// The default for a pair: push on for everything, email for directives and meetings only.
pub fn default_enabled(category: Category, channel: Channel) -> bool {
    match channel {
        Channel::Push => true,
        Channel::Email => matches!(category, Category::Directives | Category::Meetings),
    }
}

/// A language of push, email and digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Vietnamese (default).
    #[default]
    Vi,
    /// English.
    En,
}

impl Language {
    /// `"vi"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }
}

/// The time zone used when none is set.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";

/// A daily window during which non-urgent push and email wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Local start.
    pub start: NaiveTime,
    /// Local end (earlier than the start: overnight).
    pub end: NaiveTime,
}

/// One recipient's preferences, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    /// Pairs that differ from [`default_enabled`].
    pub overrides: Vec<(Category, Channel, bool)>,
    /// Quiet hours, if any.
    pub quiet: Option<QuietHours>,
    /// Time zone of the quiet hours.
    pub time_zone: Tz,
    /// Language.
    pub language: Language,
    /// Email address; empty: none.
    pub email: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            overrides: Vec::new(),
            quiet: None,
            time_zone: chrono_tz::Asia::Ho_Chi_Minh,
            language: Language::Vi,
            email: String::new(),
        }
    }
}

/// Why preferences were refused: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid { field, message: message.into() }
}

fn parse_time(field: &'static str, value: &str) -> Result<NaiveTime, Invalid> {
    let ok = value.len() == 5 && value.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(value, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| invalid(field, format!("must be a local time \"HH:MM\" (00:00 to 23:59), not {}", quote(value))))
}

/// The first 20 characters of `value`, quoted (errors quote at most a short prefix).
fn quote(value: &str) -> String {
    let short: String = value.chars().take(20).filter(|c| !c.is_control()).collect();
    if value.chars().count() > 20 { format!("\"{short}…\"") } else { format!("\"{short}\"") }
}

/// Checks an email address: at most 254 characters, one `@` with text on both sides, a dot in
/// the domain, no spaces or control characters.
pub fn parse_email(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let bad = || invalid("preferences.email", format!("is not an email address: {}", quote(value)));
    if value.chars().count() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(value.to_string())
}

impl Preferences {
    /// Parses stored or requested values: `pairs` are (category number, channel number, on);
    /// `quiet_start`/`quiet_end` "HH:MM" or both empty; `time_zone` IANA or empty; `language`
    /// "vi", "en" or empty; `email` an address or empty.
    pub fn parse(
        pairs: &[(i32, i32, bool)],
        quiet_start: &str,
        quiet_end: &str,
        time_zone: &str,
        language: &str,
        email: &str,
    ) -> Result<Self, Invalid> {
        let mut overrides = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, &(category, channel, on)) in pairs.iter().enumerate() {
            let cat = Category::from_number(category).ok_or_else(|| {
                invalid(
                    "preferences.channels.category",
                    format!("entry {i}: {category} is not a notice category (1 to 7)"),
                )
            })?;
            let ch = Channel::from_number(channel).ok_or_else(|| {
                invalid(
                    "preferences.channels.channel",
                    format!("entry {i}: {channel} is not a channel (1 push, 2 email)"),
                )
            })?;
            if !seen.insert((cat, ch)) {
                return Err(invalid(
                    "preferences.channels",
                    format!("entry {i}: category {category} on channel {channel} is listed twice"),
                ));
            }
            if on != default_enabled(cat, ch) {
                overrides.push((cat, ch, on));
            }
        }
        overrides.sort_by_key(|(c, ch, _)| (*c, *ch));
        let quiet = match (quiet_start.trim(), quiet_end.trim()) {
            ("", "") => None,
            ("", _) => return Err(invalid("preferences.quiet_hours_start", "is required with quiet_hours_end")),
            (_, "") => return Err(invalid("preferences.quiet_hours_end", "is required with quiet_hours_start")),
            (s, e) => {
                let start = parse_time("preferences.quiet_hours_start", s)?;
                let end = parse_time("preferences.quiet_hours_end", e)?;
                if start == end {
                    return Err(invalid("preferences.quiet_hours_end", "must differ from quiet_hours_start"));
                }
                Some(QuietHours { start, end })
            }
        };
        let time_zone = match time_zone.trim() {
            "" => chrono_tz::Asia::Ho_Chi_Minh,
            tz => tz.parse::<Tz>().map_err(|_| {
                invalid(
                    "preferences.time_zone",
                    format!("is not an IANA time zone such as \"Asia/Ho_Chi_Minh\": {}", quote(tz)),
                )
            })?,
        };
        let language = match language.trim() {
            "" | "vi" => Language::Vi,
            "en" => Language::En,
            other => {
                return Err(invalid("preferences.language", format!("must be \"vi\" or \"en\", not {}", quote(other))));
            }
        };
        Ok(Self { overrides, quiet, time_zone, language, email: parse_email(email)? })
    }

    /// Whether `category` reaches the recipient on `channel`.
    pub fn enabled(&self, category: Category, channel: Channel) -> bool {
        self.overrides
            .iter()
            .find(|(c, ch, _)| *c == category && *ch == channel)
            .map_or_else(|| default_enabled(category, channel), |(_, _, on)| *on)
    }

    /// Every pair with its state, categories then channels in number order.
    pub fn all_pairs(&self) -> Vec<(Category, Channel, bool)> {
        Category::ALL
            .into_iter()
            .flat_map(|c| Channel::ALL.into_iter().map(move |ch| (c, ch)))
            .map(|(c, ch)| (c, ch, self.enabled(c, ch)))
            .collect()
    }

    /// The overrides as stored: `category:channel:0|1` joined by `,`.
    pub fn overrides_text(&self) -> String {
        self.overrides
            .iter()
            .map(|(c, ch, on)| format!("{}:{}:{}", *c as i32, *ch as i32, u8::from(*on)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses [`Preferences::overrides_text`] back into pairs (unknown entries are skipped).
    pub fn pairs_from_text(text: &str) -> Vec<(i32, i32, bool)> {
        text.split(',')
            .filter_map(|e| {
                let mut it = e.split(':');
                let c = it.next()?.parse().ok()?;
                let ch = it.next()?.parse().ok()?;
                let on = it.next()? == "1";
                Some((c, ch, on))
            })
            .collect()
    }

    /// When quiet hours that contain `now` end, or `None` when `now` is outside them (or there
    /// are none).
    pub fn quiet_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let q = self.quiet?;
        let local = now.with_timezone(&self.time_zone);
        let t = local.time();
        let inside = if q.start < q.end { t >= q.start && t < q.end } else { t >= q.start || t < q.end };
        if !inside {
            return None;
        }
        // The end is today's local end time, or tomorrow's when it already passed.
        let mut day = local.date_naive();
        if t >= q.end {
            day = day.succ_opt()?;
        }
        let end = day.and_time(q.end);
        // A local time skipped by a DST change: the first instant after it.
        let end = self
            .time_zone
            .from_local_datetime(&end)
            .earliest()
            .or_else(|| self.time_zone.from_local_datetime(&(end + chrono::Duration::hours(1))).earliest())?;
        Some(end.with_timezone(&Utc))
    }
}

/// What happens to a notice on one channel for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Not sent on this channel (turned off, or nowhere to send).
    Skip,
    /// Sent now.
    Send,
    /// Held until the end of quiet hours, then sent in the digest.
    Hold(DateTime<Utc>),
}

/// Decides a notice of `category` on `channel` at `now`: urgent notices ignore preferences and
/// quiet hours.
pub fn route(prefs: &Preferences, category: Category, channel: Channel, urgent: bool, now: DateTime<Utc>) -> Route {
    if urgent {
        return Route::Send;
    }
    if !prefs.enabled(category, channel) {
        return Route::Skip;
    }
    match prefs.quiet_until(now) {
        Some(until) => Route::Hold(until),
        None => Route::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn defaults_push_everything_and_email_directives_and_meetings() {
        let p = Preferences::default();
        assert!(p.enabled(Category::Awards, Channel::Push));
        assert!(!p.enabled(Category::Awards, Channel::Email));
        assert!(p.enabled(Category::Directives, Channel::Email));
        assert_eq!(p.all_pairs().len(), 14);
    }

    #[test]
    fn overrides_round_trip_and_duplicates_are_refused() {
        let p = Preferences::parse(&[(3, 1, false), (3, 2, true), (5, 2, true)], "", "", "", "en", "a@b.vn").unwrap();
        assert_eq!(p.overrides.len(), 2, "a pair equal to its default is not an override");
        let again =
            Preferences::parse(&Preferences::pairs_from_text(&p.overrides_text()), "", "", "", "en", "").unwrap();
        assert_eq!(again.overrides, p.overrides);
        let err = Preferences::parse(&[(3, 1, false), (3, 1, true)], "", "", "", "", "").unwrap_err();
        assert_eq!(err.field, "preferences.channels");
        assert_eq!(
            Preferences::parse(&[(9, 1, true)], "", "", "", "", "").unwrap_err().field,
            "preferences.channels.category"
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = |qs: &str, qe: &str, tz: &str, lang: &str, email: &str| {
            Preferences::parse(&[], qs, qe, tz, lang, email).unwrap_err().field
        };
        assert_eq!(e("22:00", "", "", "", ""), "preferences.quiet_hours_end");
        assert_eq!(e("25:00", "06:00", "", "", ""), "preferences.quiet_hours_start");
        assert_eq!(e("22:00", "22:00", "", "", ""), "preferences.quiet_hours_end");
        assert_eq!(e("", "", "Mars/Olympus", "", ""), "preferences.time_zone");
        assert_eq!(e("", "", "", "fr", ""), "preferences.language");
        assert_eq!(e("", "", "", "", "not an address"), "preferences.email");
        assert_eq!(e("", "", "", "", "a@b"), "preferences.email");
    }

    #[test]
    fn quiet_hours_overnight_in_vietnam_hold_until_the_morning() {
        let p = Preferences::parse(&[], "22:00", "06:30", "", "", "").unwrap();
        // 23:00 in Hà Nội is 16:00 UTC.
        assert_eq!(p.quiet_until(at("2026-11-30T16:00:00Z")), Some(at("2026-11-30T23:30:00Z")));
        // 05:00 local, the same night.
        assert_eq!(p.quiet_until(at("2026-11-30T22:00:00Z")), Some(at("2026-11-30T23:30:00Z")));
        // 12:00 local: outside.
        assert_eq!(p.quiet_until(at("2026-12-01T05:00:00Z")), None);
        assert_eq!(
            route(&p, Category::Awards, Channel::Push, false, at("2026-11-30T16:00:00Z")),
            Route::Hold(at("2026-11-30T23:30:00Z"))
        );
        assert_eq!(route(&p, Category::Awards, Channel::Push, true, at("2026-11-30T16:00:00Z")), Route::Send);
        assert_eq!(route(&p, Category::Awards, Channel::Email, false, at("2026-12-01T05:00:00Z")), Route::Skip);
        assert_eq!(
            route(&p, Category::Awards, Channel::Email, true, at("2026-12-01T05:00:00Z")),
            Route::Send,
            "urgent bypasses preferences"
        );
    }

    #[test]
    fn quiet_hours_follow_a_zone_with_daylight_saving() {
        // Paris, 01:00–07:00: on 2026-03-29 clocks go from 02:00 to 03:00 (UTC+1 → UTC+2).
        let p = Preferences::parse(&[], "01:00", "07:00", "Europe/Paris", "", "").unwrap();
        assert_eq!(p.quiet_until(at("2026-03-29T00:30:00Z")), Some(at("2026-03-29T05:00:00Z")));
        assert_eq!(p.quiet_until(at("2026-01-10T00:30:00Z")), Some(at("2026-01-10T06:00:00Z")));
    }
}
