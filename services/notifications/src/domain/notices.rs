//! What each change says to the member (Vietnamese texts). The events room decodes
//! integration events and calls these.

/// What a notice is about (numbers match `doan.notifications.v1.NotificationKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Welcome after admission.
    Welcome = 1,
    /// Check-in confirmed.
    CheckInConfirmed = 2,
    /// Award granted.
    AwardGranted = 3,
    /// Yearly rating confirmed.
    RatingConfirmed = 4,
    /// Something is due.
    Reminder = 5,
    /// A place the member waited for is theirs.
    PlaceOffered = 6,
    /// Volunteer hours approved.
    HoursApproved = 7,
    /// An idea adopted.
    IdeaAdopted = 8,
    /// A directive from a unit.
    Directive = 9,
    /// A meeting invitation.
    MeetingInvitation = 10,
    /// An announcement.
    Announcement = 11,
    /// A directive's deadline is near.
    DirectiveReminder = 12,
    /// Recipients did not acknowledge a directive by its deadline (to their secretary).
    Escalation = 13,
}

impl NoticeKind {
    /// The kind numbered `n`, if any.
    pub fn from_number(n: i32) -> Option<Self> {
        use NoticeKind::*;
        Some(match n {
            1 => Welcome,
            2 => CheckInConfirmed,
            3 => AwardGranted,
            4 => RatingConfirmed,
            5 => Reminder,
            6 => PlaceOffered,
            7 => HoursApproved,
            8 => IdeaAdopted,
            9 => Directive,
            10 => MeetingInvitation,
            11 => Announcement,
            12 => DirectiveReminder,
            13 => Escalation,
            _ => return None,
        })
    }

    /// The category preferences know it by.
    pub fn category(self) -> crate::domain::preferences::Category {
        use crate::domain::preferences::Category;
        use NoticeKind::*;
        match self {
            Welcome | RatingConfirmed => Category::Membership,
            CheckInConfirmed | PlaceOffered | HoursApproved | IdeaAdopted => Category::Activities,
            AwardGranted => Category::Awards,
            Reminder => Category::Reminders,
            Directive | DirectiveReminder | Escalation => Category::Directives,
            MeetingInvitation => Category::Meetings,
            Announcement => Category::Announcements,
        }
    }
}

/// A notice to write into one member's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Recipient.
    pub member_id: String,
    /// What it is about.
    pub kind: NoticeKind,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Welcome member `member_id` (`full_name`, number `member_number`) admitted on
/// `admitted_on` (ISO date).
pub fn welcome(member_id: &str, full_name: &str, admitted_on: &str, member_number: &str) -> Notice {
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::Welcome,
        title: "Chào mừng đoàn viên mới".into(),
        body: format!(
            "Chúc mừng {full_name} đã được kết nạp vào Đoàn TNCS Hồ Chí Minh ngày {admitted_on}. Số thẻ đoàn viên của bạn: {member_number}."
        ),
    }
}

/// Confirm `member_id`'s check-in to `activity_title`, worth `points`.
pub fn check_in_confirmed(member_id: &str, activity_title: &str, points: i32) -> Notice {
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::CheckInConfirmed,
        title: "Đã ghi nhận tham gia".into(),
        body: format!("Bạn đã điểm danh hoạt động \"{activity_title}\" (+{points} điểm thi đua)."),
    }
}

/// Tell `member_id` that a place of `activity_title` (check-in opens at `opens`, Vietnam
/// time) freed and is now theirs.
pub fn place_offered(member_id: &str, activity_title: &str, opens: &str) -> Notice {
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::PlaceOffered,
        title: "Bạn đã có chỗ tham gia".into(),
        body: format!(
            "Một chỗ của hoạt động \"{activity_title}\" vừa trống và đã dành cho bạn. Điểm danh mở từ {opens}; nếu không tham gia được, hãy hủy đăng ký để nhường chỗ."
        ),
    }
}

/// Tell `member_id` that the organiser approved `minutes` of volunteer time at `activity_title`.
pub fn hours_approved(member_id: &str, activity_title: &str, minutes: i32) -> Notice {
    let (h, m) = (minutes / 60, minutes % 60);
    let time = match (h, m) {
        (0, m) => format!("{m} phút"),
        (h, 0) => format!("{h} giờ"),
        (h, m) => format!("{h} giờ {m} phút"),
    };
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::HoursApproved,
        title: "Giờ tình nguyện đã được xác nhận".into(),
        body: format!("Ban tổ chức đã xác nhận {time} tình nguyện của bạn tại hoạt động \"{activity_title}\"."),
    }
}

