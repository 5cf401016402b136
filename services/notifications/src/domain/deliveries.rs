//! Deliveries: where one notice stands on one channel to one device or address, and when a
//! failed attempt is tried again.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// A delivery's state (numbers match `doan.notifications.v1.DeliveryState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its attempt.
    Queued = 1,
    /// Accepted by the provider.
    Sent = 2,
    /// Confirmed by the app.
    Delivered = 3,
    /// Never to be sent.
    Failed = 4,
    /// Waiting for the end of quiet hours.
    Held = 5,
    /// Its broadcast was revoked first.
    Cancelled = 6,
    /// Sent in a digest.
    Digested = 7,
}

impl DeliveryState {
    /// The state numbered `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        use DeliveryState::*;
        [Queued, Sent, Delivered, Failed, Held, Cancelled, Digested].into_iter().find(|s| *s as i32 == n)
    }
}

/// What to do after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this time.
    At(DateTime<Utc>),
    /// Give up: attempts exhausted or the notice expired first.
    GiveUp,
}

/// How failed attempts are spaced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

/// The next attempt after `attempts` failed ones (counting the one that just failed): the
/// provider's `after` when it gave one, and never sooner than exponential backoff from `base`
/// (capped at `max`) with up to 20 % jitter (`jitter` in 0..1). Gives up after `max_attempts`
/// or when the next attempt would come after `expires_at`.
pub fn next_attempt(
    now: DateTime<Utc>,
    attempts: u32,
    after: Option<Duration>,
    backoff: Backoff,
    jitter: f64,
    expires_at: Option<DateTime<Utc>>,
) -> Retry {
    let Backoff { base, max, max_attempts } = backoff;
    if attempts >= max_attempts {
        return Retry::GiveUp;
    }
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20)).min(max);
    let exp = exp.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0));
    // A provider's Retry-After is honoured up to the longest delay (a huge one is no reason to
    // wait for ever, nor to overflow).
    let delay = after.map_or(exp, |a| a.min(max).max(exp));
    let Some(at) = chrono::Duration::from_std(delay).ok().and_then(|d| now.checked_add_signed(d)) else {
        return Retry::GiveUp;
    };
    match expires_at {
        Some(e) if at > e => Retry::GiveUp,
        _ => Retry::At(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_honours_retry_after_and_gives_up() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z").unwrap().with_timezone(&Utc);
        let s = Duration::from_secs;
        let b = |max_attempts| Backoff { base: s(1), max: s(600), max_attempts };
        let at =
            |a: u32, after: Option<Duration>, exp: Option<DateTime<Utc>>| next_attempt(now, a, after, b(5), 0.0, exp);
        assert_eq!(at(1, None, None), Retry::At(now + chrono::Duration::seconds(1)));
        assert_eq!(at(3, None, None), Retry::At(now + chrono::Duration::seconds(4)));
        assert_eq!(
            at(2, Some(s(60)), None),
            Retry::At(now + chrono::Duration::seconds(60)),
            "Retry-After wins when longer"
        );
        assert_eq!(at(5, None, None), Retry::GiveUp);
        assert_eq!(at(4, None, Some(now + chrono::Duration::seconds(2))), Retry::GiveUp, "past the notice's expiry");
        assert_eq!(next_attempt(now, 30, None, b(99), 0.0, None), Retry::At(now + chrono::Duration::seconds(600)));
        let huge = Some(Duration::from_secs(u64::MAX));
        assert_eq!(
            next_attempt(now, 1, huge, b(5), 0.0, None),
            Retry::At(now + chrono::Duration::seconds(600)),
            "capped"
        );
    }
}
