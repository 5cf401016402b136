//! Emulation scoring: units' weights, scores, their entries, leaderboards.

use std::collections::{BTreeMap, HashMap};

use doan_platform::AppError;
use doan_platform::auth::{Caller, path_contains};
use doan_platform::convert::{decode_page_token, encode_page_token, page_size, parse_id};
use doan_platform::directory;
use doan_platform::error::AppResult;
use doan_proto::awards as pb;
use sea_orm::TransactionTrait;

use super::AwardsApi;
use crate::domain::UnitLevel;
use crate::domain::scoring::{Rules, ScoreKind, Weights};
use crate::storage::entities::score_fact;
use crate::storage::scores::{self, Sum};

fn weights_to_pb(w: &Weights) -> pb::ScoringWeights {
    pb::ScoringWeights {
        participation: w.participation,
        per_volunteer_hour: w.per_volunteer_hour,
        idea_adopted: w.idea_adopted,
        project: w.project,
        target_met: w.target_met,
        dues_month_on_time: w.dues_month_on_time,
        member_rating: w.member_rating.clone(),
        unit_rating: w.unit_rating.clone(),
    }
}

fn weights_from_pb(w: pb::ScoringWeights) -> Weights {
    Weights {
        participation: w.participation,
        per_volunteer_hour: w.per_volunteer_hour,
        idea_adopted: w.idea_adopted,
        project: w.project,
        target_met: w.target_met,
        dues_month_on_time: w.dues_month_on_time,
        member_rating: w.member_rating,
        unit_rating: w.unit_rating,
    }
}

/// A year's weights: units' own and the defaults.
struct YearRules {
    own: HashMap<String, Weights>,
    defaults: Weights,
    defaults_id: String,
}

impl YearRules {
    fn rules(&self) -> Rules<'_> {
        Rules { own: self.own.clone(), defaults: &self.defaults }
    }

    fn describe(&self, path: &str, year: i32) -> pb::ScoringRule {
        let rules = self.rules();
        let (w, unit) = rules.at(path);
        pb::ScoringRule {
            unit_id: unit.unwrap_or_default().to_string(),
            year,
            weights: Some(weights_to_pb(w)),
            source: if unit.is_some() { "unit".into() } else { self.defaults_id.clone() },
        }
    }
}

/// Points of `sums` (one subject's, or many) under `rules`, by subject: total and by month.
fn points(rules: &Rules<'_>, sums: &[Sum]) -> HashMap<String, (i64, [i64; 12])> {
    let mut out: HashMap<String, (i64, [i64; 12])> = HashMap::new();
    for (subject, path, _, month, kind, quantity) in sums {
        let Some(kind) = ScoreKind::from_stored(*kind) else { continue };
        let p = rules.at(path).0.points(kind, *quantity);
        let entry = out.entry(subject.clone()).or_insert((0, [0; 12]));
        entry.0 += p;
        if let Some(m) = usize::try_from(*month - 1).ok().filter(|m| *m < 12) {
            entry.1[m] += p;
        }
    }
    out
}

impl AwardsApi {
    fn year_or_current(&self, year: i32) -> AppResult<i32> {
        match year {
            0 => Ok(crate::domain::vietnam_year(self.ctx.clock.now())),
            y if (2000..=2100).contains(&y) => Ok(y),
            _ => Err(AppError::invalid("year", "must be 2000 to 2100, or 0 for the current year")),
        }
    }

