//! Reorganisation plans: moves, merges, dissolutions and renames of units, simulated on a
//! sketch of the tree before anything is written. The same simulation previews a plan and
//! gates its application; the storage room applies the steps one by one.

use std::collections::{BTreeSet, HashMap};

use doan_platform::AppError;
use doan_platform::error::AppResult;

use super::unit::{UnitLevel, UnitStatus, check_placement};

/// What a step does (numbers match `doan.membership.v1.ReorganisationStepKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Move a unit and its subtree under a new parent.
    Move = 1,
    /// Merge a unit into another.
    Merge = 2,
    /// Dissolve an empty unit.
    Dissolve = 3,
    /// Rename a unit.
    Rename = 4,
}

impl StepKind {
    /// Parses the proto number, naming `field`.
    pub fn parse(field: &'static str, value: i32) -> AppResult<Self> {
        match value {
            1 => Ok(Self::Move),
            2 => Ok(Self::Merge),
            3 => Ok(Self::Dissolve),
            4 => Ok(Self::Rename),
            _ => Err(AppError::invalid(field, "must be MOVE, MERGE, DISSOLVE or RENAME")),
        }
    }

    /// A stored number (written by this code).
    pub fn from_stored(value: i32) -> Option<Self> {
        Self::parse("kind", value).ok()
    }
}

/// Where a plan or a step stands (numbers match `doan.membership.v1.ReorganisationState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState {
    /// Stored, not applied.
    Draft = 1,
    /// Being applied.
    Applying = 2,
    /// Applied.
    Done = 3,
    /// Stopped at a step that could not apply.
    Failed = 4,
}

impl PlanState {
    /// A stored number.
    pub fn from_stored(value: i32) -> Self {
        match value {
            2 => Self::Applying,
            3 => Self::Done,
            4 => Self::Failed,
            _ => Self::Draft,
        }
    }
}

/// One step, ids not yet checked against the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The unit changed.
    pub unit_id: String,
    /// New parent (move) or absorbing unit (merge).
    pub target_unit_id: String,
    /// New name (rename).
    pub new_name: String,
}

/// A unit as the simulation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SketchUnit {
    /// Parent; `None` for the root.
    pub parent_id: Option<String>,
    /// Level.
    pub level: UnitLevel,
    /// Status.
    pub status: UnitStatus,
    /// Active child units by level, each with its count.
    pub children: HashMap<UnitLevel, u64>,
    /// Active members belonging to the unit itself.
    pub members: u64,
    /// Units in the subtree, the unit included (for effects).
    pub subtree_units: u64,
    /// Active members in the subtree (for effects).
    pub subtree_members: u64,
    /// The unit lies in the plan's subtree (the plan's unit included).
    pub in_scope: bool,
    /// The unit is the plan's unit itself.
    pub is_scope: bool,
}

impl SketchUnit {
    fn child_count(&self) -> u64 {
        self.children.values().sum()
    }
}

/// What one step touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effect {
    /// Units whose place or state changes.
    pub units: u64,
    /// Active members whose record changes.
    pub members: u64,
}

/// A step that cannot apply, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Index of the step.
    pub step: usize,
    /// The unit concerned.
    pub unit_id: String,
    /// Why.
    pub reason: String,
}

/// The simulated plan.
#[derive(Debug, Clone, Default)]
pub struct Simulation {
    /// Per step.
    pub effects: Vec<Effect>,
    /// Every conflict.
    pub conflicts: Vec<Conflict>,
    /// Distinct units changed.
    pub units_touched: u64,
}

/// The ids a plan needs in its sketch: every step's unit and target.
pub fn involved_ids(steps: &[Step]) -> BTreeSet<String> {
    steps.iter().flat_map(|s| [s.unit_id.clone(), s.target_unit_id.clone()]).filter(|id| !id.is_empty()).collect()
}

