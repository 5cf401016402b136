//! Dues (đoàn phí): categories, payments by the treasurer or the member, exemptions, each
//! member's ledger, remittances up the tree and the subtree's report.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::clock::{vietnam_date, vietnam_day_start};
use doan_platform::convert::{format_date, new_id, parse_date, timestamp};
use doan_platform::db::unique_or;
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_platform::units::UnitLevel;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::domain::dues::{
    Category, Cover, DuesSpan, MAX_PAYMENT_MONTHS, Month, MonthState, Period, cadence, check_range, price_day, split,
};
use crate::domain::evaluation::check_year;
use crate::domain::member::MemberStatus;
use crate::storage::dues;
use crate::storage::entities::{dues_exemption, dues_payment, member, remittance};

/// Payment methods (numbers match `doan.membership.v1.PaymentMethod`).
const CASH: i32 = 1;
const BANK_TRANSFER: i32 = 2;
/// Payment states.
const PENDING: i32 = 1;
const CONFIRMED: i32 = 2;
const REJECTED: i32 = 3;
/// Remittance states.
const SENT: i32 = 1;

/// The longest a payment may be recorded after it was made, days.
const PAID_WITHIN_DAYS: u64 = 400;

/// A bank reference or receipt number: 1 to 64 of letters, digits, `-`, `_`, `/`, `.`.
fn parse_reference(value: &str, required: bool) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return if required {
            Err(AppError::invalid("reference", "is required for a bank transfer (the bank's transaction reference)"))
        } else {
            Ok(String::new())
        };
    }
    if v.chars().count() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c)) {
        return Err(AppError::invalid("reference", "must be 1 to 64 letters, digits, '-', '_', '/' or '.'"));
    }
    Ok(v.to_string())
}

/// The months of a member's dues as seen today.
pub(super) fn span_of(m: &member::Model, today: NaiveDate) -> DuesSpan {
    let left = (MemberStatus::from_stored(m.status) != MemberStatus::Active).then_some(m.status_changed_on).flatten();
    DuesSpan::of(m.admitted_on, vietnam_date(m.created_at), left, today)
}

fn payment_to_pb(p: dues_payment::Model) -> pb::DuesPayment {
    pb::DuesPayment {
        payment_id: p.payment_id,
        member_id: p.member_id,
        unit_id: p.unit_id,
        first_month: p.first_month,
        months: p.months,
        amount_vnd: p.amount_vnd,
        method: p.method,
        reference: p.reference,
        state: p.state,
        paid_on: format_date(p.paid_on),
        recorded_by: p.recorded_by,
        recorded_at: Some(timestamp(p.recorded_at)),
        decided_by: p.decided_by,
        reject_reason: p.reject_reason,
        remittance_id: p.remittance_id.unwrap_or_default(),
        rule_id: p.rule_id,
        category: p.category,
    }
}

fn exemption_to_pb(e: dues_exemption::Model) -> pb::DuesExemption {
    pb::DuesExemption {
        exemption_id: e.exemption_id,
        member_id: e.member_id,
        first_month: e.first_month,
        months: e.months,
        reason: e.reason,
        granted_by: e.granted_by,
        granted_at: Some(timestamp(e.granted_at)),
    }
}

fn remittance_to_pb(r: remittance::Model) -> pb::Remittance {
    pb::Remittance {
        remittance_id: r.remittance_id,
        from_unit_id: r.from_unit_id,
        to_unit_id: r.to_unit_id,
        period: r.period,
        collected_vnd: r.collected_vnd,
        received_vnd: r.received_vnd,
        pool_vnd: r.pool_vnd,
        kept_vnd: r.kept_vnd,
        amount_vnd: r.amount_vnd,
        state: r.state,
        due_on: format_date(r.due_on),
        created_by: r.created_by,
        created_at: Some(timestamp(r.created_at)),
        confirmed_by: r.confirmed_by,
        confirmed_at: r.confirmed_at.map(timestamp),
        rule_id: r.rule_id,
    }
}