    async fn year_rules(&self, year: i32) -> AppResult<YearRules> {
        let january = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        let v = self.emulation.at("year", january)?;
        let mut own = HashMap::new();
        for r in scores::rules_of_year(&self.ctx.db, year).await? {
            let w: Weights = serde_json::from_str(&r.weights)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("scoring rule of {} for {year}: {e}", r.unit_id)))?;
            own.insert(r.unit_id, w);
        }
        Ok(YearRules { own, defaults: v.rule.clone(), defaults_id: v.id.clone() })
    }

    /// The unit a request names, or the caller's own; members may read their branch's line.
    async fn readable_unit(&self, caller: &Caller, unit_id: &str) -> AppResult<directory::unit::Model> {
        let id = if unit_id.is_empty() {
            caller.unit_id.clone().ok_or_else(|| AppError::invalid("unit_id", "is required for administrators"))?
        } else {
            parse_id("unit_id", unit_id)?
        };
        let u = directory::unit(&self.ctx.db, "unit_id", &id).await?;
        let own_line = match (&caller.member_id, &caller.unit_id) {
            (Some(_), Some(branch)) => {
                directory::unit(&self.ctx.db, "unit_id", branch).await.is_ok_and(|b| path_contains(&b.path, &id))
            }
            _ => false,
        };
        if !own_line {
            caller.require_manages(&u.path, &format!("unit {id}"))?;
        }
        Ok(u)
    }

    /// The points of a member or (`unit`) a unit at `path` in `year`: a unit's own facts and
    /// its current members'.
    pub(super) async fn points_of(&self, id: &str, unit: bool, path: &str, year: i32) -> AppResult<i64> {
        let rules = self.year_rules(year).await?;
        let sums: Vec<Sum> = if unit {
            let mut sums = scores::sums(&self.ctx.db, path, false, year, None).await?;
            sums.extend(scores::sums(&self.ctx.db, path, true, year, None).await?);
            sums
        } else {
            scores::sums(&self.ctx.db, path, false, year, None).await?.into_iter().filter(|s| s.0 == id).collect()
        };
        Ok(points(&rules.rules(), &sums).values().map(|(t, _)| t).sum())
    }

    pub(super) async fn set_scoring_rule(
        &self,
        caller: &Caller,
        r: pb::SetScoringRuleRequest,
    ) -> AppResult<pb::SetScoringRuleResponse> {
        caller.require_officer()?;
        let unit_id = parse_id("unit_id", &r.unit_id)?;
        let u = directory::unit(&self.ctx.db, "unit_id", &unit_id).await?;
        caller.require_manages(&u.path, &format!("unit {unit_id}"))?;
        if !matches!(
            UnitLevel::from_stored(u.level),
            Some(UnitLevel::Central | UnitLevel::Provincial | UnitLevel::District)
        ) {
            return Err(AppError::FailedPrecondition(format!(
                "unit {unit_id} is not a central, provincial or district-level union: scoring rules are a sector's"
            )));
        }
        if !(2000..=2100).contains(&r.year) {
            return Err(AppError::invalid("year", "must be 2000 to 2100"));
        }
        let weights = weights_from_pb(r.weights.ok_or_else(|| AppError::invalid("weights", "is required"))?);
        weights.check()?;
        let json = serde_json::to_string(&weights).map_err(|e| AppError::Internal(e.into()))?;
        let txn = self.ctx.db.begin().await?;
        scores::set_rule(&txn, scores::rule_row(&unit_id, r.year, json, &caller.account_id, self.ctx.clock.now()))
            .await?;
        txn.commit().await?;
        Ok(pb::SetScoringRuleResponse {
            rule: Some(pb::ScoringRule {
                unit_id,
                year: r.year,
                weights: Some(weights_to_pb(&weights)),
                source: "unit".into(),
            }),
        })
    }

    pub(super) async fn get_scoring_rule(
        &self,
        caller: &Caller,
        r: pb::GetScoringRuleRequest,
    ) -> AppResult<pb::GetScoringRuleResponse> {
        let u = self.readable_unit(caller, &r.unit_id).await?;
        let year = self.year_or_current(r.year)?;
        let rules = self.year_rules(year).await?;
        Ok(pb::GetScoringRuleResponse { rule: Some(rules.describe(&u.path, year)) })
    }

    pub(super) async fn score(&self, caller: &Caller, r: pb::GetScoreRequest) -> AppResult<pb::GetScoreResponse> {
        let year = self.year_or_current(r.year)?;
        let rules = self.year_rules(year).await?;
        let (path, sums) = if r.unit_id.is_empty() || !r.member_id.is_empty() {
            let member_id = caller.member_or_self("member_id", &r.member_id)?;
            let m = directory::member(&self.ctx.db, "member_id", &member_id).await?;
            if !caller.is_member(&member_id) {
                caller.require_manages(&m.unit_path, &format!("member {member_id}"))?;
            }
            if !r.unit_id.is_empty() {
                return Err(AppError::invalid("unit_id", "set member_id or unit_id, not both"));
            }
            let sums: Vec<Sum> = scores::sums(&self.ctx.db, &m.unit_path, false, year, None)
                .await?
                .into_iter()
                .filter(|s| s.0 == member_id)
                .collect();
            (m.unit_path, sums)
        } else {
            let u = self.readable_unit(caller, &r.unit_id).await?;
            let mut sums = scores::sums(&self.ctx.db, &u.path, false, year, None).await?;
            sums.extend(scores::sums(&self.ctx.db, &u.path, true, year, None).await?);
            (u.path, sums)
        };
        let r_rules = rules.rules();
        let mut by_kind: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        let mut by_month = [0i64; 12];
        for (_, p, _, month, kind, quantity) in &sums {
            let Some(k) = ScoreKind::from_stored(*kind) else { continue };
            let pts = r_rules.at(p).0.points(k, *quantity);
            let e = by_kind.entry(*kind).or_default();
            e.0 += quantity;
            e.1 += pts;
            if let Some(m) = usize::try_from(*month - 1).ok().filter(|m| *m < 12) {
                by_month[m] += pts;
            }
        }
        Ok(pb::GetScoreResponse {
            year,
            points: by_month.iter().sum(),
            by_kind: by_kind
                .into_iter()
                .map(|(kind, (quantity, points))| pb::ScoreLine { kind, quantity, points })
                .collect(),
            by_month: by_month.to_vec(),
            rule: Some(rules.describe(&path, year)),
        })
    }

    pub(super) async fn score_entries(
        &self,
        caller: &Caller,
        r: pb::ListScoreEntriesRequest,
    ) -> AppResult<pb::ListScoreEntriesResponse> {
        let member_id = caller.member_or_self("member_id", &r.member_id)?;
        let m = directory::member(&self.ctx.db, "member_id", &member_id).await?;
        if !caller.is_member(&member_id) {
            caller.require_manages(&m.unit_path, &format!("member {member_id}"))?;
        }
        let year = self.year_or_current(r.year)?;
        let limit = page_size(r.page_size, 100, 500)?;
        let after = match decode_page_token(&r.page_token)? {
            None => None,
            Some(t) => {
                let (on, id) = t.split_once('|').ok_or_else(|| AppError::invalid("page_token", "is malformed"))?;
                Some((on.to_string(), id.to_string()))
            }
        };
        let rules = self.year_rules(year).await?;
        let r_rules = rules.rules();
        let weights = r_rules.at(&m.unit_path).0;
        let mut facts = scores::facts_of(&self.ctx.db, &member_id, year, after, limit + 1).await?;
        let next_page_token = if facts.len() as u64 > limit {
            facts.truncate(limit as usize);
            facts.last().map(|f| encode_page_token(&format!("{}|{}", f.occurred_on, f.fact_id))).unwrap_or_default()
        } else {
            String::new()
        };
        let entries = facts
            .into_iter()
            .map(|f: score_fact::Model| pb::ScoreEntry {
                points: ScoreKind::from_stored(f.kind).map_or(0, |k| weights.points(k, f.quantity)),
                entry_id: f.fact_id,
                kind: f.kind,
                quantity: f.quantity,
                title: f.title,
                occurred_on: f.occurred_on,
            })
            .collect();
        Ok(pb::ListScoreEntriesResponse { entries, next_page_token })
    }

    pub(super) async fn leaderboard(
        &self,
        caller: &Caller,
        r: pb::GetLeaderboardRequest,
    ) -> AppResult<pb::GetLeaderboardResponse> {
        let year = self.year_or_current(r.year)?;
        let month = match r.month {
            0 => None,
            m @ 1..=12 => Some(m),
            _ => return Err(AppError::invalid("month", "must be 1 to 12, or 0 for the whole year")),
        };
        let limit = match r.limit {
            0 => 50,
            n @ 1..=500 => n as usize,
            _ => return Err(AppError::invalid("limit", "must be 1 to 500, or 0 for 50")),
        };
        let subject = pb::LeaderboardSubject::try_from(r.subject).unwrap_or(pb::LeaderboardSubject::Unspecified);
        let rules = self.year_rules(year).await?;
        let r_rules = rules.rules();
        // (id, name, points) of every candidate.
        let mut ranked: Vec<(String, String, i64)> = Vec::new();
        if !r.cluster_id.is_empty() {
            let cluster_id = parse_id("cluster_id", &r.cluster_id)?;
            let c = crate::storage::decisions::cluster(&self.ctx.db, &cluster_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("cluster {cluster_id} (cluster_id) does not exist")))?;
            let owner = directory::unit(&self.ctx.db, "cluster_id", &c.owner_unit_id).await?;
            let own_line = match (&caller.member_id, &caller.unit_id) {
                (Some(_), Some(branch)) => directory::unit(&self.ctx.db, "unit_id", branch)
                    .await
                    .is_ok_and(|b| path_contains(&b.path, &owner.unit_id)),
                _ => false,
            };
            if !own_line {
                caller.require_manages(&owner.path, &format!("cluster {cluster_id}"))?;
            }
            if subject != pb::LeaderboardSubject::Units {
                return Err(AppError::invalid("subject", "a cluster ranks its units: LEADERBOARD_SUBJECT_UNITS"));
            }
            let unit_ids = scores::cluster_units(&self.ctx.db, &cluster_id).await?;
            let units = crate::storage::decisions::units(&self.ctx.db, &unit_ids).await?;
            for u in units.values() {
                let mut sums = scores::sums(&self.ctx.db, &u.path, false, year, month).await?;
                sums.extend(scores::sums(&self.ctx.db, &u.path, true, year, month).await?);
                let total = points(&r_rules, &sums).values().map(|(t, _)| t).sum();
                ranked.push((u.unit_id.clone(), u.name.clone(), total));
            }
        } else {
            let root = self.readable_unit(caller, &r.unit_id).await?;
            match subject {
                pb::LeaderboardSubject::Members => {
                    let sums = scores::sums(&self.ctx.db, &root.path, false, year, month).await?;
                    let names: HashMap<&str, &str> = sums.iter().map(|s| (s.0.as_str(), s.2.as_str())).collect();
                    for (id, (total, _)) in points(&r_rules, &sums) {
                        let name = names.get(id.as_str()).copied().unwrap_or_default().to_string();
                        ranked.push((id, name, total));
                    }
                }
                pb::LeaderboardSubject::Units => {
                    let level = match r.unit_level {
                        0 => UnitLevel::Branch as i32,
                        n => UnitLevel::parse("unit_level", n)? as i32,
                    };
                    let candidates = crate::storage::decisions::units_below(&self.ctx.db, &root.path, level).await?;
                    let mut totals: HashMap<&str, i64> = candidates.iter().map(|u| (u.unit_id.as_str(), 0)).collect();
                    let mut sums = scores::sums(&self.ctx.db, &root.path, false, year, month).await?;
                    sums.extend(scores::sums(&self.ctx.db, &root.path, true, year, month).await?);
                    for (_, path, _, _, kind, quantity) in &sums {
                        let Some(k) = ScoreKind::from_stored(*kind) else { continue };
                        let pts = r_rules.at(path).0.points(k, *quantity);
                        // The candidate on the subject's path (itself or an ancestor) gets it.
                        if let Some(unit) = path.split('/').find(|id| totals.contains_key(id))
                            && let Some(t) = totals.get_mut(unit)
                        {
                            *t += pts;
                        }
                    }
                    for u in &candidates {
                        ranked.push((u.unit_id.clone(), u.name.clone(), totals[u.unit_id.as_str()]));
                    }
                }
                pb::LeaderboardSubject::Unspecified => {
                    return Err(AppError::invalid(
                        "subject",
                        "must be LEADERBOARD_SUBJECT_MEMBERS or LEADERBOARD_SUBJECT_UNITS",
                    ));
                }
            }
        }
        ranked.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)).then_with(|| a.0.cmp(&b.0)));
        let total = ranked.len() as i32;
        let mut rows = Vec::with_capacity(limit.min(ranked.len()));
        let mut rank = 0;
        let mut last = None;
        for (i, (id, name, points)) in ranked.into_iter().enumerate().take(limit) {
            if last != Some(points) {
                rank = i as i32 + 1;
                last = Some(points);
            }
            rows.push(pb::LeaderboardRow { rank, id, name, points });
        }
        Ok(pb::GetLeaderboardResponse { rows, ranked: total })
    }
}