/// Simulates `steps` in order on `tree` (every involved unit and its ancestors), leaving the
/// sketch as the plan would leave the tree. A conflicting step is skipped (later steps see the
/// tree without it) so that one preview lists every conflict.
pub fn simulate(tree: &mut HashMap<String, SketchUnit>, steps: &[Step]) -> Simulation {
    let mut sim = Simulation::default();
    let mut touched = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        match apply_step(tree, step) {
            Ok(effect) => {
                touched.insert(step.unit_id.clone());
                sim.units_touched += effect.units.saturating_sub(1);
                sim.effects.push(effect);
            }
            Err(reason) => {
                sim.effects.push(Effect::default());
                sim.conflicts.push(Conflict { step: i, unit_id: step.unit_id.clone(), reason });
            }
        }
    }
    sim.units_touched += touched.len() as u64;
    sim
}

/// True when `ancestor` is `unit_id` or on its parent line in the sketch.
fn is_within(tree: &HashMap<String, SketchUnit>, unit_id: &str, ancestor: &str) -> bool {
    let mut current = Some(unit_id.to_string());
    let mut guard = 0;
    while let Some(id) = current {
        if id == ancestor {
            return true;
        }
        guard += 1;
        if guard > 10_000 {
            return false;
        }
        current = tree.get(&id).and_then(|u| u.parent_id.clone());
    }
    false
}

fn changeable<'a>(tree: &'a HashMap<String, SketchUnit>, id: &str) -> Result<&'a SketchUnit, String> {
    let unit = tree.get(id).ok_or_else(|| format!("unit {id} does not exist"))?;
    if !unit.in_scope || unit.is_scope {
        return Err(format!("unit {id} is not strictly inside the plan's unit"));
    }
    if unit.status != UnitStatus::Active {
        return Err(format!("unit {id} is {:?}, not active", unit.status));
    }
    Ok(unit)
}

fn target<'a>(tree: &'a HashMap<String, SketchUnit>, id: &str) -> Result<&'a SketchUnit, String> {
    if id.is_empty() {
        return Err("the step needs target_unit_id".into());
    }
    let unit = tree.get(id).ok_or_else(|| format!("target unit {id} does not exist"))?;
    if !unit.in_scope {
        return Err(format!("target unit {id} is outside the plan's unit"));
    }
    if unit.status != UnitStatus::Active {
        return Err(format!("target unit {id} is {:?}, not active", unit.status));
    }
    Ok(unit)
}

/// One child of `level` fewer under `parent`.
fn uncount(tree: &mut HashMap<String, SketchUnit>, parent: Option<&str>, level: UnitLevel) {
    if let Some(n) = parent.and_then(|p| tree.get_mut(p)).and_then(|p| p.children.get_mut(&level)) {
        *n = n.saturating_sub(1);
    }
}

fn reparent(tree: &mut HashMap<String, SketchUnit>, id: &str, level: UnitLevel, from: Option<&str>, to: &str) {
    uncount(tree, from, level);
    if let Some(new) = tree.get_mut(to) {
        *new.children.entry(level).or_default() += 1;
    }
    if let Some(unit) = tree.get_mut(id) {
        unit.parent_id = Some(to.to_string());
    }
}