/// `first` and the months after it, `count` in all, as a range check error names them.
fn months_covered(covers: &BTreeMap<Month, Cover>) -> Option<String> {
    let (month, cover) = covers.iter().next()?;
    let what = match cover {
        Cover::Paid(..) => "paid",
        Cover::Pending(_) => "covered by a pending payment",
        Cover::Exempt => "exempt",
    };
    Some(format!("month {month} is already {what}"))
}

impl MembershipApi {
    /// The member named in `field`: the caller themself, or a member the officer manages.
    pub(super) async fn own_or_managed_member(
        &self,
        caller: &Caller,
        field: &'static str,
        member_id: &str,
    ) -> AppResult<member::Model> {
        let m = self.member(field, member_id).await?;
        if !caller.is_member(&m.member_id) {
            caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        }
        Ok(m)
    }

    /// The member named in `field`, whom the caller (an officer) manages.
    pub(super) async fn managed_member(
        &self,
        caller: &Caller,
        field: &'static str,
        member_id: &str,
    ) -> AppResult<member::Model> {
        let m = self.member(field, member_id).await?;
        caller.require_manages(&m.unit_path, &format!("member {}", m.member_id))?;
        Ok(m)
    }

    /// The monthly dues of `category` in `month`, and the rule's id.
    pub(super) fn monthly_dues(&self, month: Month, category: Category) -> AppResult<(i64, String)> {
        let v = self.rules.dues.at("first_month", price_day(month))?;
        Ok((category.monthly(&v.rule), v.id.clone()))
    }

    pub(super) async fn set_dues_category(
        &self,
        caller: &Caller,
        r: pb::SetDuesCategoryRequest,
    ) -> AppResult<pb::SetDuesCategoryResponse> {
        let m = self.managed_member(caller, "member_id", &r.member_id).await?;
        let category = Category::parse("category", r.category)?;
        if MemberStatus::from_stored(m.status) != MemberStatus::Active {
            return Err(AppError::FailedPrecondition(format!("member {} is not active", m.member_id)));
        }
        dues::set_category(&self.ctx.db, &m.member_id, category as i32).await?;
        Ok(pb::SetDuesCategoryResponse { category: category as i32 })
    }

