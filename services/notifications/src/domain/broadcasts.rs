//! Broadcasts: announcements, directives and meeting invitations a unit sends to an audience.
//! A broadcast is a small state machine (scheduled → sending → sent, revocable from each); the
//! rules of a valid one, who a recipient who did not acknowledge is escalated to, and the
//! completion view live here.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::notices::NoticeKind;

/// What a broadcast is (numbers match `doan.notifications.v1.BroadcastKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastKind {
    /// An announcement.
    Announcement = 1,
    /// A directive.
    Directive = 2,
    /// A meeting invitation.
    Meeting = 3,
}

impl BroadcastKind {
    /// The kind numbered `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        match n {
            1 => Some(Self::Announcement),
            2 => Some(Self::Directive),
            3 => Some(Self::Meeting),
            _ => None,
        }
    }

    /// The notice it puts in inboxes.
    pub fn notice_kind(self) -> NoticeKind {
        match self {
            Self::Announcement => NoticeKind::Announcement,
            Self::Directive => NoticeKind::Directive,
            Self::Meeting => NoticeKind::MeetingInvitation,
        }
    }
}

/// Where a broadcast stands (numbers match `doan.notifications.v1.BroadcastStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Waiting for its time.
    Scheduled = 1,
    /// Being written into inboxes.
    Sending = 2,
    /// In every inbox.
    Sent = 3,
    /// Withdrawn.
    Revoked = 4,
}

impl BroadcastStatus {
    /// The status numbered `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        [Self::Scheduled, Self::Sending, Self::Sent, Self::Revoked].into_iter().find(|s| *s as i32 == n)
    }

    /// Its name in errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDULED",
            Self::Sending => "SENDING",
            Self::Sent => "SENT",
            Self::Revoked => "REVOKED",
        }
    }
}

/// A command on a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Its time came: start writing inboxes.
    Start,
    /// Every inbox has it.
    Finish,
    /// Withdraw it.
    Revoke,
    /// A recipient acknowledges, answers or is marked attended.
    Respond,
}

/// An illegal transition: the command and the state it met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Illegal {
    /// The state found.
    pub status: BroadcastStatus,
    /// What was refused.
    pub message: String,
}

/// The state after `command` from `status`; `Ok(None)` when the command changes nothing
/// (revoking a revoked broadcast).
pub fn transition(status: BroadcastStatus, command: Command) -> Result<Option<BroadcastStatus>, Illegal> {
    use BroadcastStatus::*;
    let illegal =
        |message: &str| Err(Illegal { status, message: format!("the broadcast is {}: {message}", status.name()) });
    match (status, command) {
        (Scheduled, Command::Start) => Ok(Some(Sending)),
        (Sending, Command::Finish) => Ok(Some(Sent)),
        (Scheduled | Sending | Sent, Command::Revoke) => Ok(Some(Revoked)),
        (Revoked, Command::Revoke) => Ok(None),
        (Sending | Sent, Command::Respond) => Ok(None),
        (Revoked, Command::Respond) => illegal("it was withdrawn"),
        (Scheduled, Command::Respond) => illegal("it has not been sent yet"),
        (_, Command::Start) => illegal("only a scheduled broadcast starts"),
        (_, Command::Finish) => illegal("only a broadcast being sent finishes"),
    }
}

/// Who a broadcast reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// One member.
    Member(String),
    /// Every active member of a subtree.
    Unit(String),
    /// Holders of a position in force, in units of a level (0: any) inside a subtree.
    Role {
        /// Top of the subtree.
        unit_id: String,
        /// Position kind (1 secretary … 4).
        position_kind: i32,
        /// Unit level (0: any).
        unit_level: i32,
    },
    /// Every active member of the subtrees of a cluster's units.
    Cluster(String),
    /// Members of a volunteer team.
    Team(String),
}

impl Audience {
    /// The stored form: (kind number 1..5, referenced id, position kind, unit level).
    pub fn to_parts(&self) -> (i32, String, i32, i32) {
        match self {
            Audience::Member(id) => (1, id.clone(), 0, 0),
            Audience::Unit(id) => (2, id.clone(), 0, 0),
            Audience::Role { unit_id, position_kind, unit_level } => (3, unit_id.clone(), *position_kind, *unit_level),
            Audience::Cluster(id) => (4, id.clone(), 0, 0),
            Audience::Team(id) => (5, id.clone(), 0, 0),
        }
    }

