//! Texts per notice kind in Vietnamese and English: the push and email wrapping of a notice,
//! directive reminders, escalations and digests. The inbox keeps what the notice says; these
//! decide what the lock screen and the mailbox show.

use chrono::{DateTime, Utc};

use super::notices::NoticeKind;
use super::preferences::Language;

/// Longest push body: FCM and APNs payloads are limited to 4 KiB with everything else.
pub const PUSH_BODY_CHARS: usize = 300;

/// What a kind is called on the lock screen and in email subjects.
pub fn kind_label(kind: NoticeKind, lang: Language) -> &'static str {
    use NoticeKind::*;
    match (kind, lang) {
        (Welcome, Language::Vi) => "Chào mừng",
        (Welcome, Language::En) => "Welcome",
        (CheckInConfirmed, Language::Vi) => "Điểm danh",
        (CheckInConfirmed, Language::En) => "Check-in confirmed",
        (AwardGranted, Language::Vi) => "Khen thưởng",
        (AwardGranted, Language::En) => "Award",
        (RatingConfirmed, Language::Vi) => "Xếp loại đoàn viên",
        (RatingConfirmed, Language::En) => "Yearly rating",
        (Reminder, Language::Vi) => "Nhắc việc",
        (Reminder, Language::En) => "Reminder",
        (PlaceOffered, Language::Vi) => "Có chỗ tham gia",
        (PlaceOffered, Language::En) => "A place is yours",
        (HoursApproved, Language::Vi) => "Giờ tình nguyện",
        (HoursApproved, Language::En) => "Volunteer hours",
        (IdeaAdopted, Language::Vi) => "Ý tưởng sáng tạo",
        (IdeaAdopted, Language::En) => "Idea adopted",
        (Directive, Language::Vi) => "Văn bản chỉ đạo",
        (Directive, Language::En) => "Directive",
        (MeetingInvitation, Language::Vi) => "Giấy mời họp",
        (MeetingInvitation, Language::En) => "Meeting invitation",
        (Announcement, Language::Vi) => "Thông báo",
        (Announcement, Language::En) => "Announcement",
        (DirectiveReminder, Language::Vi) => "Sắp hết hạn xác nhận",
        (DirectiveReminder, Language::En) => "Acknowledgement due soon",
        (Escalation, Language::Vi) => "Chưa xác nhận văn bản",
        (Escalation, Language::En) => "Not acknowledged",
    }
}

