//! The training programme (rèn luyện đoàn viên): a year's criteria set by a unit, members
//! registered (in the app or by their branch), evidence linked as the year goes, the member's
//! self-assessment and the branch's verdict.

use std::collections::{BTreeMap, BTreeSet};

use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::clock::vietnam_date;
use doan_platform::convert::{new_id, parse_id, timestamp};
use doan_platform::error::AppResult;
use doan_platform::text::TextRule;
use doan_proto::membership as pb;
use sea_orm::TransactionTrait;

use super::MembershipApi;
use crate::domain::evaluation::check_year;
use crate::domain::member::MemberStatus;
use crate::domain::training::{
    Backing, CriterionKind, EvidenceKind, MAX_CRITERIA, TrainingResult, TrainingState, check_evidence, check_target,
    may_be_met, passed,
};
use crate::storage::entities::{
    member, training_criterion, training_evidence, training_programme, training_registration, training_verdict,
};
use crate::storage::{evidence, training};

/// The most members registered in one call.
const MAX_REGISTER: usize = 2000;

/// The item of `items` belonging to the unit nearest to the end of `path` (the unit itself,
/// then its parent, …).
pub(super) fn nearest<T>(path: &str, items: Vec<T>, unit_of: impl Fn(&T) -> &str) -> Option<T> {
    let ids: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut best: Option<(usize, T)> = None;
    for item in items {
        let Some(depth) = ids.iter().position(|id| *id == unit_of(&item)) else { continue };
        if best.as_ref().is_none_or(|(d, _)| depth > *d) {
            best = Some((depth, item));
        }
    }
    best.map(|(_, item)| item)
}