    /// Back from [`Audience::to_parts`].
    pub fn from_parts(kind: i32, id: String, position_kind: i32, unit_level: i32) -> Option<Self> {
        Some(match kind {
            1 => Audience::Member(id),
            2 => Audience::Unit(id),
            3 => Audience::Role { unit_id: id, position_kind, unit_level },
            4 => Audience::Cluster(id),
            5 => Audience::Team(id),
            _ => return None,
        })
    }
}

/// A document a directive refers to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Where to read it (https) or empty.
    pub url: String,
}

/// A meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Where.
    pub location: String,
}

/// A broadcast as requested, its texts already cleaned (NFC, bounded) by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Kind.
    pub kind: BroadcastKind,
    /// Send time asked for; `None`: now.
    pub send_at: Option<DateTime<Utc>>,
    /// Deadline asked for.
    pub deadline: Option<DateTime<Utc>>,
    /// Acknowledgement asked for.
    pub acknowledgement_required: bool,
    /// Documents.
    pub documents: Vec<Document>,
    /// Meeting.
    pub meeting: Option<Meeting>,
    /// Reminder lead in hours (0: the default).
    pub remind_hours_before: i32,
}

/// The checked schedule of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// When it is sent.
    pub send_at: DateTime<Utc>,
    /// Its directive deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// Reminder lead in hours.
    pub remind_hours_before: i32,
    /// When reminders go out: before the deadline and after the sending; `None` when the lead
    /// reaches back to the sending (the directive itself is the reminder) or there is no
    /// acknowledgement to remind of.
    pub remind_at: Option<DateTime<Utc>>,
}

/// Hours before a deadline when reminders go out by default.
pub const DEFAULT_REMIND_HOURS: i32 = 24;
/// How far ahead a broadcast may be scheduled.
pub const MAX_SCHEDULE_DAYS: i64 = 90;
/// At most this many documents per directive.
pub const MAX_DOCUMENTS: usize = 20;

/// A refused request: the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The field.
    pub field: &'static str,
    /// The rule broken.
    pub message: String,
}

fn refuse<T>(field: &'static str, message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused { field, message: message.into() })
}

/// Checks a request against the rules of its kind at `now`.
pub fn check(r: &Request, now: DateTime<Utc>) -> Result<Schedule, Refused> {
    let send_at = match r.send_at {
        Some(t) if t > now + Duration::days(MAX_SCHEDULE_DAYS) => {
            return refuse("send_at", format!("may be at most {MAX_SCHEDULE_DAYS} days ahead"));
        }
        Some(t) if t > now => t,
        _ => now,
    };
    let directive = r.kind == BroadcastKind::Directive;
    if !directive {
        if r.acknowledgement_required {
            return refuse("acknowledgement_required", "only directives may require acknowledgement");
        }
        if r.deadline.is_some() {
            return refuse("deadline", "only directives have a deadline");
        }
        if !r.documents.is_empty() {
            return refuse("documents", "only directives refer to documents");
        }
    }
    if r.documents.len() > MAX_DOCUMENTS {
        return refuse("documents", format!("at most {MAX_DOCUMENTS} documents, not {}", r.documents.len()));
    }
    for (i, d) in r.documents.iter().enumerate() {
        if !d.url.is_empty() && !d.url.starts_with("https://") {
            return refuse("documents.url", format!("document {i}: the address must start with https://"));
        }
    }
    if r.acknowledgement_required && r.deadline.is_none() {
        return refuse("deadline", "is required when acknowledgement is required");
    }
    if let Some(d) = r.deadline {
        if d <= send_at {
            return refuse("deadline", "must be after the broadcast is sent");
        }
        if d > send_at + Duration::days(365) {
            return refuse("deadline", "may be at most 365 days after the broadcast is sent");
        }
    }
    if !(0..=720).contains(&r.remind_hours_before) {
        return refuse("remind_hours_before", format!("must be 1 to 720 hours (0 for {DEFAULT_REMIND_HOURS})"));
    }
    match (&r.meeting, r.kind) {
        (None, BroadcastKind::Meeting) => return refuse("meeting", "is required for a meeting invitation"),
        (Some(_), k) if k != BroadcastKind::Meeting => {
            return refuse("meeting", "only meeting invitations have a meeting");
        }
        (Some(m), _) => {
            if m.starts_at <= send_at {
                return refuse("meeting.starts_at", "must be after the invitation is sent");
            }
            if m.ends_at <= m.starts_at {
                return refuse("meeting.ends_at", "must be after the start");
            }
            if m.ends_at - m.starts_at > Duration::days(3) {
                return refuse("meeting.ends_at", "a meeting lasts at most 3 days");
            }
        }
        (None, _) => {}
    }
    let remind = if r.remind_hours_before == 0 { DEFAULT_REMIND_HOURS } else { r.remind_hours_before };
    let remind_at =
        r.deadline.filter(|_| r.acknowledgement_required).map(|d| remind_at(d, remind)).filter(|at| *at > send_at);
    Ok(Schedule { send_at, deadline: r.deadline, remind_hours_before: remind, remind_at })
}