/// `text` cut to at most `chars` characters, with an ellipsis when cut.
pub fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut s: String = text.chars().take(chars.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// A push: title and body.
pub fn push(kind: NoticeKind, lang: Language, title: &str, body: &str) -> (String, String) {
    (format!("{}: {}", kind_label(kind, lang), shorten(title, 100)), shorten(body, PUSH_BODY_CHARS))
}

/// An email: subject and plain-text body; `deadline` (Vietnam time text) for directives that
/// must be acknowledged.
pub fn email(kind: NoticeKind, lang: Language, title: &str, body: &str, deadline: Option<&str>) -> (String, String) {
    let subject = format!("[Đoàn TNCS Hồ Chí Minh] {}: {}", kind_label(kind, lang), shorten(title, 150));
    let ack = match (deadline, lang) {
        (Some(d), Language::Vi) => format!("\n\nVui lòng xác nhận đã nhận văn bản trong ứng dụng trước {d}."),
        (Some(d), Language::En) => format!("\n\nPlease acknowledge this directive in the app before {d}."),
        (None, _) => String::new(),
    };
    let footer = match lang {
        Language::Vi => {
            "Thư này được gửi tự động từ hệ thống Đoàn. Bạn có thể đổi cách nhận thông báo trong mục Cài đặt của ứng dụng."
        }
        Language::En => {
            "This message was sent automatically by the Đoàn platform. You can change how you receive notices in the app's settings."
        }
    };
    (subject, format!("{title}\n\n{body}{ack}\n\n--\n{footer}\n"))
}

/// The reminder sent before a directive's deadline to those who did not acknowledge it.
pub fn directive_reminder(lang: Language, title: &str, deadline: &str) -> (String, String) {
    match lang {
        Language::Vi => (
            format!("Nhắc xác nhận văn bản: {}", shorten(title, 150)),
            format!(
                "Bạn chưa xác nhận văn bản \"{title}\". Hạn xác nhận: {deadline}. Mở thông báo để đọc và xác nhận."
            ),
        ),
        Language::En => (
            format!("Please acknowledge: {}", shorten(title, 150)),
            format!(
                "You have not acknowledged the directive \"{title}\". It is due by {deadline}. Open it to read and acknowledge."
            ),
        ),
    }
}

/// The escalation to a secretary: `names` did not acknowledge `title` by `deadline` (at most 20
/// names are listed; `count` is how many in all).
pub fn escalation(lang: Language, title: &str, deadline: &str, names: &[String], count: usize) -> (String, String) {
    let mut listed = names.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
    match lang {
        Language::Vi => {
            if count > 20 {
                listed.push_str(&format!(" và {} người khác", count - 20));
            }
            (
                format!("{count} người chưa xác nhận văn bản: {}", shorten(title, 120)),
                format!(
                    "Đến hạn {deadline}, các đồng chí sau trong đơn vị chưa xác nhận văn bản \"{title}\": {listed}. Đề nghị đồng chí đôn đốc."
                ),
            )
        }
        Language::En => {
            if count > 20 {
                listed.push_str(&format!(" and {} more", count - 20));
            }
            (
                format!("{count} not acknowledged: {}", shorten(title, 120)),
                format!(
                    "By the deadline {deadline}, these members of your unit had not acknowledged the directive \"{title}\": {listed}. Please follow up."
                ),
            )
        }
    }
}

/// One notice in a digest: its kind, title and when it came.
#[derive(Debug, Clone)]
pub struct DigestItem {
    /// Kind.
    pub kind: NoticeKind,
    /// Title.
    pub title: String,
    /// When it was created.
    pub at: DateTime<Utc>,
}

/// The digest of what waited during quiet hours: title and body (one line per notice, at most
/// 20 listed).
pub fn digest(lang: Language, items: &[DigestItem]) -> (String, String) {
    let n = items.len();
    let title = match lang {
        Language::Vi => format!("Bạn có {n} thông báo mới"),
        Language::En => format!("You have {n} new notice{}", if n == 1 { "" } else { "s" }),
    };
    let mut lines: Vec<String> =
        items.iter().take(20).map(|i| format!("• {}: {}", kind_label(i.kind, lang), shorten(&i.title, 120))).collect();
    if n > 20 {
        lines.push(match lang {
            Language::Vi => format!("… và {} thông báo khác trong ứng dụng.", n - 20),
            Language::En => format!("… and {} more in the app.", n - 20),
        });
    }
    (title, lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_exist_in_both_languages_and_are_bounded() {
        let long = "Đ".repeat(1000);
        let (t, b) = push(NoticeKind::Directive, Language::En, &long, &long);
        assert!(t.starts_with("Directive: "));
        assert_eq!(b.chars().count(), PUSH_BODY_CHARS);
        let (s, body) = email(NoticeKind::MeetingInvitation, Language::Vi, "Họp", "Nội dung", None);
        assert!(s.contains("Giấy mời họp"));
        assert!(body.contains("Cài đặt"));
        let (_, body) = email(NoticeKind::Directive, Language::En, "T", "B", Some("17:00 05/12/2026"));
        assert!(body.contains("before 17:00 05/12/2026"));
        let items: Vec<DigestItem> = (0..25)
            .map(|i| DigestItem { kind: NoticeKind::Announcement, title: format!("n{i}"), at: Utc::now() })
            .collect();
        let (t, b) = digest(Language::En, &items);
        assert_eq!(t, "You have 25 new notices");
        assert!(b.ends_with("… and 5 more in the app."));
        let names: Vec<String> = (0..22).map(|i| format!("A{i}")).collect();
        assert!(escalation(Language::Vi, "VB", "x", &names, 22).1.contains("và 2 người khác"));
        assert!(escalation(Language::En, "VB", "x", &names, 22).1.contains("and 2 more"));
        assert!(directive_reminder(Language::En, "VB", "x").0.starts_with("Please acknowledge"));
    }
}