fn apply_step(tree: &mut HashMap<String, SketchUnit>, step: &Step) -> Result<Effect, String> {
    let unit = changeable(tree, &step.unit_id)?.clone();
    match step.kind {
        StepKind::Rename => Ok(Effect { units: 1, members: 0 }),
        StepKind::Dissolve => {
            if unit.child_count() > 0 {
                return Err(format!(
                    "unit {} still has {} active child unit(s); move or merge them first",
                    step.unit_id,
                    unit.child_count()
                ));
            }
            if unit.members > 0 {
                return Err(format!(
                    "unit {} still holds {} active member(s); transfer them or merge the unit",
                    step.unit_id, unit.members
                ));
            }
            uncount(tree, unit.parent_id.as_deref(), unit.level);
            tree.get_mut(&step.unit_id).expect("checked").status = UnitStatus::Dissolved;
            Ok(Effect { units: 1, members: 0 })
        }
        StepKind::Move => {
            let parent = target(tree, &step.target_unit_id)?.clone();
            if is_within(tree, &step.target_unit_id, &step.unit_id) {
                return Err(format!("unit {} cannot move under itself or its own descendant", step.unit_id));
            }
            if unit.parent_id.as_deref() == Some(step.target_unit_id.as_str()) {
                return Err(format!("unit {} is already under {}", step.unit_id, step.target_unit_id));
            }
            check_placement(unit.level, Some(parent.level)).map_err(|e| e.to_string())?;
            reparent(tree, &step.unit_id, unit.level, unit.parent_id.as_deref(), &step.target_unit_id);
            Ok(Effect { units: unit.subtree_units, members: unit.subtree_members })
        }
        StepKind::Merge => {
            let into = target(tree, &step.target_unit_id)?.clone();
            if step.target_unit_id == step.unit_id {
                return Err("a unit cannot merge into itself".into());
            }
            if is_within(tree, &step.target_unit_id, &step.unit_id) {
                return Err(format!("unit {} cannot merge into its own descendant", step.unit_id));
            }
            let same_kind = unit.level == into.level || (unit.level.holds_members() && into.level.holds_members());
            if !same_kind {
                return Err(format!(
                    "a {:?} unit merges into a unit of the same level (or branch into branch), not a {:?} unit",
                    unit.level, into.level
                ));
            }
            for level in unit.children.iter().filter(|(_, n)| **n > 0).map(|(l, _)| *l) {
                check_placement(level, Some(into.level))
                    .map_err(|e| format!("a child of unit {} cannot sit under the target: {e}", step.unit_id))?;
            }
            let moved_children = unit.children.clone();
            let members = unit.members;
            {
                let t = tree.get_mut(&step.target_unit_id).expect("checked");
                for (level, n) in &moved_children {
                    *t.children.entry(*level).or_default() += n;
                }
                t.members += members;
            }
            uncount(tree, unit.parent_id.as_deref(), unit.level);
            let merged = tree.get_mut(&step.unit_id).expect("checked");
            merged.status = UnitStatus::Merged;
            merged.children.clear();
            merged.members = 0;
            Ok(Effect { units: unit.subtree_units, members: unit.subtree_members })
        }
    }
}

/// The progress of a plan in percent: steps weigh one unit each, members one each.
pub fn percent(steps_done: u64, steps_total: u64, members_done: u64, members_total: u64) -> u32 {
    let total = steps_total + members_total;
    if total == 0 {
        return 100;
    }
    (((steps_done + members_done.min(members_total)) * 100) / total).min(100) as u32
}