/// When reminders of a directive with `deadline` go out.
pub fn remind_at(deadline: DateTime<Utc>, remind_hours_before: i32) -> DateTime<Utc> {
    deadline - Duration::hours(i64::from(remind_hours_before.max(1)))
}

/// A secretary in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secretary {
    /// Their officer account (their inbox).
    pub account_id: String,
    /// Their member record, if any.
    pub member_id: String,
}

/// The unit ids on a path `/a/b/c/`, top first.
pub fn path_units(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Who a recipient who did not acknowledge is escalated to: the secretaries of the nearest unit
/// on the recipient's path (their own unit first, then upwards, not above `top_unit`) that has a
/// secretary other than the recipient. Empty when none.
pub fn escalation_targets<'a>(
    recipient_id: &str,
    recipient_path: &str,
    top_unit: &str,
    secretaries: &'a HashMap<String, Vec<Secretary>>,
) -> Vec<&'a Secretary> {
    let units = path_units(recipient_path);
    let top = units.iter().position(|u| *u == top_unit).unwrap_or(0);
    for unit in units[top..].iter().rev() {
        let others: Vec<&Secretary> = secretaries
            .get(*unit)
            .map(|s| s.iter().filter(|s| s.account_id != recipient_id && s.member_id != recipient_id).collect())
            .unwrap_or_default();
        if !others.is_empty() {
            return others;
        }
    }
    Vec::new()
}

/// Counts of one unit's recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Recipients.
    pub recipients: i64,
    /// Acknowledged.
    pub acknowledged: i64,
    /// Read, not acknowledged.
    pub read: i64,
    /// Not read.
    pub not_read: i64,
}

impl Counts {
    fn add(&mut self, read: bool, acknowledged: bool, n: i64) {
        self.recipients += n;
        if acknowledged {
            self.acknowledged += n;
        } else if read {
            self.read += n;
        } else {
            self.not_read += n;
        }
    }
}