/// The unit ids on `path`, root first.
pub(super) fn path_ids(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn criterion_to_pb(c: training_criterion::Model) -> pb::TrainingCriterion {
    pb::TrainingCriterion {
        criterion_id: c.criterion_id,
        title: c.title,
        description: c.description,
        kind: c.kind,
        target: c.target,
        required: c.required,
    }
}

fn programme_to_pb(p: training_programme::Model, criteria: Vec<training_criterion::Model>) -> pb::TrainingProgramme {
    pb::TrainingProgramme {
        programme_id: p.programme_id,
        unit_id: p.unit_id,
        year: p.year,
        title: p.title,
        criteria: criteria.into_iter().map(criterion_to_pb).collect(),
        created_by: p.created_by,
        created_at: Some(timestamp(p.created_at)),
    }
}

fn evidence_to_pb(e: training_evidence::Model) -> pb::TrainingEvidence {
    pb::TrainingEvidence {
        evidence_id: e.evidence_id,
        criterion_id: e.criterion_id,
        kind: e.kind,
        participation_id: e.participation_id,
        activity_title: e.activity_title,
        reference: e.reference,
        description: e.description,
        added_by: e.added_by,
        added_at: Some(timestamp(e.added_at)),
    }
}

impl MembershipApi {
    /// The programme of `year` applying to the unit at `path`: its own or its nearest
    /// ancestor's.
    pub(super) async fn programme_for(&self, path: &str, year: i32) -> AppResult<Option<training_programme::Model>> {
        let found = training::programmes_of_units(&self.ctx.db, &path_ids(path), year).await?;
        Ok(nearest(path, found, |p| &p.unit_id))
    }

    pub(super) async fn create_training_programme(
        &self,
        caller: &Caller,
        r: pb::CreateTrainingProgrammeRequest,
    ) -> AppResult<pb::CreateTrainingProgrammeResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        check_year("year", r.year)?;
        let title = TextRule::line(200).parse("title", &r.title)?;
        if r.criteria.is_empty() || r.criteria.len() > MAX_CRITERIA {
            return Err(AppError::invalid("criteria", format!("must hold 1 to {MAX_CRITERIA} criteria")));
        }
        let programme_id = new_id();
        let mut criteria = Vec::with_capacity(r.criteria.len());
        for (i, c) in r.criteria.iter().enumerate() {
            let kind = CriterionKind::parse("criteria.kind", c.kind)?;
            check_target("criteria.target", kind, c.target)?;
            criteria.push(training_criterion::Model {
                criterion_id: new_id(),
                programme_id: programme_id.clone(),
                position: i as i32,
                title: TextRule::line(200).parse("criteria.title", &c.title)?,
                description: TextRule::paragraphs(1000).parse("criteria.description", &c.description)?,
                kind: kind as i32,
                target: c.target,
                required: c.required,
            });
        }
        let programme = training_programme::Model {
            programme_id,
            unit_id: unit.unit_id.clone(),
            year: r.year,
            title,
            created_by: caller.account_id.clone(),
            created_at: self.ctx.clock.now(),
        };
        let txn = self.ctx.db.begin().await?;
        let stored =
            doan_platform::db::unique_or(training::insert_programme(&txn, programme, criteria.clone()).await, || {
                AppError::AlreadyExists(format!("unit {} already set its programme for {}", unit.unit_id, r.year))
            })?;
        txn.commit().await?;
        Ok(pb::CreateTrainingProgrammeResponse { programme: Some(programme_to_pb(stored, criteria)) })
    }

    pub(super) async fn get_training_programme(
        &self,
        caller: &Caller,
        r: pb::GetTrainingProgrammeRequest,
    ) -> AppResult<pb::GetTrainingProgrammeResponse> {
        let unit = self.readable_unit(caller, "unit_id", &r.unit_id).await?;
        check_year("year", r.year)?;
        let Some(p) = self.programme_for(&unit.path, r.year).await? else {
            return Err(AppError::NotFound(format!(
                "no training programme applies to unit {} for {}",
                unit.unit_id, r.year
            )));
        };
        let criteria = training::criteria(&self.ctx.db, &p.programme_id).await?;
        Ok(pb::GetTrainingProgrammeResponse { programme: Some(programme_to_pb(p, criteria)) })
    }

    pub(super) async fn register_training(
        &self,
        caller: &Caller,
        r: pb::RegisterTrainingRequest,
    ) -> AppResult<pb::RegisterTrainingResponse> {
        if r.member_ids.is_empty() || r.member_ids.len() > MAX_REGISTER {
            return Err(AppError::invalid("member_ids", format!("must name 1 to {MAX_REGISTER} members")));
        }
        let mut ids = BTreeSet::new();
        for id in &r.member_ids {
            if !ids.insert(parse_id("member_ids", id)?) {
                return Err(AppError::invalid("member_ids", "names a member twice"));
            }
        }
        let ids: Vec<String> = ids.into_iter().collect();
        let found = crate::storage::members::find_many(&self.ctx.db, &ids).await?;
        for id in &ids {
            let Some(m) = found.iter().find(|m| &m.member_id == id) else {
                return Err(AppError::NotFound(format!("member {id} (member_ids) does not exist")));
            };
            if !caller.is_member(id) {
                caller.require_manages(&m.unit_path, &format!("member {id}"))?;
            }
        }
        check_year("year", r.year)?;
        let mut programmes: BTreeMap<String, String> = BTreeMap::new();
        let mut rows = Vec::with_capacity(found.len());
        let now = self.ctx.clock.now();
        for m in &found {
            if MemberStatus::from_stored(m.status) != MemberStatus::Active {
                return Err(AppError::FailedPrecondition(format!("member {} is not active", m.member_id)));
            }
            if !programmes.contains_key(&m.unit_id) {
                let Some(p) = self.programme_for(&m.unit_path, r.year).await? else {
                    return Err(AppError::FailedPrecondition(format!(
                        "no training programme applies to member {}'s unit for {}",
                        m.member_id, r.year
                    )));
                };
                programmes.insert(m.unit_id.clone(), p.programme_id);
            }
            rows.push(training_registration::Model {
                member_id: m.member_id.clone(),
                year: r.year,
                programme_id: programmes[&m.unit_id].clone(),
                state: TrainingState::Registered as i32,
                self_assessment: String::new(),
                result: TrainingResult::None as i32,
                comment: String::new(),
                registered_by: caller.account_id.clone(),
                registered_at: now,
                evaluated_by: String::new(),
                evaluated_at: None,
            });
        }
        let total = rows.len() as i32;
        let txn = self.ctx.db.begin().await?;
        let added = training::register(&txn, rows).await? as i32;
        txn.commit().await?;
        Ok(pb::RegisterTrainingResponse { registered: added, already_registered: total - added })
    }

    /// The registration of `m` for `year`, or NOT_FOUND.
    async fn registration(&self, m: &member::Model, year: i32) -> AppResult<training_registration::Model> {
        check_year("year", year)?;
        training::registration(&self.ctx.db, &m.member_id, year)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("member {} is not registered for {year}", m.member_id)))
    }

    /// The member's training year as the API shows it.
    pub(super) async fn training_record(&self, reg: training_registration::Model) -> AppResult<pb::TrainingRecord> {
        let db = &self.ctx.db;
        let programme = training::programme(db, &reg.programme_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("programme {} is gone", reg.programme_id)))?;
        let criteria = training::criteria(db, &programme.programme_id).await?;
        let mut evidence = training::evidence(db, &reg.member_id, reg.year).await?;
        let verdicts = training::verdicts(db, &reg.member_id, reg.year).await?;
        let statuses = criteria
            .iter()
            .map(|c| {
                let verdict = verdicts.iter().find(|v| v.criterion_id == c.criterion_id);
                let linked: Vec<_> =
                    evidence.extract_if(.., |e| e.criterion_id == c.criterion_id).map(evidence_to_pb).collect();
                pb::CriterionStatus {
                    criterion: Some(criterion_to_pb(c.clone())),
                    evidence: linked,
                    met: verdict.is_some_and(|v| v.met),
                    officer_note: verdict.map(|v| v.officer_note.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Ok(pb::TrainingRecord {
            member_id: reg.member_id,
            year: reg.year,
            programme: Some(programme_to_pb(programme, criteria)),
            state: reg.state,
            criteria: statuses,
            self_assessment: reg.self_assessment,
            result: reg.result,
            comment: reg.comment,
            registered_by: reg.registered_by,
            evaluated_by: reg.evaluated_by,
            evaluated_at: reg.evaluated_at.map(timestamp),
        })
    }

    pub(super) async fn add_training_evidence(
        &self,
        caller: &Caller,
        r: pb::AddTrainingEvidenceRequest,
    ) -> AppResult<pb::AddTrainingEvidenceResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        let criterion_id = parse_id("criterion_id", &r.criterion_id)?;
        let kind = EvidenceKind::parse("kind", r.kind)?;
        let reg = self.registration(&m, r.year).await?;
        if reg.state == TrainingState::Evaluated as i32 {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s {} is already evaluated",
                m.member_id, r.year
            )));
        }
        let criteria = training::criteria(&self.ctx.db, &reg.programme_id).await?;
        let criterion = criteria
            .iter()
            .find(|c| c.criterion_id == criterion_id)
            .ok_or_else(|| AppError::invalid("criterion_id", "is not a criterion of the member's programme"))?;
        check_evidence(kind, CriterionKind::from_stored(criterion.kind))?;
        let linked = training::evidence(&self.ctx.db, &m.member_id, r.year).await?;
        let mut row = training_evidence::Model {
            evidence_id: new_id(),
            member_id: m.member_id.clone(),
            year: r.year,
            criterion_id,
            kind: kind as i32,
            participation_id: String::new(),
            activity_title: String::new(),
            reference: String::new(),
            description: TextRule::optional_line(500).parse("description", &r.description)?,
            added_by: caller.account_id.clone(),
            added_at: self.ctx.clock.now(),
        };
        match kind {
            EvidenceKind::Participation => {
                let pid = parse_id("participation_id", &r.participation_id)?;
                let p = evidence::participation(&self.ctx.db, &pid).await?.ok_or_else(|| {
                    AppError::NotFound(format!("participation {pid} (participation_id) is not known to membership yet"))
                })?;
                if p.member_id != m.member_id {
                    return Err(AppError::invalid("participation_id", "is another member's participation"));
                }
                let (first, last) = self.year_window(&m, r.year).await?;
                let day = vietnam_date(p.checked_in_at);
                if day < first || day > last {
                    return Err(AppError::invalid(
                        "participation_id",
                        format!("took place on {day}, outside the year {first} to {last}"),
                    ));
                }
                if linked.iter().any(|e| e.participation_id == pid && e.criterion_id == row.criterion_id) {
                    return Err(AppError::AlreadyExists(format!("participation {pid} is already linked")));
                }
                row.participation_id = pid;
                row.activity_title = p.activity_title;
            }
            EvidenceKind::Document => {
                row.reference = TextRule::line(500).parse("reference", &r.reference)?;
                row.description = TextRule::line(500).parse("description", &r.description)?;
            }
        }
        let txn = self.ctx.db.begin().await?;
        let linked_now = row.participation_id.clone();
        doan_platform::db::unique_or(training::add_evidence(&txn, row).await, || {
            AppError::AlreadyExists(format!("participation {linked_now} is already linked"))
        })?;
        txn.commit().await?;
        let reg = self.registration(&m, r.year).await?;
        Ok(pb::AddTrainingEvidenceResponse { record: Some(self.training_record(reg).await?) })
    }

    pub(super) async fn submit_training_self_assessment(
        &self,
        caller: &Caller,
        r: pb::SubmitTrainingSelfAssessmentRequest,
    ) -> AppResult<pb::SubmitTrainingSelfAssessmentResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        if !caller.is_member(&m.member_id) {
            return Err(AppError::PermissionDenied("only the member assesses their own year".into()));
        }
        let text = TextRule { max_chars: 2000, multiline: true, required: true }.parse("text", &r.text)?;
        let reg = self.registration(&m, r.year).await?;
        let txn = self.ctx.db.begin().await?;
        if !training::self_assess(&txn, &m.member_id, reg.year, &text).await? {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s {} is already evaluated",
                m.member_id, r.year
            )));
        }
        txn.commit().await?;
        let reg = self.registration(&m, r.year).await?;
        Ok(pb::SubmitTrainingSelfAssessmentResponse { record: Some(self.training_record(reg).await?) })
    }

    pub(super) async fn evaluate_training(
        &self,
        caller: &Caller,
        r: pb::EvaluateTrainingRequest,
    ) -> AppResult<pb::EvaluateTrainingResponse> {
        let m = self.managed_member(caller, "member_id", &r.member_id).await?;
        let comment = TextRule::paragraphs(1000).parse("comment", &r.comment)?;
        let mut reg = self.registration(&m, r.year).await?;
        if reg.state == TrainingState::Evaluated as i32 {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s {} is already evaluated",
                m.member_id, r.year
            )));
        }
        let criteria = training::criteria(&self.ctx.db, &reg.programme_id).await?;
        let linked = training::evidence(&self.ctx.db, &m.member_id, r.year).await?;
        let mut seen = BTreeSet::new();
        let mut verdicts = Vec::with_capacity(criteria.len());
        for v in &r.verdicts {
            let Some(c) = criteria.iter().find(|c| c.criterion_id == v.criterion_id) else {
                return Err(AppError::invalid("verdicts.criterion_id", "is not a criterion of the member's programme"));
            };
            if !seen.insert(c.criterion_id.clone()) {
                return Err(AppError::invalid("verdicts", format!("judge criterion \"{}\" once", c.title)));
            }
            let note = TextRule::optional_line(500).parse("verdicts.officer_note", &v.officer_note)?;
            if v.met {
                let of_c = linked.iter().filter(|e| e.criterion_id == c.criterion_id);
                let participations = of_c.clone().filter(|e| e.kind == EvidenceKind::Participation as i32).count();
                let documents = of_c.filter(|e| e.kind == EvidenceKind::Document as i32).count();
                let backing = Backing {
                    kind: CriterionKind::from_stored(c.kind),
                    target: c.target,
                    participations: participations as i32,
                    documents: documents as i32,
                    officer_note: !note.is_empty(),
                };
                may_be_met(backing)
                    .map_err(|why| AppError::invalid("verdicts.met", format!("criterion \"{}\" {why}", c.title)))?;
            }
            verdicts.push(training_verdict::Model {
                member_id: m.member_id.clone(),
                year: r.year,
                criterion_id: c.criterion_id.clone(),
                met: v.met,
                officer_note: note,
            });
        }
        if let Some(missing) = criteria.iter().find(|c| !seen.contains(&c.criterion_id)) {
            return Err(AppError::invalid("verdicts", format!("criterion \"{}\" has no verdict", missing.title)));
        }
        let ok = passed(
            criteria.iter().map(|c| (c.required, verdicts.iter().any(|v| v.criterion_id == c.criterion_id && v.met))),
        );
        reg.state = TrainingState::Evaluated as i32;
        reg.result = if ok { TrainingResult::Passed } else { TrainingResult::Failed } as i32;
        reg.comment = comment;
        reg.evaluated_by = caller.account_id.clone();
        reg.evaluated_at = Some(self.ctx.clock.now());
        let txn = self.ctx.db.begin().await?;
        if !training::evaluate(&txn, reg, verdicts).await? {
            return Err(AppError::FailedPrecondition(format!(
                "member {}'s {} was evaluated meanwhile",
                m.member_id, r.year
            )));
        }
        txn.commit().await?;
        let reg = self.registration(&m, r.year).await?;
        Ok(pb::EvaluateTrainingResponse { record: Some(self.training_record(reg).await?) })
    }

    pub(super) async fn get_training_record(
        &self,
        caller: &Caller,
        r: pb::GetTrainingRecordRequest,
    ) -> AppResult<pb::GetTrainingRecordResponse> {
        let m = self.own_or_managed_member(caller, "member_id", &r.member_id).await?;
        let reg = self.registration(&m, r.year).await?;
        Ok(pb::GetTrainingRecordResponse { record: Some(self.training_record(reg).await?) })
    }
}