/// The path of `path`'s subtree member after moving the subtree at `old` to `new`.
pub fn rewrite_path(path: &str, old: &str, new: &str) -> Option<String> {
    path.strip_prefix(old).map(|rest| format!("{new}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use UnitLevel::*;

    fn unit(parent: Option<&str>, level: UnitLevel) -> SketchUnit {
        SketchUnit {
            parent_id: parent.map(str::to_string),
            level,
            status: UnitStatus::Active,
            children: HashMap::new(),
            members: 0,
            subtree_units: 1,
            subtree_members: 0,
            in_scope: true,
            is_scope: false,
        }
    }

    fn step(kind: StepKind, unit: &str, target: &str) -> Step {
        Step { kind, unit_id: unit.into(), target_unit_id: target.into(), new_name: String::new() }
    }

    /// Central → two provinces, one district under A with a grassroots unit and a branch of
    /// 40 members; province B has a branch of 10.
    fn tree() -> HashMap<String, SketchUnit> {
        let mut t = HashMap::new();
        let mut root = unit(None, Central);
        root.is_scope = true;
        root.children.insert(Provincial, 2);
        t.insert("root".to_string(), root);
        let mut a = unit(Some("root"), Provincial);
        a.children.insert(District, 1);
        t.insert("A".into(), a);
        let mut b = unit(Some("root"), Provincial);
        b.children.insert(Branch, 1);
        t.insert("B".into(), b);
        let mut d = unit(Some("A"), District);
        d.children.insert(Grassroots, 1);
        d.subtree_units = 3;
        d.subtree_members = 40;
        t.insert("D".into(), d);
        let mut g = unit(Some("D"), Grassroots);
        g.children.insert(Branch, 1);
        g.subtree_units = 2;
        g.subtree_members = 40;
        t.insert("G".into(), g);
        let mut br = unit(Some("G"), Branch);
        br.members = 40;
        br.subtree_members = 40;
        t.insert("BR".into(), br);
        let mut bb = unit(Some("B"), Branch);
        bb.members = 10;
        bb.subtree_members = 10;
        t.insert("BB".into(), bb);
        t
    }

    #[test]
    fn the_2025_reorganisation_dissolves_districts_after_moving_their_units_up() {
        let mut t = tree();
        let plan = [step(StepKind::Move, "G", "A"), step(StepKind::Dissolve, "D", ""), step(StepKind::Merge, "B", "A")];
        let sim = simulate(&mut t, &plan);
        assert!(sim.conflicts.is_empty(), "{:?}", sim.conflicts);
        assert_eq!(sim.effects[0], Effect { units: 2, members: 40 });
        assert_eq!(t["G"].parent_id.as_deref(), Some("A"));
        assert_eq!(t["D"].status, UnitStatus::Dissolved);
        assert_eq!(t["B"].status, UnitStatus::Merged);
        assert_eq!(t["A"].children.get(&Branch), Some(&1), "B's branch now sits under A");
    }

    #[test]
    fn conflicts_name_the_step_and_the_reason() {
        let mut t = tree();
        let plan = [
            step(StepKind::Dissolve, "D", ""),  // still has G
            step(StepKind::Move, "A", "G"),     // under its own descendant
            step(StepKind::Move, "G", "BR"),    // a branch has no children
            step(StepKind::Merge, "BR", "A"),   // branch into province
            step(StepKind::Move, "nope", "A"),  // unknown
            step(StepKind::Rename, "root", ""), // the plan's own unit
            step(StepKind::Merge, "BB", "BR"),  // fine: branch into branch
            step(StepKind::Move, "BB", "A"),    // merged in the step before
            step(StepKind::Dissolve, "BR", ""), // now holds 50 members
        ];
        let sim = simulate(&mut t, &plan);
        let steps: Vec<usize> = sim.conflicts.iter().map(|c| c.step).collect();
        assert_eq!(steps, vec![0, 1, 2, 3, 4, 5, 7, 8], "{:#?}", sim.conflicts);
        assert!(sim.conflicts[0].reason.contains("child unit"));
        assert!(sim.conflicts[1].reason.contains("descendant"));
        assert!(sim.conflicts[7].reason.contains("50 active member"), "{}", sim.conflicts[7].reason);
    }

    #[test]
    fn out_of_scope_units_are_conflicts() {
        let mut t = tree();
        t.get_mut("B").unwrap().in_scope = false;
        let sim = simulate(&mut t, &[step(StepKind::Move, "G", "B")]);
        assert!(sim.conflicts[0].reason.contains("outside"));
    }

    #[test]
    fn paths_and_percent() {
        assert_eq!(rewrite_path("/r/a/d/g/", "/r/a/d/", "/r/b/d/").as_deref(), Some("/r/b/d/g/"));
        assert_eq!(rewrite_path("/r/x/", "/r/a/", "/r/b/"), None);
        assert_eq!(percent(0, 2, 0, 0), 0);
        assert_eq!(percent(1, 2, 50, 98), 51);
        assert_eq!(percent(0, 0, 0, 0), 100);
    }
}