/// The completion view under `parent_path`: from (unit path, read, acknowledged, count) rows,
/// the total and the counts per unit directly below the parent (by unit id); rows outside the
/// parent are ignored, rows in the parent itself count in the total only.
pub fn completion(parent_path: &str, rows: &[(String, bool, bool, i64)]) -> (Counts, BTreeMap<String, Counts>) {
    let mut total = Counts::default();
    let mut children: BTreeMap<String, Counts> = BTreeMap::new();
    for (path, read, acked, n) in rows {
        let Some(rest) = path.strip_prefix(parent_path) else { continue };
        total.add(*read, *acked, *n);
        if let Some(child) = rest.split('/').find(|s| !s.is_empty()) {
            children.entry(child.to_string()).or_default().add(*read, *acked, *n);
        }
    }
    (total, children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn directive() -> Request {
        Request {
            kind: BroadcastKind::Directive,
            send_at: None,
            deadline: Some(t("2026-12-05T10:00:00Z")),
            acknowledgement_required: true,
            documents: vec![Document {
                number: "125-CV/TĐTN".into(), title: "Hướng dẫn".into(), url: String::new()
            }],
            meeting: None,
            remind_hours_before: 0,
        }
    }

    #[test]
    fn a_directive_is_checked_and_gets_the_default_reminder() {
        let now = t("2026-11-30T10:00:00Z");
        let s = check(&directive(), now).unwrap();
        assert_eq!(s.send_at, now);
        assert_eq!(s.remind_hours_before, 24);
        assert_eq!(s.remind_at, Some(t("2026-12-04T10:00:00Z")));
        // A deadline closer than the lead: no separate reminder.
        let soon = Request { deadline: Some(t("2026-11-30T12:00:00Z")), ..directive() };
        assert_eq!(check(&soon, now).unwrap().remind_at, None);
    }

    #[test]
    fn broken_rules_name_their_field() {
        let now = t("2026-11-30T10:00:00Z");
        let field = |r: Request| check(&r, now).unwrap_err().field;
        assert_eq!(field(Request { deadline: None, ..directive() }), "deadline");
        assert_eq!(field(Request { deadline: Some(t("2026-11-30T09:00:00Z")), ..directive() }), "deadline");
        assert_eq!(field(Request { send_at: Some(t("2027-06-30T09:00:00Z")), ..directive() }), "send_at");
        assert_eq!(field(Request { kind: BroadcastKind::Announcement, ..directive() }), "acknowledgement_required");
        assert_eq!(
            field(Request {
                kind: BroadcastKind::Meeting,
                acknowledgement_required: false,
                deadline: None,
                documents: vec![],
                ..directive()
            }),
            "meeting"
        );
        assert_eq!(field(Request { remind_hours_before: 721, ..directive() }), "remind_hours_before");
        let meeting = Meeting {
            starts_at: t("2026-12-01T01:00:00Z"),
            ends_at: t("2026-12-05T01:00:00Z"),
            location: "Hội trường".into(),
        };
        let m = Request {
            kind: BroadcastKind::Meeting,
            acknowledgement_required: false,
            deadline: None,
            documents: vec![],
            meeting: Some(meeting),
            ..directive()
        };
        assert_eq!(field(m), "meeting.ends_at");
        let bad_url = Document { url: "http://x".into(), ..Default::default() };
        assert_eq!(field(Request { documents: vec![bad_url], ..directive() }), "documents.url");
    }

    #[test]
    fn the_state_machine_refuses_what_does_not_follow() {
        use BroadcastStatus::*;
        assert_eq!(transition(Scheduled, Command::Start), Ok(Some(Sending)));
        assert_eq!(transition(Revoked, Command::Revoke), Ok(None));
        assert!(transition(Revoked, Command::Respond).unwrap_err().message.contains("REVOKED"));
        assert!(transition(Sent, Command::Start).is_err());
        assert_eq!(transition(Sent, Command::Respond), Ok(None));
    }

    #[test]
    fn escalation_goes_to_the_nearest_other_secretary() {
        let mut s = HashMap::new();
        s.insert("branch".to_string(), vec![Secretary { account_id: "acc-b".into(), member_id: "m-b".into() }]);
        s.insert("school".to_string(), vec![Secretary { account_id: "acc-s".into(), member_id: String::new() }]);
        // A member of the branch: the branch's secretary.
        assert_eq!(escalation_targets("m-1", "/prov/school/branch/", "prov", &s)[0].account_id, "acc-b");
        // The branch's secretary themself (by account or by member record): the school's.
        assert_eq!(escalation_targets("acc-b", "/prov/school/branch/", "prov", &s)[0].account_id, "acc-s");
        assert_eq!(escalation_targets("m-b", "/prov/school/branch/", "prov", &s)[0].account_id, "acc-s");
        // Not above the sending unit.
        assert!(escalation_targets("acc-s", "/prov/school/", "school", &s).is_empty());
    }

    #[test]
    fn completion_counts_per_child_unit() {
        let rows = vec![
            ("/p/d1/b1/".to_string(), true, true, 3),
            ("/p/d1/b2/".to_string(), true, false, 2),
            ("/p/d2/b3/".to_string(), false, false, 4),
            ("/p/".to_string(), false, false, 1),
            ("/q/x/".to_string(), false, false, 9),
        ];
        let (total, units) = completion("/p/", &rows);
        assert_eq!(total, Counts { recipients: 10, acknowledged: 3, read: 2, not_read: 5 });
        assert_eq!(units["d1"], Counts { recipients: 5, acknowledged: 3, read: 2, not_read: 0 });
        assert_eq!(units["d2"].not_read, 4);
        assert_eq!(units.len(), 2);
    }
}
