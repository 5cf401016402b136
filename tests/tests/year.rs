//! The Union's year, end to end through the gateway, on a fixed clock walked through 2026: a
//! branch of 30 members in a five-level tree takes part in activities, pays dues (cash,
//! declared bank transfers confirmed or rejected, a hardship exemption, members in arrears)
//! that are remitted up to the centre, follows the training programme, is evaluated (the
//! evidence caps, the quota, the grassroots confirmation, units rated) and introduces two
//! members to the Party. Every figure is checked at branch, grassroots and province level,
//! with the effects in the other services (rating notices, awards' ratings, reminders). In the
//! embedded mode always, and on the real servers when they answer.
//!
//! Also: the dues books balance under random payments and remittances (a property test
//! through the real API).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use doan_platform::clock::Clock;
use doan_proto::membership::{self as mem, UnitLevel::*};
use doan_proto::{activities as act, awards as aw};
use doan_tests::client::{Gateway, admission, authed, create_unit, officer, until_known};
use doan_tests::{TestPlatform, base_settings, eventually, real_servers};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

/// `h` o'clock on a Vietnam day, as an instant.
fn vn(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    doan_platform::clock::vietnam().with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("time").to_utc()
}

fn day(y: i32, m: u32, d: u32) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// Counts rows of `service`'s database: `sql` with `?` placeholders.
async fn count(tp: &TestPlatform, service: &str, sql: &str, args: Vec<sea_orm::Value>) -> i64 {
    let db = tp.database(service).await.expect("db");
    let backend = db.get_database_backend();
    let mut n = 0;
    let sql = if backend == sea_orm::DbBackend::Postgres {
        sql.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        sql.to_string()
    };
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, args)).await.expect("query").expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

/// Notices of `kind` in `member`'s inbox (1 welcome … 4 rating, 5 reminder) whose title
/// contains `title`.
async fn notices(tp: &TestPlatform, member: &str, kind: i32, title: &str) -> i64 {
    count(
        tp,
        "notifications",
        "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ? AND kind = ? AND title LIKE ?",
        vec![member.into(), kind.into(), format!("%{title}%").into()],
    )
    .await
}

async fn wait_notice(tp: &TestPlatform, member: &str, kind: i32, title: &str) {
    eventually(&format!("notice \"{title}\" to {member}"), Duration::from_secs(30), || async {
        (notices(tp, member, kind, title).await > 0).then_some(())
    })
    .await;
}

struct Branch {
    gw: Gateway,
    admin: String,
    province: String,
    district: String,
    grassroots: String,
    branch: String,
    province_officer: String,
    district_officer: String,
    grassroots_officer: String,
    branch_officer: String,
    /// Member ids, index 0 is member 1.
    members: Vec<String>,
    /// Tokens of members 1 to 25.
    tokens: BTreeMap<usize, String>,
}

impl Branch {
    fn m(&self) -> mem::membership_service_client::MembershipServiceClient<tonic::transport::Channel> {
        self.gw.membership.clone()
    }

    fn id(&self, n: usize) -> String {
        self.members[n - 1].clone()
    }

    #[allow(clippy::too_many_arguments)]
    fn payment(
        &self,
        n: usize,
        first: &str,
        months: i32,
        method: mem::PaymentMethod,
        reference: &str,
        amount: i64,
        paid_on: &str,
    ) -> mem::RecordDuesPaymentRequest {
        mem::RecordDuesPaymentRequest {
            member_id: self.id(n),
            first_month: first.into(),
            months,
            method: method as i32,
            reference: reference.into(),
            amount_vnd: amount,
            paid_on: paid_on.into(),
        }
    }

    /// Member `n` declares a bank transfer for a quarter of salaried dues.
    async fn declare(&self, n: usize, first: &str, reference: &str, paid_on: &str) -> mem::DuesPayment {
        let request = self.payment(n, first, 3, mem::PaymentMethod::BankTransfer, reference, 15_000, paid_on);
        self.m()
            .record_dues_payment(authed(&self.tokens[&n], request))
            .await
            .unwrap_or_else(|s| panic!("member {n} declares a transfer: {s:?}"))
            .into_inner()
            .payment
            .expect("payment")
    }

    async fn pay_cash(&self, n: usize, first: &str, months: i32, amount: i64, paid_on: &str) {
        let receipt = format!("PT-{n}-{first}");
        let request = self.payment(n, first, months, mem::PaymentMethod::Cash, &receipt, amount, paid_on);
        self.m()
            .record_dues_payment(authed(&self.branch_officer, request))
            .await
            .unwrap_or_else(|s| panic!("member {n} pays {first}: {s:?}"));
    }

    async fn remit(&self, officer: &str, unit: &str, period: &str) -> mem::Remittance {
        self.m()
            .create_remittance(authed(
                officer,
                mem::CreateRemittanceRequest { unit_id: unit.into(), period: period.into() },
            ))
            .await
            .unwrap_or_else(|s| panic!("{unit} remits {period}: {s:?}"))
            .into_inner()
            .remittance
            .expect("remittance")
    }

    async fn confirm(&self, officer: &str, r: &mem::Remittance) {
        self.m()
            .confirm_remittance(authed(
                officer,
                mem::ConfirmRemittanceRequest { remittance_id: r.remittance_id.clone() },
            ))
            .await
            .expect("the parent confirms the remittance");
    }

    async fn report(&self, officer: &str, unit: &str) -> mem::GetDuesReportResponse {
        self.m()
            .get_dues_report(authed(
                officer,
                mem::GetDuesReportRequest {
                    unit_id: unit.into(),
                    from_month: "2026-01".into(),
                    to_month: "2026-12".into(),
                },
            ))
            .await
            .expect("report")
            .into_inner()
    }

    async fn activity(&self, officer: &str, unit: &str, title: &str, from: DateTime<Utc>, hours: i64) -> String {
        let ts = |t: DateTime<Utc>| Some(doan_platform::convert::timestamp(t));
        until_known("activities knows the unit", || {
            let mut client = self.gw.activities.clone();
            let request = authed(
                officer,
                act::CreateActivityRequest {
                    unit_id: unit.to_string(),
                    title: title.to_string(),
                    description: "Hoạt động của chi đoàn".into(),
                    starts_at: ts(from),
                    ends_at: ts(from + chrono::Duration::hours(hours)),
                    points: 5,
                    capacity: 0,
                    ..Default::default()
                },
            );
            async move { client.create_activity(request).await }
        })
        .await
        .activity
        .expect("activity")
        .activity_id
    }

    /// Members `who` check in to `activity`; returns their participation ids by member.
    async fn attend(&self, activity: &str, who: std::ops::RangeInclusive<usize>) -> BTreeMap<usize, String> {
        let mut out = BTreeMap::new();
        for n in who {
            let p = until_known("activities knows the member", || {
                let mut client = self.gw.activities.clone();
                let request = authed(
                    &self.tokens[&n],
                    act::CheckInRequest { activity_id: activity.into(), ..Default::default() },
                );
                async move { client.check_in(request).await }
            })
            .await
            .participation
            .expect("participation");
            out.insert(n, p.participation_id);
        }
        out
    }
}