/// Tell `member_id` that their idea `title` was adopted.
pub fn idea_adopted(member_id: &str, title: &str) -> Notice {
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::IdeaAdopted,
        title: "Ý tưởng của bạn được chọn áp dụng".into(),
        body: format!("Ý tưởng \"{title}\" của bạn trong Ngân hàng ý tưởng sáng tạo đã được chọn áp dụng. Cảm ơn bạn!"),
    }
}

/// One recipient of an award decision, as the notice needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwardNotice {
    /// The member, or empty for a collective.
    pub member_id: String,
    /// Award form number (`doan.awards.v1.AwardForm`).
    pub form: i32,
    /// Decision number.
    pub decision_number: String,
    /// Decision date (ISO).
    pub decision_date: String,
    /// What it is for.
    pub content: String,
}

/// Announce an individual award; collective awards have no single member to tell.
pub fn award_granted(e: &AwardNotice) -> Option<Notice> {
    if e.member_id.is_empty() {
        return None;
    }
    let form = match e.form {
        1 => "Cờ thi đua",
        2 => "Bằng khen",
        3 => "Giấy khen",
        _ => "Khen thưởng",
    };
    Some(Notice {
        member_id: e.member_id.clone(),
        kind: NoticeKind::AwardGranted,
        title: format!("Bạn được tặng {form}"),
        body: format!("Quyết định số {} ngày {}: {}", e.decision_number, e.decision_date, e.content),
    })
}

/// Tell `member_id` their rating of `year` (a `doan.membership.v1.MemberRating` number).
pub fn rating_confirmed(member_id: &str, year: i32, rating: i32) -> Notice {
    let name = match rating {
        1 => "Hoàn thành xuất sắc nhiệm vụ",
        2 => "Hoàn thành tốt nhiệm vụ",
        3 => "Hoàn thành nhiệm vụ",
        _ => "Không hoàn thành nhiệm vụ",
    };
    Notice {
        member_id: member_id.to_string(),
        kind: NoticeKind::RatingConfirmed,
        title: format!("Kết quả xếp loại đoàn viên năm {year}"),
        body: format!("Bạn được xếp loại \"{name}\". Xem minh chứng trong mục Đánh giá của ứng dụng."),
    }
}

/// Remind each of `member_ids` of something due on `due_on` (ISO): `kind` is
/// `dues_arrears`, `evaluation_deadline` or `remittance_due`; `detail` completes the text.
/// An unknown kind tells nobody.
pub fn reminders(kind: &str, member_ids: &[String], due_on: &str, detail: &str) -> Vec<Notice> {
    let (title, body) = match kind {
        "dues_arrears" => (
            "Nhắc nộp đoàn phí".to_string(),
            format!(
                "Bạn còn nợ đoàn phí {detail}. Vui lòng nộp cho chi đoàn hoặc chuyển khoản và khai báo trong ứng dụng."
            ),
        ),
        "evaluation_deadline" => (
            format!("Sắp hết hạn đánh giá, xếp loại đoàn viên {detail}"),
            format!("Chi đoàn đề xuất xếp loại trước ngày {due_on}. Hãy hoàn thành tự đánh giá rèn luyện đoàn viên."),
        ),
        "remittance_due" => (
            format!("Đến hạn nộp đoàn phí kỳ {detail} lên cấp trên"),
            format!("Đơn vị của bạn cần nộp phần đoàn phí kỳ {detail} lên cấp trên trước ngày {due_on}."),
        ),
        _ => return Vec::new(),
    };
    member_ids
        .iter()
        .map(|m| Notice { member_id: m.clone(), kind: NoticeKind::Reminder, title: title.clone(), body: body.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_reach_each_member_and_unknown_kinds_nobody() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let notices = reminders("dues_arrears", &ids, "2026-05-31", "đến hết tháng 2026-05");
        assert_eq!(notices.len(), 2);
        assert!(notices[1].body.contains("2026-05") && notices[1].member_id == "b");
        assert!(reminders("something_else", &ids, "2026-05-31", "").is_empty());
        assert_eq!(rating_confirmed("a", 2026, 2).title, "Kết quả xếp loại đoàn viên năm 2026");
    }

    #[test]
    fn collective_awards_notify_nobody() {
        let e = AwardNotice { form: 1, ..Default::default() };
        assert!(award_granted(&e).is_none());
        let e =
            AwardNotice {
                member_id: "m".into(), form: 2, decision_number: "12-QĐ/TĐTN".into(), ..Default::default()
            };
        let n = award_granted(&e).unwrap();
        assert_eq!(n.title, "Bạn được tặng Bằng khen");
        assert!(n.body.contains("12-QĐ/TĐTN"));
    }
}
