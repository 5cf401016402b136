//! Live statistics of a subtree: per-unit counters (kept in the transaction of every change)
//! summed over the units whose path lies under the unit's.

use std::collections::BTreeMap;

use chrono::Datelike;
use doan_platform::AppError;
use doan_platform::auth::Caller;
use doan_platform::error::AppResult;
use doan_proto::membership as pb;

use super::MembershipApi;
use crate::domain::stats::age_band;
use crate::storage::statistics;

impl MembershipApi {
    pub(super) async fn get_unit_statistics(
        &self,
        caller: &Caller,
        r: pb::GetUnitStatisticsRequest,
    ) -> AppResult<pb::GetUnitStatisticsResponse> {
        let unit = self.managed_unit(caller, "unit_id", &r.unit_id).await?;
        let this_year = self.ctx.clock.today().year();
        let year = match r.year {
            0 => this_year,
            y if (1931..=2199).contains(&y) => y,
            _ => return Err(AppError::invalid("year", "must be 0 (this year) or 1931 to 2199")),
        };
        let sums = statistics::subtree(&self.ctx.db, &unit.path).await?;
        let get = |metric: &str, key: &str| -> u64 {
            sums.iter().find(|s| s.metric == metric && s.key == key).map_or(0, |s| s.total.max(0) as u64)
        };
        let year_key = year.to_string();
        let flow = |metric: &str| get(metric, &year_key);
        let mut by_status: Vec<pb::StatusCount> = sums
            .iter()
            .filter(|s| s.metric == "status" && s.total > 0)
            .filter_map(|s| Some(pb::StatusCount { status: s.key.parse().ok()?, count: s.total as u64 }))
            .collect();
        by_status.sort_by_key(|s| s.status);
        let mut bands: BTreeMap<&'static str, u64> =
            ["15-18", "19-24", "25-30", "31+"].into_iter().map(|b| (b, 0)).collect();
        for s in sums.iter().filter(|s| s.metric == "birth_year" && s.total > 0) {
            if let Ok(born) = s.key.parse::<i32>() {
                *bands.entry(age_band(born, this_year)).or_default() += s.total as u64;
            }
        }
        Ok(pb::GetUnitStatisticsResponse {
            active_members: get("status", "1"),
            by_status,
            male: get("sex", "1"),
            female: get("sex", "2"),
            by_age_band: bands.into_iter().map(|(band, count)| pb::AgeBandCount { band: band.into(), count }).collect(),
            ethnicity_kinh: get("ethnicity", "kinh"),
            ethnicity_minority: get("ethnicity", "minority"),
            admitted: flow("admitted"),
            transferred_in: flow("transfer_in"),
            transferred_out: flow("transfer_out"),
            aged_out: flow("aged_out"),
            party_admitted: flow("party"),
            removed: flow("removed"),
            expelled: flow("expelled"),
            year,
        })
    }
}