/// The tree, the officers (the branch secretary is member 1), 30 members admitted on 2 January
/// 2026, 25 of them with an account.
async fn setup(tp: &TestPlatform) -> Branch {
    let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin");
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn Bắc Ninh", Provincial).await;
    let district = create_unit(&gw, &admin, &province, "Huyện đoàn Tiên Du", District).await;
    let grassroots = create_unit(&gw, &admin, &district, "Đoàn xã Phật Tích", Grassroots).await;
    let branch = create_unit(&gw, &admin, &grassroots, "Chi đoàn thôn Đông", Branch).await;
    let province_officer = officer(&gw, &admin, &province, "bt.tinhdoan").await;
    let district_officer = officer(&gw, &admin, &district, "bt.huyendoan").await;
    let grassroots_officer = officer(&gw, &admin, &grassroots, "bt.doanxa").await;
    let mut members = Vec::new();
    let mut tokens = BTreeMap::new();
    for n in 1..=30u32 {
        let mut r = admission(&branch, n);
        r.date_of_birth = "2004-05-01".into();
        r.admitted_on = day(2026, 1, 2);
        let (citizen_id, dob) = (r.citizen_id.clone(), r.date_of_birth.clone());
        let admitted = gw
            .membership
            .clone()
            .admit_member(authed(&grassroots_officer, r))
            .await
            .unwrap_or_else(|s| panic!("admit {n}: {s:?}"))
            .into_inner()
            .member
            .expect("member");
        if n <= 25 {
            gw.membership
                .clone()
                .activate_member_account(mem::ActivateMemberAccountRequest {
                    member_number: admitted.member_number.clone(),
                    citizen_id,
                    date_of_birth: dob,
                    password: "member-password-1".into(),
                })
                .await
                .expect("activate");
            tokens.insert(n as usize, gw.login(&admitted.member_number, "member-password-1").await.expect("login"));
        }
        members.push(admitted.member_id);
    }
    // The branch secretary is member 1: reminders for the branch reach them.
    gw.membership
        .clone()
        .appoint_officer(authed(
            &admin,
            mem::AppointOfficerRequest {
                unit_id: branch.clone(),
                username: "bt.chidoan".into(),
                full_name: "Nguyễn Thị Hoa".into(),
                password: "officer-password-1".into(),
                member_id: members[0].clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("appoint the branch secretary");
    let branch_officer = gw.login("bt.chidoan", "officer-password-1").await.expect("login");
    Branch {
        gw,
        admin,
        province,
        district,
        grassroots,
        branch,
        province_officer,
        district_officer,
        grassroots_officer,
        branch_officer,
        members,
        tokens,
    }
}

async fn a_branch_through_the_year(tp: TestPlatform, clock: Clock) {
    use mem::DuesMonthState as S;
    let b = setup(&tp).await;

    // January: the province opens the year and sets the training programme.
    let period = b
        .m()
        .open_evaluation_period(authed(
            &b.province_officer,
            mem::OpenEvaluationPeriodRequest {
                unit_id: b.province.clone(),
                year: 2026,
                sector: mem::EvaluationSector::Calendar as i32,
                proposal_deadline: day(2026, 12, 15),
                confirmation_deadline: day(2026, 12, 31),
            },
        ))
        .await
        .expect("period")
        .into_inner()
        .period
        .expect("period");
    assert_eq!((period.starts_on.as_str(), period.ends_on.as_str()), ("2026-01-01", "2026-12-31"));
    let criterion = |title: &str, kind: mem::CriterionKind, target: i32, required: bool| mem::TrainingCriterion {
        title: title.into(),
        description: String::new(),
        kind: kind as i32,
        target,
        required,
        ..Default::default()
    };
    let programme = b
        .m()
        .create_training_programme(authed(
            &b.province_officer,
            mem::CreateTrainingProgrammeRequest {
                unit_id: b.province.clone(),
                year: 2026,
                title: "Chương trình rèn luyện đoàn viên 2026".into(),
                criteria: vec![
                    criterion("Tham gia ít nhất 2 hoạt động", mem::CriterionKind::Participations, 2, true),
                    criterion("Học tập và làm theo tư tưởng Hồ Chí Minh", mem::CriterionKind::Commitment, 0, true),
                    criterion("Lớp kỹ năng số", mem::CriterionKind::Course, 0, false),
                ],
            },
        ))
        .await
        .expect("programme")
        .into_inner()
        .programme
        .expect("programme");
    let c: Vec<String> = programme.criteria.iter().map(|c| c.criterion_id.clone()).collect();
    // Member 1 registers in the app, then the branch registers everyone.
    let own = b
        .m()
        .register_training(authed(
            &b.tokens[&1],
            mem::RegisterTrainingRequest { year: 2026, member_ids: vec![b.id(1)] },
        ))
        .await
        .expect("member registers")
        .into_inner();
    assert_eq!(own.registered, 1);
    let bulk = b
        .m()
        .register_training(authed(
            &b.branch_officer,
            mem::RegisterTrainingRequest { year: 2026, member_ids: b.members.clone() },
        ))
        .await
        .expect("branch registers")
        .into_inner();
    assert_eq!((bulk.registered, bulk.already_registered), (29, 1));
    let other = b
        .m()
        .register_training(authed(
            &b.tokens[&2],
            mem::RegisterTrainingRequest { year: 2026, member_ids: vec![b.id(3)] },
        ))
        .await;
    assert_eq!(other.unwrap_err().code(), Code::PermissionDenied, "a member registers only themself");

    // Dues: members 1–20 are students (2,000), 21–30 salaried (5,000).
    for n in 1..=30 {
        let category = if n <= 20 { mem::DuesCategory::Student } else { mem::DuesCategory::Salaried };
        b.m()
            .set_dues_category(authed(
                &b.branch_officer,
                mem::SetDuesCategoryRequest { member_id: b.id(n), category: category as i32 },
            ))
            .await
            .expect("category");
    }
    // Students pay the year; the salaried pay the first quarter.
    for n in 1..=20 {
        b.pay_cash(n, "2026-01", 12, 24_000, "2026-01-05").await;
    }
    for n in 21..=30 {
        b.pay_cash(n, "2026-01", 3, 15_000, "2026-01-05").await;
    }
    let wrong = b
        .m()
        .record_dues_payment(authed(
            &b.branch_officer,
            b.payment(21, "2026-04", 3, mem::PaymentMethod::Cash, "", 6_000, &day(2026, 1, 5)),
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(wrong.message().contains("amount_vnd") && wrong.message().contains("15000"), "{wrong:?}");
    let twice = b
        .m()
        .record_dues_payment(authed(
            &b.branch_officer,
            b.payment(1, "2026-06", 1, mem::PaymentMethod::Cash, "", 2_000, &day(2026, 1, 5)),
        ))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition, "a paid month is not paid twice: {twice:?}");
    let cash_by_member = b
        .m()
        .record_dues_payment(authed(
            &b.tokens[&21],
            b.payment(21, "2026-04", 3, mem::PaymentMethod::Cash, "", 15_000, &day(2026, 1, 5)),
        ))
        .await
        .unwrap_err();
    assert_eq!(cash_by_member.code(), Code::PermissionDenied, "cash is the treasurer's to record");

    // February: the branch remits January (everything at hand).
    clock.set(vn(2026, 2, 2, 9));
    let r_jan = b.remit(&b.branch_officer, &b.branch, "2026-01").await;
    assert_eq!((r_jan.pool_vnd, r_jan.amount_vnd, r_jan.kept_vnd), (630_000, 210_000, 420_000));
    assert_eq!(r_jan.due_on, "2026-02-15");
    let again = b
        .m()
        .create_remittance(authed(
            &b.branch_officer,
            mem::CreateRemittanceRequest { unit_id: b.branch.clone(), period: "2026-01".into() },
        ))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::AlreadyExists);
    let own_confirm = b
        .m()
        .confirm_remittance(authed(
            &b.branch_officer,
            mem::ConfirmRemittanceRequest { remittance_id: r_jan.remittance_id.clone() },
        ))
        .await;
    assert_eq!(own_confirm.unwrap_err().code(), Code::PermissionDenied, "the receiving level confirms");
    b.confirm(&b.grassroots_officer, &r_jan).await;

    // March: Tháng Thanh niên, organised by the commune union; members 1–25 attend.
    clock.set(vn(2026, 3, 26, 19));
    let a = b.activity(&b.grassroots_officer, &b.grassroots, "Ra quân Tháng Thanh niên", vn(2026, 3, 26, 18), 2).await;
    let p_a = b.attend(&a, 1..=25).await;

    // April: the second quarter; member 21 declares a bank transfer, member 25 is exempt.
    clock.set(vn(2026, 4, 3, 9));
    for n in 22..=24 {
        b.pay_cash(n, "2026-04", 3, 15_000, "2026-04-03").await;
    }
    let declared = b.declare(21, "2026-04", "FT26093123456", &day(2026, 4, 2)).await;
    assert_eq!(declared.state, mem::PaymentState::Pending as i32);
    let ledger = b
        .m()
        .get_dues_ledger(authed(&b.tokens[&21], mem::GetDuesLedgerRequest { member_id: b.id(21), year: 2026 }))
        .await
        .expect("ledger")
        .into_inner();
    assert_eq!(ledger.months[3].state, S::Pending as i32, "April is pending until confirmed");
    b.m()
        .confirm_dues_payment(authed(
            &b.branch_officer,
            mem::ConfirmDuesPaymentRequest { payment_id: declared.payment_id.clone(), ..Default::default() },
        ))
        .await
        .expect("the treasurer confirms the transfer");
    let long = b
        .m()
        .grant_dues_exemption(authed(
            &b.branch_officer,
            mem::GrantDuesExemptionRequest {
                member_id: b.id(25),
                first_month: "2026-04".into(),
                months: 7,
                reason: "Hoàn cảnh khó khăn".into(),
            },
        ))
        .await;
    assert_eq!(long.unwrap_err().code(), Code::InvalidArgument, "at most 6 months");
    b.m()
        .grant_dues_exemption(authed(
            &b.branch_officer,
            mem::GrantDuesExemptionRequest {
                member_id: b.id(25),
                first_month: "2026-04".into(),
                months: 6,
                reason: "Gia đình gặp thiên tai".into(),
            },
        ))
        .await
        .expect("exemption");
    let more = b
        .m()
        .grant_dues_exemption(authed(
            &b.branch_officer,
            mem::GrantDuesExemptionRequest {
                member_id: b.id(25),
                first_month: "2026-11".into(),
                months: 1,
                reason: "Khó khăn kéo dài".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(more.code(), Code::FailedPrecondition, "at most 6 exempt months in a year: {more:?}");
    // A week before the March remittance is due, the branch secretary is reminded.
    clock.set(vn(2026, 4, 10, 9));
    wait_notice(&tp, &b.id(1), 5, "2026-03").await;
    let r_mar = b.remit(&b.branch_officer, &b.branch, "2026-03").await;
    assert_eq!((r_mar.pool_vnd, r_mar.amount_vnd), (60_000, 20_000));
    b.confirm(&b.grassroots_officer, &r_mar).await;
    let g_q1 = b.remit(&b.grassroots_officer, &b.grassroots, "2026-Q1").await;
    assert_eq!((g_q1.pool_vnd, g_q1.amount_vnd, g_q1.kept_vnd), (230_000, 76_666, 153_334));

    // May: members 26–30 owe April and are reminded; member 30 is reprimanded.
    clock.set(vn(2026, 5, 6, 9));
    for n in 26..=30 {
        wait_notice(&tp, &b.id(n), 5, "Nhắc nộp đoàn phí").await;
    }
    b.m()
        .discipline_member(authed(
            &b.grassroots_officer,
            mem::DisciplineMemberRequest {
                member_id: b.id(30),
                kind: mem::DisciplineKind::Reprimand as i32,
                decision_number: "05-QĐ/ĐTN".into(),
                decided_on: day(2026, 5, 6),
                signer: "Bí thư Đoàn xã".into(),
                reason: "Vi phạm nội quy sinh hoạt".into(),
            },
        ))
        .await
        .expect("discipline");

    // July: the third quarter; member 22's declared transfer is rejected, then paid in cash.
    clock.set(vn(2026, 7, 2, 9));
    for n in [21, 23, 24] {
        b.pay_cash(n, "2026-07", 3, 15_000, "2026-07-02").await;
    }
    let bogus = b.declare(22, "2026-07", "FT-NOT-FOUND", &day(2026, 7, 1)).await;
    let rejected = b
        .m()
        .confirm_dues_payment(authed(
            &b.branch_officer,
            mem::ConfirmDuesPaymentRequest {
                payment_id: bogus.payment_id,
                reject: true,
                reason: "Không có giao dịch".into(),
            },
        ))
        .await
        .expect("rejected")
        .into_inner()
        .payment
        .expect("payment");
    assert_eq!(rejected.state, mem::PaymentState::Rejected as i32);
    b.pay_cash(22, "2026-07", 3, 15_000, "2026-07-02").await;
    let r_jul = b.remit(&b.branch_officer, &b.branch, "2026-07").await;
    assert_eq!(r_jul.amount_vnd, 20_000);
    b.confirm(&b.grassroots_officer, &r_jul).await;
    let g_q2 = b.remit(&b.grassroots_officer, &b.grassroots, "2026-Q2").await;
    assert_eq!((g_q2.pool_vnd, g_q2.amount_vnd), (20_000, 6_666));

    // Mùa hè xanh (district) for members 1–20, a branch meeting for members 1–10.
    clock.set(vn(2026, 7, 20, 8));
    let bb = b.activity(&b.district_officer, &b.district, "Mùa hè xanh", vn(2026, 7, 20, 7), 4).await;
    let p_b = b.attend(&bb, 1..=20).await;
    clock.set(vn(2026, 9, 5, 9));
    let cc = b.activity(&b.branch_officer, &b.branch, "Sinh hoạt chi đoàn tháng 9", vn(2026, 9, 5, 8), 3).await;
    b.attend(&cc, 1..=10).await;

    // October: the last quarter.
    clock.set(vn(2026, 10, 2, 9));
    for n in 21..=25 {
        b.pay_cash(n, "2026-10", 3, 15_000, "2026-10-02").await;
    }
    let r_oct = b.remit(&b.branch_officer, &b.branch, "2026-10").await;
    assert_eq!((r_oct.pool_vnd, r_oct.amount_vnd), (75_000, 25_000));
    b.confirm(&b.grassroots_officer, &r_oct).await;
    let g_q3 = b.remit(&b.grassroots_officer, &b.grassroots, "2026-Q3").await;
    assert_eq!((g_q3.pool_vnd, g_q3.amount_vnd), (25_000, 8_333));

    // November: a certificate of merit for member 1; the training year is evaluated.
    clock.set(vn(2026, 11, 20, 9));
    b.gw.awards
        .clone()
        .record_award_decision(authed(
            &b.province_officer,
            aw::RecordAwardDecisionRequest {
                decision_date: day(2026, 11, 20),
                content: "Thành tích xuất sắc trong Chiến dịch Mùa hè xanh".into(),
                ..doan_tests::client::individual_award("212-QĐ/TĐTN", &b.id(1))
            },
        ))
        .await
        .expect("award");
    for n in 1..=20 {
        for p in [&p_a[&n], &p_b[&n]] {
            until_known("membership knows the participation", || {
                let mut client = b.m();
                let request = authed(
                    &b.branch_officer,
                    mem::AddTrainingEvidenceRequest {
                        member_id: b.id(n),
                        year: 2026,
                        criterion_id: c[0].clone(),
                        kind: mem::EvidenceKind::Participation as i32,
                        participation_id: p.clone(),
                        ..Default::default()
                    },
                );
                async move { client.add_training_evidence(request).await }
            })
            .await;
        }
    }
    let link = mem::AddTrainingEvidenceRequest {
        member_id: b.id(21),
        year: 2026,
        criterion_id: c[0].clone(),
        kind: mem::EvidenceKind::Participation as i32,
        participation_id: p_a[&21].clone(),
        ..Default::default()
    };
    b.m()
        .add_training_evidence(authed(&b.tokens[&21], link.clone()))
        .await
        .expect("member 21 links their participation");
    let twice = b.m().add_training_evidence(authed(&b.tokens[&21], link)).await.unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists, "a participation backs a criterion once");
    let record = b
        .m()
        .add_training_evidence(authed(
            &b.tokens[&1],
            mem::AddTrainingEvidenceRequest {
                member_id: b.id(1),
                year: 2026,
                criterion_id: c[1].clone(),
                kind: mem::EvidenceKind::Document as i32,
                reference: "BC-2026-01".into(),
                description: "Bài thu hoạch học tập chuyên đề".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("member 1 links a document")
        .into_inner()
        .record
        .expect("record");
    assert_eq!(record.criteria[0].evidence.len(), 2, "two participations back the first criterion");
    b.m()
        .submit_training_self_assessment(authed(
            &b.tokens[&1],
            mem::SubmitTrainingSelfAssessmentRequest {
                member_id: b.id(1),
                year: 2026,
                text: "Hoàn thành các tiêu chí đã đăng ký.".into(),
            },
        ))
        .await
        .expect("self-assessment");
    let verdicts = |first_met: bool, note: &str| {
        vec![
            mem::CriterionVerdict { criterion_id: c[0].clone(), met: first_met, officer_note: String::new() },
            mem::CriterionVerdict { criterion_id: c[1].clone(), met: true, officer_note: note.into() },
            mem::CriterionVerdict { criterion_id: c[2].clone(), met: false, officer_note: String::new() },
        ]
    };
    let unbacked = b
        .m()
        .evaluate_training(authed(
            &b.branch_officer,
            mem::EvaluateTrainingRequest {
                member_id: b.id(21),
                year: 2026,
                verdicts: verdicts(true, "Tốt"),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unbacked.code(), Code::InvalidArgument, "one participation does not meet a target of two");
    assert!(unbacked.message().contains("verdicts.met") && unbacked.message().contains("1 of 2"), "{unbacked:?}");
    let words = b
        .m()
        .evaluate_training(authed(
            &b.branch_officer,
            mem::EvaluateTrainingRequest {
                member_id: b.id(2),
                year: 2026,
                verdicts: verdicts(true, ""),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert!(words.message().contains("officer_note"), "a commitment is not met on words alone: {words:?}");
    for n in (1..=25).chain([30]) {
        let note = if n == 1 { "" } else { "Chấp hành tốt" };
        let result = b
            .m()
            .evaluate_training(authed(
                &b.branch_officer,
                mem::EvaluateTrainingRequest {
                    member_id: b.id(n),
                    year: 2026,
                    verdicts: verdicts(n <= 20, note),
                    comment: "Chi đoàn đánh giá".into(),
                },
            ))
            .await
            .unwrap_or_else(|s| panic!("evaluate {n}: {s:?}"))
            .into_inner()
            .record
            .expect("record")
            .result;
        let expected = if n <= 20 { mem::TrainingResult::Passed } else { mem::TrainingResult::Failed };
        assert_eq!(result, expected as i32, "member {n}");
    }

    // December: a week before the proposal deadline everyone not yet rated is reminded.
    clock.set(vn(2026, 12, 8, 9));
    wait_notice(&tp, &b.id(1), 5, "đánh giá").await;
    wait_notice(&tp, &b.id(30), 5, "đánh giá").await;

    clock.set(vn(2026, 12, 10, 9));
    let sheet = b
        .m()
        .get_evidence_sheet(authed(
            &b.branch_officer,
            mem::GetEvidenceSheetRequest { period_id: period.period_id.clone(), unit_id: b.branch.clone() },
        ))
        .await
        .expect("sheet")
        .into_inner();
    assert_eq!((sheet.members.len(), sheet.excellent_allowed), (30, 6));
    let ev = |n: usize| sheet.members.iter().find(|e| e.member_id == b.id(n)).and_then(|e| e.evidence.clone()).unwrap();
    let e1 = ev(1);
    assert_eq!((e1.participations, e1.volunteer_minutes, e1.awards), (3, 120 + 240 + 180, 1));
    assert_eq!((e1.dues_months_due, e1.dues_months_paid, e1.dues_arrears_months), (11, 11, 0));
    assert_eq!((e1.training_result, e1.best_allowed), (mem::TrainingResult::Passed as i32, 1));
    let e21 = ev(21);
    assert_eq!((e21.participations, e21.best_allowed), (1, mem::MemberRating::Completed as i32));
    let e25 = ev(25);
    assert_eq!((e25.dues_months_paid, e25.dues_months_exempt, e25.dues_arrears_months), (5, 6, 0));
    let e26 = ev(26);
    assert_eq!((e26.participations, e26.dues_arrears_months), (0, 8));
    assert!(e26.limits.iter().any(|l| l.contains("Nợ đoàn phí 8 tháng")), "{:?}", e26.limits);
    assert!(ev(30).limits.iter().any(|l| l.contains("kỷ luật")), "discipline caps member 30");

    let rating = |n: usize, r: mem::MemberRating| mem::ProposedRating {
        member_id: b.id(n),
        rating: r as i32,
        note: String::new(),
    };
    let too_many: Vec<_> = (1..=7).map(|n| rating(n, mem::MemberRating::Excellent)).collect();
    let quota = b
        .m()
        .propose_ratings(authed(
            &b.branch_officer,
            mem::ProposeRatingsRequest {
                period_id: period.period_id.clone(),
                unit_id: b.branch.clone(),
                ratings: too_many,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(quota.code(), Code::FailedPrecondition, "20% of 30 is 6: {quota:?}");
    let capped = b
        .m()
        .propose_ratings(authed(
            &b.branch_officer,
            mem::ProposeRatingsRequest {
                period_id: period.period_id.clone(),
                unit_id: b.branch.clone(),
                ratings: vec![rating(21, mem::MemberRating::Good)],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(capped.code(), Code::InvalidArgument, "the evidence caps member 21: {capped:?}");
    let ratings: Vec<_> = (1..=30)
        .map(|n| {
            let r = match n {
                1..=6 => mem::MemberRating::Excellent,
                7..=20 => mem::MemberRating::Good,
                30 => mem::MemberRating::NotCompleted,
                _ => mem::MemberRating::Completed,
            };
            rating(n, r)
        })
        .collect();
    b.m()
        .propose_ratings(authed(
            &b.branch_officer,
            mem::ProposeRatingsRequest { period_id: period.period_id.clone(), unit_id: b.branch.clone(), ratings },
        ))
        .await
        .expect("the branch proposes");
    let itself = b
        .m()
        .confirm_ratings(authed(
            &b.branch_officer,
            mem::ConfirmRatingsRequest {
                period_id: period.period_id.clone(),
                unit_id: b.branch.clone(),
                changes: vec![],
            },
        ))
        .await;
    assert_eq!(itself.unwrap_err().code(), Code::PermissionDenied, "a branch does not confirm itself");
    // Member 20 is reprimanded after the proposal: the confirmation sees the new evidence.
    b.m()
        .discipline_member(authed(
            &b.grassroots_officer,
            mem::DisciplineMemberRequest {
                member_id: b.id(20),
                kind: mem::DisciplineKind::Reprimand as i32,
                decision_number: "09-QĐ/ĐTN".into(),
                decided_on: day(2026, 12, 10),
                signer: "Bí thư Đoàn xã".into(),
                reason: "Vắng sinh hoạt nhiều lần".into(),
            },
        ))
        .await
        .expect("discipline");
    let stale = b
        .m()
        .confirm_ratings(authed(
            &b.grassroots_officer,
            mem::ConfirmRatingsRequest {
                period_id: period.period_id.clone(),
                unit_id: b.branch.clone(),
                changes: vec![rating(29, mem::MemberRating::NotCompleted)],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert!(stale.message().contains(&b.id(20)), "the refusal names member 20: {stale:?}");
    let confirmed = b
        .m()
        .confirm_ratings(authed(
            &b.grassroots_officer,
            mem::ConfirmRatingsRequest {
                period_id: period.period_id.clone(),
                unit_id: b.branch.clone(),
                changes: vec![rating(29, mem::MemberRating::NotCompleted), rating(20, mem::MemberRating::Completed)],
            },
        ))
        .await
        .expect("the commune union confirms")
        .into_inner()
        .evaluations;
    assert_eq!(confirmed.len(), 30);
    // Every member hears of their rating; awards holds every rating.
    let rated = b.members.clone();
    eventually("rating notices and awards' ratings", Duration::from_secs(30), || {
        let (tp, rated) = (&tp, rated.clone());
        async move {
            let notified =
                count(tp, "notifications", "SELECT COUNT(*) AS n FROM notifications WHERE kind = 4", vec![]).await;
            let held =
                count(tp, "awards", "SELECT COUNT(*) AS n FROM ratings WHERE unit = ?", vec![false.into()]).await;
            (notified == rated.len() as i64 && held == rated.len() as i64).then_some(())
        }
    })
    .await;
    let standing =
        b.gw.awards
            .clone()
            .get_member_standing(authed(
                &b.tokens[&1],
                aw::GetMemberStandingRequest { member_id: String::new(), year: 2026 },
            ))
            .await
            .expect("standing")
            .into_inner();
    assert_eq!(standing.rating, mem::MemberRating::Excellent as i32);
    let mine = b
        .m()
        .get_member_evaluation(authed(
            &b.tokens[&1],
            mem::GetMemberEvaluationRequest { member_id: b.id(1), year: 2026 },
        ))
        .await
        .expect("member 1 sees their rating")
        .into_inner()
        .evaluation
        .expect("evaluation");
    assert_eq!((mine.rating, mine.state), (mem::MemberRating::Excellent as i32, mem::RatingState::Confirmed as i32));
    assert_eq!(mine.evidence.expect("evidence").participations, 3);

    // Units are rated by the level above: 19 of 30 good or better, 2 not completing (6.7%).
    let unit_rating = |officer: String, unit: String, met: i32| {
        let mut m = b.m();
        let period_id = period.period_id.clone();
        async move {
            m.rate_unit(authed(
                &officer,
                mem::RateUnitRequest {
                    period_id,
                    unit_id: unit,
                    targets_met: met,
                    targets_total: 12,
                    note: String::new(),
                },
            ))
            .await
            .expect("rate unit")
            .into_inner()
            .evaluation
            .expect("evaluation")
        }
    };
    let branch_rating = unit_rating(b.grassroots_officer.clone(), b.branch.clone(), 10).await;
    assert_eq!(
        (branch_rating.rating, branch_rating.members_rated, branch_rating.excellent, branch_rating.not_completed),
        (mem::UnitRating::Fair as i32, 30, 6, 2)
    );
    let grassroots_rating = unit_rating(b.district_officer.clone(), b.grassroots.clone(), 12).await;
    assert_eq!(grassroots_rating.rating, mem::UnitRating::Fair as i32);

    // The branch introduces members 1 and 2 to the Party; member 21 is not eligible.
    clock.set(vn(2026, 12, 12, 9));
    let propose = |ids: Vec<String>| {
        let mut m = b.m();
        let request = authed(
            &b.branch_officer,
            mem::ProposePartyIntroductionRequest {
                unit_id: b.branch.clone(),
                resolution_number: "03-NQ/CĐ".into(),
                resolution_date: day(2026, 12, 12),
                member_ids: ids,
            },
        );
        async move { m.propose_party_introduction(request).await }
    };
    let refused = propose(vec![b.id(1), b.id(21)]).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains(&b.id(21)), "the error names the member: {refused:?}");
    let intro = propose(vec![b.id(1), b.id(2)]).await.expect("introduction").into_inner().introduction.expect("intro");
    let pending = propose(vec![b.id(2)]).await.unwrap_err();
    assert_eq!(pending.code(), Code::FailedPrecondition, "member 2 is pending in the first introduction");
    clock.set(vn(2026, 12, 14, 9));
    b.m()
        .send_party_introduction(authed(
            &b.grassroots_officer,
            mem::SendPartyIntroductionRequest {
                introduction_id: intro.introduction_id.clone(),
                party_committee: "Chi bộ thôn Đông".into(),
                sent_on: day(2026, 12, 14),
            },
        ))
        .await
        .expect("sent");
    clock.set(vn(2026, 12, 19, 9));
    for (n, outcome) in [(1, mem::IntroductionOutcome::Admitted), (2, mem::IntroductionOutcome::NotAdmitted)] {
        b.m()
            .record_introduction_outcome(authed(
                &b.grassroots_officer,
                mem::RecordIntroductionOutcomeRequest {
                    introduction_id: intro.introduction_id.clone(),
                    member_id: b.id(n),
                    outcome: outcome as i32,
                    admitted_on: if n == 1 { day(2026, 12, 19) } else { String::new() },
                    decision_number: if n == 1 { "45-QĐ/ĐU".into() } else { String::new() },
                    note: String::new(),
                },
            ))
            .await
            .expect("outcome");
    }

    // Year end: the rest goes up to the centre.
    clock.set(vn(2026, 12, 20, 9));
    let nothing = b
        .m()
        .create_remittance(authed(
            &b.grassroots_officer,
            mem::CreateRemittanceRequest { unit_id: b.grassroots.clone(), period: "2026-Q4".into() },
        ))
        .await;
    assert_eq!(nothing.unwrap_err().code(), Code::FailedPrecondition, "nothing at hand");
    for r in [&g_q1, &g_q2, &g_q3] {
        b.confirm(&b.district_officer, r).await;
    }
    let d = b.remit(&b.district_officer, &b.district, "2026-Q4").await;
    assert_eq!((d.pool_vnd, d.amount_vnd, d.kept_vnd), (91_665, 30_555, 61_110));
    b.confirm(&b.province_officer, &d).await;
    let p = b.remit(&b.province_officer, &b.province, "2026").await;
    assert_eq!((p.pool_vnd, p.amount_vnd, p.kept_vnd, p.due_on.as_str()), (30_555, 10_185, 20_370, "2026-12-30"));
    b.confirm(&b.admin, &p).await;

    // Dues figures at three levels: collected 825,000; members 26–30 owe April to November.
    let province = b.report(&b.province_officer, &b.province).await;
    let grassroots = b.report(&b.grassroots_officer, &b.grassroots).await;
    let branch = b.report(&b.branch_officer, &b.branch).await;
    for r in [&province, &grassroots, &branch] {
        assert_eq!(
            (r.collected_vnd, r.pending_vnd, r.paid_member_months, r.exempt_member_months),
            (825_000, 0, 309, 6)
        );
        assert_eq!((r.arrears_member_months, r.arrears_vnd, r.active_members), (40, 200_000, 30));
        assert_eq!((r.at_hand_vnd, r.in_transit_vnd), (0, 0), "everything went up");
    }
    assert_eq!((branch.remitted_vnd, branch.received_vnd, branch.kept_vnd), (275_000, 0, 550_000));
    assert_eq!((grassroots.remitted_vnd, grassroots.received_vnd, grassroots.kept_vnd), (91_665, 275_000, 733_335));
    assert_eq!((province.remitted_vnd, province.received_vnd, province.kept_vnd), (10_185, 30_555, 814_815));
    assert_eq!(
        province.kept_vnd + province.remitted_vnd,
        province.collected_vnd,
        "kept and sent up is what was collected"
    );
    let ledger26 = b
        .m()
        .get_dues_ledger(authed(&b.branch_officer, mem::GetDuesLedgerRequest { member_id: b.id(26), year: 2026 }))
        .await
        .expect("ledger")
        .into_inner();
    assert_eq!((ledger26.arrears_months, ledger26.arrears_vnd, ledger26.paid_vnd), (8, 40_000, 15_000));
    assert_eq!(ledger26.months[11].state, S::Due as i32, "December is the current month");
    let ledger25 = b
        .m()
        .get_dues_ledger(authed(&b.branch_officer, mem::GetDuesLedgerRequest { member_id: b.id(25), year: 2026 }))
        .await
        .expect("ledger")
        .into_inner();
    let states: Vec<i32> = ledger25.months.iter().map(|m| m.state).collect();
    assert_eq!(states[3..9], [S::Exempt as i32; 6]);
    assert_eq!((states[9], ledger25.arrears_months), (S::Paid as i32, 0));
    assert_eq!(
        notices(&tp, &b.id(1), 5, "Nhắc nộp đoàn phí").await,
        0,
        "member 1 paid the year and was never reminded of dues"
    );

    // Party figures at three levels, and member 1 counted as admitted to the Party.
    for (officer, unit) in
        [(&b.branch_officer, &b.branch), (&b.grassroots_officer, &b.grassroots), (&b.province_officer, &b.province)]
    {
        let s = b
            .m()
            .get_party_introduction_statistics(authed(
                officer,
                mem::GetPartyIntroductionStatisticsRequest {
                    unit_id: unit.clone(),
                    from: day(2026, 1, 1),
                    to: day(2026, 12, 31),
                },
            ))
            .await
            .expect("party statistics")
            .into_inner();
        assert_eq!((s.proposed, s.introduced, s.admitted, s.not_admitted, s.pending), (2, 2, 1, 1, 0), "unit {unit}");
    }
    let stats = b
        .m()
        .get_unit_statistics(authed(
            &b.province_officer,
            mem::GetUnitStatisticsRequest { unit_id: b.province.clone(), year: 2026 },
        ))
        .await
        .expect("statistics")
        .into_inner();
    assert_eq!((stats.party_admitted, stats.active_members), (1, 30));
    let sheet = b
        .m()
        .get_evidence_sheet(authed(
            &b.grassroots_officer,
            mem::GetEvidenceSheetRequest { period_id: period.period_id.clone(), unit_id: b.branch.clone() },
        ))
        .await
        .expect("sheet")
        .into_inner();
    assert_eq!(sheet.unit.expect("the branch's rating").rating, mem::UnitRating::Fair as i32);
    let by_rating = |r: mem::MemberRating| sheet.members.iter().filter(|e| e.rating == r as i32).count();
    assert_eq!(
        [
            mem::MemberRating::Excellent,
            mem::MemberRating::Good,
            mem::MemberRating::Completed,
            mem::MemberRating::NotCompleted
        ]
        .map(by_rating),
        [6, 13, 9, 2]
    );
    tp.stop().await.expect("stop");
}

fn year_settings(s: &mut doan_platform::config::Settings) {
    s.jobs.reminders_every_secs = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_of_30_goes_through_2026_embedded() {
    let clock = Clock::fixed(vn(2026, 1, 5, 9));
    let mut settings = base_settings();
    year_settings(&mut settings);
    let tp = TestPlatform::embedded_at(settings, &[], clock.clone()).await.expect("start");
    a_branch_through_the_year(tp, clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_of_30_goes_through_2026_on_the_servers() {
    let Some(urls) = real_servers("a_branch_of_30_goes_through_2026_on_the_servers").await else { return };
    let clock = Clock::fixed(vn(2026, 1, 5, 9));
    let tp = TestPlatform::servers_at(urls, clock.clone(), year_settings).await.expect("start");
    a_branch_through_the_year(tp, clock).await;
}

/// A small deterministic generator (xorshift), so the property test needs no crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The books of a five-level tree balance after every random step: members pay, any unit
/// remits what it holds for its current period, parents confirm in any order, months go by.
/// At the province (whose parent is outside its subtree) what was collected is always what
/// its units kept, hold, have in transit between them, and what the province sent up; every
/// remittance sends a third of its pool, rounded down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dues_books_balance_under_random_payments_and_remittances() {
    for seed in [7u64, 1_234_567, 987_654_321] {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let clock = Clock::fixed(vn(2026, 1, 3, 9));
        let tp = TestPlatform::embedded_at(base_settings(), &[], clock.clone()).await.expect("start");
        let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
        let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin");
        let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
        let province = create_unit(&gw, &admin, &root, "Tỉnh đoàn", Provincial).await;
        let district = create_unit(&gw, &admin, &province, "Huyện đoàn", District).await;
        let grassroots = create_unit(&gw, &admin, &district, "Đoàn xã", Grassroots).await;
        let branches = [
            create_unit(&gw, &admin, &grassroots, "Chi đoàn 1", Branch).await,
            create_unit(&gw, &admin, &grassroots, "Chi đoàn 2", Branch).await,
        ];
        // (unit, its remittance cadence: 0 monthly, 1 quarterly, 2 yearly)
        let units = [
            (branches[0].clone(), 0),
            (branches[1].clone(), 0),
            (grassroots.clone(), 1),
            (district.clone(), 1),
            (province.clone(), 2),
        ];
        let m = || gw.membership.clone();
        // Eight members, each with a monthly price and the next month they have not paid.
        let mut members = Vec::new();
        for n in 1..=8u32 {
            let mut r = admission(&branches[(n % 2) as usize], 100 + n);
            r.date_of_birth = "2003-03-03".into();
            r.admitted_on = day(2026, 1, 2);
            let id =
                m().admit_member(authed(&admin, r)).await.expect("admit").into_inner().member.expect("m").member_id;
            let category = 1 + rng.below(3) as i32;
            m().set_dues_category(authed(&admin, mem::SetDuesCategoryRequest { member_id: id.clone(), category }))
                .await
                .expect("category");
            let price = if category == 2 { 5_000 } else { 2_000 };
            members.push((id, price, (2026, 1u32)));
        }
        let mut sent: Vec<mem::Remittance> = Vec::new();
        let mut now = (2026, 1u32);
        for step in 0..60 {
            match rng.below(6) {
                0 | 1 => {
                    let k = rng.below(members.len() as u64) as usize;
                    let (id, price, next) = members[k].clone();
                    let months = 1 + rng.below(3) as i32;
                    let ahead = (next.0 - now.0) * 12 + next.1 as i32 - now.1 as i32 + months;
                    if ahead > 12 {
                        continue;
                    }
                    m().record_dues_payment(authed(
                        &admin,
                        mem::RecordDuesPaymentRequest {
                            member_id: id.clone(),
                            first_month: format!("{:04}-{:02}", next.0, next.1),
                            months,
                            method: mem::PaymentMethod::Cash as i32,
                            amount_vnd: price * i64::from(months),
                            paid_on: day(now.0, now.1, 3),
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap_or_else(|s| panic!("seed {seed} step {step}: pay: {s:?}"));
                    let total = next.0 * 12 + next.1 as i32 - 1 + months;
                    members[k].2 = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
                }
                2 | 3 => {
                    let (unit, cadence) = &units[rng.below(units.len() as u64) as usize];
                    let period = match cadence {
                        0 => format!("{:04}-{:02}", now.0, now.1),
                        1 => format!("{:04}-Q{}", now.0, (now.1 - 1) / 3 + 1),
                        _ => format!("{:04}", now.0),
                    };
                    let result = m()
                        .create_remittance(authed(
                            &admin,
                            mem::CreateRemittanceRequest { unit_id: unit.clone(), period },
                        ))
                        .await;
                    match result {
                        Ok(r) => {
                            let r = r.into_inner().remittance.expect("remittance");
                            assert_eq!(r.pool_vnd, r.collected_vnd + r.received_vnd, "seed {seed} step {step}");
                            assert_eq!((r.amount_vnd, r.kept_vnd), (r.pool_vnd / 3, r.pool_vnd - r.pool_vnd / 3));
                            sent.push(r);
                        }
                        Err(s) if matches!(s.code(), Code::AlreadyExists | Code::FailedPrecondition) => {}
                        Err(s) => panic!("seed {seed} step {step}: remit: {s:?}"),
                    }
                }
                4 if !sent.is_empty() => {
                    let r = sent.swap_remove(rng.below(sent.len() as u64) as usize);
                    m().confirm_remittance(authed(
                        &admin,
                        mem::ConfirmRemittanceRequest { remittance_id: r.remittance_id },
                    ))
                    .await
                    .unwrap_or_else(|s| panic!("seed {seed} step {step}: confirm: {s:?}"));
                }
                _ => {
                    if now.1 == 12 {
                        now = (now.0 + 1, 1);
                    } else {
                        now.1 += 1;
                    }
                    clock.set(vn(now.0, now.1, 3, 9));
                }
            }
            let report = m()
                .get_dues_report(authed(
                    &admin,
                    mem::GetDuesReportRequest {
                        unit_id: province.clone(),
                        from_month: "2026-01".into(),
                        to_month: "2027-12".into(),
                    },
                ))
                .await
                .expect("report")
                .into_inner();
            assert_eq!(
                report.collected_vnd,
                report.kept_vnd + report.at_hand_vnd + report.in_transit_vnd + report.remitted_vnd,
                "seed {seed} step {step}: the books do not balance: {report:?}"
            );
            let mut held = 0;
            for (unit, _) in &units {
                let year = now.0;
                held += m()
                    .list_remittances(authed(&admin, mem::ListRemittancesRequest { unit_id: unit.clone(), year }))
                    .await
                    .expect("list")
                    .into_inner()
                    .at_hand_vnd;
            }
            assert_eq!(held, report.at_hand_vnd, "seed {seed} step {step}: what each unit holds adds up");
        }
        tp.stop().await.expect("stop");
    }
}

/// A member is rated once a year, whatever periods are opened and wherever they move; money
/// collected counts where it was collected after the member moves away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rating_a_year_and_collection_stays_where_it_was_collected() {
    let clock = Clock::fixed(vn(2026, 11, 2, 9));
    let tp = TestPlatform::embedded_at(base_settings(), &[], clock.clone()).await.expect("start");
    let gw = Gateway::connect(tp.platform.gateway_addr).await.expect("connect");
    let admin = gw.login("admin", doan_tests::ADMIN_PASSWORD).await.expect("admin");
    let m = || gw.membership.clone();
    let root = create_unit(&gw, &admin, "", "Trung ương Đoàn", Central).await;
    let p1 = create_unit(&gw, &admin, &root, "Tỉnh đoàn Hà Nam", Provincial).await;
    let g1 = create_unit(&gw, &admin, &p1, "Đoàn trường Đại học", Grassroots).await;
    let a = create_unit(&gw, &admin, &g1, "Chi đoàn K60A", Branch).await;
    let p2 = create_unit(&gw, &admin, &root, "Tỉnh đoàn Nam Định", Provincial).await;
    let b = create_unit(&gw, &admin, &p2, "Chi đoàn cơ sở Xuân Trường", GrassrootsBranch).await;
    let mut r = admission(&a, 1);
    r.date_of_birth = "2004-05-01".into();
    r.admitted_on = day(2026, 10, 30);
    let member = m().admit_member(authed(&admin, r)).await.expect("admit").into_inner().member.expect("m").member_id;
    m().record_dues_payment(authed(
        &admin,
        mem::RecordDuesPaymentRequest {
            member_id: member.clone(),
            first_month: "2026-11".into(),
            months: 12,
            method: mem::PaymentMethod::Cash as i32,
            amount_vnd: 24_000,
            paid_on: day(2026, 11, 2),
            ..Default::default()
        },
    ))
    .await
    .expect("pays a year");

    // Rated GOOD under the province's period (training passed on an officer's note).
    let open = |unit: String| {
        let request = authed(
            &admin,
            mem::OpenEvaluationPeriodRequest {
                unit_id: unit,
                year: 2026,
                sector: mem::EvaluationSector::Calendar as i32,
                proposal_deadline: day(2026, 12, 15),
                confirmation_deadline: day(2026, 12, 31),
            },
        );
        let mut client = m();
        async move { client.open_evaluation_period(request).await.expect("period").into_inner().period.expect("p") }
    };
    let province_period = open(p1.clone()).await;
    let programme = m()
        .create_training_programme(authed(
            &admin,
            mem::CreateTrainingProgrammeRequest {
                unit_id: p1.clone(),
                year: 2026,
                title: "Rèn luyện 2026".into(),
                criteria: vec![mem::TrainingCriterion {
                    title: "Cam kết".into(),
                    kind: mem::CriterionKind::Commitment as i32,
                    required: true,
                    ..Default::default()
                }],
            },
        ))
        .await
        .expect("programme")
        .into_inner()
        .programme
        .expect("programme");
    m().register_training(authed(
        &admin,
        mem::RegisterTrainingRequest { year: 2026, member_ids: vec![member.clone()] },
    ))
    .await
    .expect("register");
    m().evaluate_training(authed(
        &admin,
        mem::EvaluateTrainingRequest {
            member_id: member.clone(),
            year: 2026,
            verdicts: vec![mem::CriterionVerdict {
                criterion_id: programme.criteria[0].criterion_id.clone(),
                met: true,
                officer_note: "Đạt".into(),
            }],
            comment: String::new(),
        },
    ))
    .await
    .expect("training");
    let rate = |period: String, unit: String| {
        let request = authed(
            &admin,
            mem::ProposeRatingsRequest {
                period_id: period,
                unit_id: unit,
                ratings: vec![mem::ProposedRating {
                    member_id: member.clone(),
                    rating: mem::MemberRating::Good as i32,
                    note: String::new(),
                }],
            },
        );
        let mut client = m();
        async move { client.propose_ratings(request).await }
    };
    rate(province_period.period_id.clone(), a.clone()).await.expect("proposed");
    m().confirm_ratings(authed(
        &admin,
        mem::ConfirmRatingsRequest {
            period_id: province_period.period_id.clone(),
            unit_id: a.clone(),
            changes: vec![],
        },
    ))
    .await
    .expect("confirmed");
    // The university then opens its own period: the member is not rated twice for 2026.
    let own_period = open(g1.clone()).await;
    let again = rate(own_period.period_id.clone(), a.clone()).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(again.message().contains("already has a confirmed rating for 2026"), "{again:?}");

    // The member moves to the other province.
    let transfer = m()
        .request_transfer(authed(
            &admin,
            mem::RequestTransferRequest {
                member_ids: vec![member.clone()],
                to_unit_id: b.clone(),
                reason: "Chuyển nơi cư trú".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("transfer")
        .into_inner()
        .transfer
        .expect("transfer")
        .transfer_id;
    m().release_transfer(authed(
        &admin,
        mem::ReleaseTransferRequest {
            transfer_id: transfer.clone(),
            dues_paid_until: "2026-11".into(),
            comment: "Đã đóng đoàn phí".into(),
            ..Default::default()
        },
    ))
    .await
    .expect("release");
    m().accept_transfer(authed(
        &admin,
        mem::AcceptTransferRequest { transfer_id: transfer, branch_id: b.clone(), ..Default::default() },
    ))
    .await
    .expect("accept");
    let report = |unit: String| {
        let request = authed(
            &admin,
            mem::GetDuesReportRequest { unit_id: unit, from_month: "2026-01".into(), to_month: "2027-12".into() },
        );
        let mut client = m();
        async move { client.get_dues_report(request).await.expect("report").into_inner() }
    };
    let (first, second) = (report(p1.clone()).await, report(p2.clone()).await);
    assert_eq!((first.collected_vnd, first.at_hand_vnd, first.active_members), (24_000, 24_000, 0));
    assert_eq!((second.collected_vnd, second.at_hand_vnd, second.active_members), (0, 0, 1));
    // Rated in 2026 already: the new unit's period does not rate the member again either.
    let b_period = open(p2.clone()).await;
    let moved = rate(b_period.period_id, b.clone()).await.unwrap_err();
    assert_eq!(moved.code(), Code::FailedPrecondition, "{moved:?}");
    tp.stop().await.expect("stop");
}