    pub(super) async fn record_dues_payment(
        &self,
        caller: &Caller,
        r: pb::RecordDuesPaymentRequest,
    ) -> AppResult<pb::RecordDuesPaymentResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        let method = match r.method {
            CASH | BANK_TRANSFER => r.method,
            _ => return Err(AppError::invalid("method", "must be CASH or BANK_TRANSFER")),
        };
        if method == CASH && !caller.manages(&m.unit_path) {
            return Err(AppError::PermissionDenied(
                "cash is recorded by the branch's treasurer; members declare a BANK_TRANSFER".into(),
            ));
        }
        let reference = parse_reference(&r.reference, method == BANK_TRANSFER)?;
        let first = Month::parse("first_month", &r.first_month)?;
        let paid_on = parse_date("paid_on", &r.paid_on)?;
        let today = self.ctx.clock.today();
        if paid_on > today || paid_on + Days::new(PAID_WITHIN_DAYS) < today {
            return Err(AppError::invalid("paid_on", "must be within the last 400 days, not in the future"));
        }
        if MemberStatus::from_stored(m.status) != MemberStatus::Active {
            return Err(AppError::FailedPrecondition(format!("member {} is not active", m.member_id)));
        }
        let span = span_of(&m, today);
        check_range(first, r.months, MAX_PAYMENT_MONTHS, span.start, span.current)?;
        let category = Category::from_stored(m.dues_category);
        let mut priced = Vec::new();
        let mut rule_id = String::new();
        for month in first.range(r.months) {
            let (amount, id) = self.monthly_dues(month, category)?;
            if rule_id.is_empty() {
                rule_id = id;
            }
            priced.push((month, amount));
        }
        let amount: i64 = priced.iter().map(|(_, a)| a).sum();
        if r.amount_vnd != amount {
            return Err(AppError::invalid(
                "amount_vnd",
                format!("must be {amount} VND: {} months of {category:?} dues from {first}", r.months),
            ));
        }
        let covered = dues::covers(&self.ctx.db, &m.member_id, first, first.plus(r.months - 1)).await?;
        if let Some(why) = months_covered(&covered) {
            return Err(AppError::FailedPrecondition(why));
        }
        let payment = dues_payment::Model {
            payment_id: new_id(),
            member_id: m.member_id.clone(),
            unit_id: m.unit_id.clone(),
            first_month: first.to_string(),
            months: r.months,
            amount_vnd: amount,
            method,
            reference,
            state: if method == CASH { CONFIRMED } else { PENDING },
            paid_on,
            recorded_by: caller.account_id.clone(),
            recorded_at: self.ctx.clock.now(),
            decided_by: if method == CASH { caller.account_id.clone() } else { String::new() },
            reject_reason: String::new(),
            remittance_id: None,
            rule_id,
            category: category as i32,
        };
        let txn = self.ctx.db.begin().await?;
        let stored = unique_or(dues::record_payment(&txn, dues::NewPayment { payment, months: priced }).await, || {
            AppError::FailedPrecondition("a month of the range was paid meanwhile".into())
        })?;
        if stored.state == CONFIRMED {
            self.ctx.outbox.enqueue(&txn, &crate::events::publish::dues_paid(&stored)).await?;
        }
        txn.commit().await?;
        self.ctx.outbox.wake();
        Ok(pb::RecordDuesPaymentResponse { payment: Some(payment_to_pb(stored)) })
    }

    pub(super) async fn confirm_dues_payment(
        &self,
        caller: &Caller,
        r: pb::ConfirmDuesPaymentRequest,
    ) -> AppResult<pb::ConfirmDuesPaymentResponse> {
        let id = doan_platform::convert::parse_id("payment_id", &r.payment_id)?;
        let p = dues::find_payment(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("payment {id} (payment_id) does not exist")))?;
        self.managed_member(caller, "payment_id", &p.member_id).await?;
        let reason = if r.reject { TextRule::line(500).parse("reason", &r.reason)? } else { String::new() };
        if p.state != PENDING {
            return Err(AppError::FailedPrecondition(format!("payment {id} is not pending")));
        }
        let txn = self.ctx.db.begin().await?;
        if !dues::decide_payment(&txn, &id, !r.reject, &caller.account_id, &reason).await? {
            return Err(AppError::FailedPrecondition(format!("payment {id} was decided meanwhile")));
        }
        if !r.reject {
            let confirmed = dues_payment::Model { state: CONFIRMED, ..p };
            self.ctx.outbox.enqueue(&txn, &crate::events::publish::dues_paid(&confirmed)).await?;
        }
        txn.commit().await?;
        self.ctx.outbox.wake();
        let p = dues::find_payment(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        debug_assert!(p.state == CONFIRMED || p.state == REJECTED);
        Ok(pb::ConfirmDuesPaymentResponse { payment: Some(payment_to_pb(p)) })
    }

    pub(super) async fn grant_dues_exemption(
        &self,
        caller: &Caller,
        r: pb::GrantDuesExemptionRequest,
    ) -> AppResult<pb::GrantDuesExemptionResponse> {
        let m = self.managed_member(caller, "member_id", &r.member_id).await?;
        let first = Month::parse("first_month", &r.first_month)?;
        let reason = TextRule::line(500).parse("reason", &r.reason)?;
        let rule = self.rules.dues.at("first_month", price_day(first))?;
        if MemberStatus::from_stored(m.status) != MemberStatus::Active {
            return Err(AppError::FailedPrecondition(format!("member {} is not active", m.member_id)));
        }
        let span = span_of(&m, self.ctx.clock.today());
        check_range(first, r.months, i32::from(rule.rule.max_exemption_months), span.start, span.current)?;
        let months: Vec<Month> = first.range(r.months).collect();
        let covered = dues::covers(&self.ctx.db, &m.member_id, first, first.plus(r.months - 1)).await?;
        if let Some(why) = months_covered(&covered) {
            return Err(AppError::FailedPrecondition(why));
        }
        // At most the rule's months exempt in any calendar year.
        let max = i32::from(rule.rule.max_exemption_months);
        for year in [first.year(), first.plus(r.months - 1).year()] {
            let january = Month::parse("first_month", &format!("{year:04}-01"))?;
            let already = dues::covers(&self.ctx.db, &m.member_id, january, january.plus(11))
                .await?
                .values()
                .filter(|c| matches!(c, Cover::Exempt))
                .count() as i32;
            let adding = months.iter().filter(|x| x.year() == year).count() as i32;
            if already + adding > max {
                return Err(AppError::FailedPrecondition(format!(
                    "member {} would be exempt {} months in {year}; the rule allows {max}",
                    m.member_id,
                    already + adding
                )));
            }
        }
        let exemption = dues_exemption::Model {
            exemption_id: new_id(),
            member_id: m.member_id.clone(),
            first_month: first.to_string(),
            months: r.months,
            reason,
            granted_by: caller.account_id.clone(),
            granted_at: self.ctx.clock.now(),
        };
        let txn = self.ctx.db.begin().await?;
        let stored = unique_or(dues::grant_exemption(&txn, exemption, &m.unit_id, &months).await, || {
            AppError::FailedPrecondition("a month of the range was covered meanwhile".into())
        })?;
        txn.commit().await?;
        Ok(pb::GrantDuesExemptionResponse { exemption: Some(exemption_to_pb(stored)) })
    }

    /// Months of `m` owed from `from` to `to`, and what they cost at today's category.
    pub(super) async fn arrears(&self, m: &member::Model, from: Month, to: Month) -> AppResult<(Vec<Month>, i64)> {
        let span = span_of(m, self.ctx.clock.today());
        let covers = dues::covers(&self.ctx.db, &m.member_id, from.max(span.start), to).await?;
        let owed = span.owed(from, to, &covers);
        let category = Category::from_stored(m.dues_category);
        let mut vnd = 0;
        for month in &owed {
            vnd += self.monthly_dues(*month, category)?.0;
        }
        Ok((owed, vnd))
    }

    pub(super) async fn get_dues_ledger(
        &self,
        caller: &Caller,
        r: pb::GetDuesLedgerRequest,
    ) -> AppResult<pb::GetDuesLedgerResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        check_year("year", r.year)?;
        let today = self.ctx.clock.today();
        let span = span_of(&m, today);
        let january = Month::parse("year", &format!("{:04}-01", r.year))?;
        let december = january.plus(11);
        let covers = dues::covers(&self.ctx.db, &m.member_id, january, december).await?;
        let category = Category::from_stored(m.dues_category);
        let mut months = Vec::with_capacity(12);
        let mut paid_vnd = 0;
        for month in january.range(12) {
            let cover = covers.get(&month);
            let state = span.state(month, cover);
            let amount = match (state, cover) {
                (MonthState::Paid, Some(Cover::Paid(_, a))) => {
                    paid_vnd += a;
                    *a
                }
                (MonthState::NotDue | MonthState::Exempt, _) => 0,
                _ => self.monthly_dues(month, category).map(|(a, _)| a).unwrap_or(0),
            };
            let payment_id = match cover {
                Some(Cover::Paid(id, _) | Cover::Pending(id)) => id.clone(),
                _ => String::new(),
            };
            months.push(pb::DuesMonth {
                month: month.to_string(),
                state: state as i32,
                amount_vnd: amount,
                payment_id,
            });
        }
        let (owed, arrears_vnd) = self.arrears(&m, span.start, span.current).await?;
        let overlaps = |first: &str, count: i32| {
            Month::parse("first_month", first).map(|f| f <= december && f.plus(count - 1) >= january).unwrap_or(false)
        };
        let payments = dues::payments_of(&self.ctx.db, &m.member_id)
            .await?
            .into_iter()
            .filter(|p| overlaps(&p.first_month, p.months))
            .map(payment_to_pb)
            .collect();
        let exemptions = dues::exemptions_of(&self.ctx.db, &m.member_id)
            .await?
            .into_iter()
            .filter(|e| overlaps(&e.first_month, e.months))
            .map(exemption_to_pb)
            .collect();
        Ok(pb::GetDuesLedgerResponse {
            months,
            category: category as i32,
            paid_vnd,
            arrears_months: owed.len() as i32,
            arrears_vnd,
            payments,
            exemptions,
            dues_start: span.start.to_string(),
        })
    }

    pub(super) async fn create_remittance(
        &self,
        caller: &Caller,
        r: pb::CreateRemittanceRequest,
    ) -> AppResult<pb::CreateRemittanceResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let today = self.ctx.clock.today();
        let version = self.rules.dues.at("period", today)?;
        let level = UnitLevel::parse("unit_id", unit.level)?;
        let (Some(parent), Some(cadence)) = (unit.parent_id.clone(), cadence(level, &version.rule)) else {
            return Err(AppError::FailedPrecondition("the root unit keeps everything it receives".into()));
        };
        let period = Period::parse("period", &r.period, cadence)?;
        if period.first_day() > today {
            return Err(AppError::FailedPrecondition(format!("period {period} has not started")));
        }
        let label = period.to_string();
        if dues::remittance_for(&self.ctx.db, &unit.unit_id, &label).await?.is_some() {
            return Err(AppError::AlreadyExists(format!("unit {} already remitted for {label}", unit.unit_id)));
        }
        let id = new_id();
        let txn = self.ctx.db.begin().await?;
        let (collected, received) = dues::claim_at_hand(&txn, &unit.unit_id, &id).await?;
        let pool = collected + received;
        if pool == 0 {
            return Err(AppError::FailedPrecondition(format!("unit {} has nothing at hand to remit", unit.unit_id)));
        }
        let shares = split(pool, &version.rule);
        let row = remittance::Model {
            remittance_id: id,
            from_unit_id: unit.unit_id.clone(),
            to_unit_id: parent,
            period: label.clone(),
            collected_vnd: collected,
            received_vnd: received,
            pool_vnd: pool,
            kept_vnd: shares.kept,
            amount_vnd: shares.remitted,
            state: SENT,
            due_on: period.due_on(&version.rule),
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
            confirmed_by: String::new(),
            confirmed_at: None,
            rule_id: version.id.clone(),
            forwarded_in: None,
        };
        let stored = unique_or(dues::insert_remittance(&txn, row).await, || {
            AppError::AlreadyExists(format!("unit {} already remitted for {label}", unit.unit_id))
        })?;
        txn.commit().await?;
        Ok(pb::CreateRemittanceResponse { remittance: Some(remittance_to_pb(stored)) })
    }

    pub(super) async fn confirm_remittance(
        &self,
        caller: &Caller,
        r: pb::ConfirmRemittanceRequest,
    ) -> AppResult<pb::ConfirmRemittanceResponse> {
        let id = doan_platform::convert::parse_id("remittance_id", &r.remittance_id)?;
        let rem = dues::find_remittance(&self.ctx.db, &id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("remittance {id} (remittance_id) does not exist")))?;
        self.managed_unit(caller, "remittance_id", &rem.to_unit_id).await?;
        if rem.state != SENT {
            return Err(AppError::FailedPrecondition(format!("remittance {id} is already confirmed")));
        }
        let txn = self.ctx.db.begin().await?;
        if !dues::confirm_remittance(&txn, &id, &caller.account_id, self.ctx.clock.now()).await? {
            return Err(AppError::FailedPrecondition(format!("remittance {id} was confirmed meanwhile")));
        }
        txn.commit().await?;
        let rem = dues::find_remittance(&self.ctx.db, &id).await?.ok_or_else(|| AppError::NotFound(id.clone()))?;
        Ok(pb::ConfirmRemittanceResponse { remittance: Some(remittance_to_pb(rem)) })
    }

    pub(super) async fn list_remittances(
        &self,
        caller: &Caller,
        r: pb::ListRemittancesRequest,
    ) -> AppResult<pb::ListRemittancesResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        check_year("year", r.year)?;
        let outgoing = dues::remittances_of(&self.ctx.db, &unit.unit_id, r.year, true).await?;
        let incoming = dues::remittances_of(&self.ctx.db, &unit.unit_id, r.year, false).await?;
        let (collected, received) = dues::at_hand(&self.ctx.db, &unit.unit_id).await?;
        Ok(pb::ListRemittancesResponse {
            outgoing: outgoing.into_iter().map(remittance_to_pb).collect(),
            incoming: incoming.into_iter().map(remittance_to_pb).collect(),
            at_hand_vnd: collected + received,
        })
    }

    pub(super) async fn get_dues_report(
        &self,
        caller: &Caller,
        r: pb::GetDuesReportRequest,
    ) -> AppResult<pb::GetDuesReportResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let from = Month::parse("from_month", &r.from_month)?;
        let to = Month::parse("to_month", &r.to_month)?;
        if to < from || from.until(to) >= 24 {
            return Err(AppError::invalid("to_month", "must be from from_month to 23 months after it"));
        }
        let mut report = pb::GetDuesReportResponse::default();
        // Collection counts where the money was collected, whoever the member is now.
        for row in dues::months_at_units_of(&self.ctx.db, &unit.path, from, to).await? {
            match row.state {
                s if s == MonthState::Paid as i32 => {
                    report.collected_vnd += row.amount_vnd;
                    report.paid_member_months += 1;
                }
                s if s == MonthState::Pending as i32 => report.pending_vnd += row.amount_vnd,
                _ => report.exempt_member_months += 1,
            }
        }
        // Arrears: the subtree's members now, by their own months.
        let mut covered: BTreeMap<String, BTreeMap<Month, Cover>> = BTreeMap::new();
        for row in dues::covers_in_subtree(&self.ctx.db, &unit.path, from, to).await? {
            if let Ok(month) = Month::parse("month", &row.month) {
                covered.entry(row.member_id.clone()).or_default().insert(month, dues::cover_of(&row));
            }
        }
        // Arrears: every active member of the subtree, page by page.
        let today = self.ctx.clock.today();
        let mut after = 0;
        loop {
            let page = crate::storage::members::page_in_subtree(&self.ctx.db, &unit.path, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for m in page.iter().filter(|m| MemberStatus::from_stored(m.status) == MemberStatus::Active) {
                report.active_members += 1;
                let span = span_of(m, today);
                let empty = BTreeMap::new();
                let owed = span.owed(from, to, covered.get(&m.member_id).unwrap_or(&empty));
                report.arrears_member_months += owed.len() as i64;
                let category = Category::from_stored(m.dues_category);
                for month in owed {
                    report.arrears_vnd += self.monthly_dues(month, category)?.0;
                }
            }
        }
        let start = vietnam_day_start(from.first_day());
        let end = vietnam_day_start(to.last_day() + Days::new(1)) - chrono::Duration::nanoseconds(1);
        let flows = dues::flows(&self.ctx.db, &unit.unit_id, &unit.path, start, end).await?;
        report.remitted_vnd = flows.remitted;
        report.received_vnd = flows.received;
        report.kept_vnd = flows.kept;
        report.at_hand_vnd = flows.at_hand;
        report.in_transit_vnd = flows.in_transit;
        Ok(report)
    }
}
