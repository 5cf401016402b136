//! Rules are data with dates: each rule file under `rules/` in the repository (TOML) lists
//! versions, each with the period it is in force and the Charter or guidance document it
//! comes from. The files are compiled in; a deployment may replace any of them with a file of
//! the same name in `rules.dir`. A decision uses the version in force on the decision's date
//! ([`Versioned::at`]) and records its id. Files are validated at start: a broken rule file
//! stops the process with a message naming the file and the version.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// One version of a rule.
#[derive(Debug, Clone, Deserialize)]
pub struct Version<T> {
    /// Stable id, recorded with each decision that used it (e.g. `charter-12`).
    pub id: String,
    /// First day in force (a Vietnam date).
    pub valid_from: NaiveDate,
    /// Last day in force; open-ended when absent.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// The Charter article or guidance document it comes from.
    pub source: String,
    /// The values.
    #[serde(flatten)]
    pub rule: T,
}

/// A rule's versions, ordered and non-overlapping.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    /// The rule file's name (for messages).
    pub name: String,
    versions: Vec<Version<T>>,
}

#[derive(Deserialize)]
struct RuleFile<T> {
    version: Vec<Version<T>>,
}

/// Checks a rule's own values (e.g. a minimum below a maximum).
pub trait RuleValues {
    /// An error message when the values are inconsistent.
    fn validate(&self) -> Result<(), String>;
}

impl<T: DeserializeOwned + RuleValues> Versioned<T> {
    /// Parses and validates the rule file `name` (TOML text `text`).
    pub fn parse(name: &str, text: &str) -> anyhow::Result<Self> {
        let file: RuleFile<T> = toml::from_str(text).with_context(|| format!("rule file {name} does not parse"))?;
        let mut versions = file.version;
        anyhow::ensure!(!versions.is_empty(), "rule file {name} has no version");
        versions.sort_by_key(|v| v.valid_from);
        for (i, v) in versions.iter().enumerate() {
            let at = || format!("rule file {name}, version {:?}", v.id);
            anyhow::ensure!(!v.id.trim().is_empty(), "{}: id is empty", at());
            anyhow::ensure!(!v.source.trim().is_empty(), "{}: source is empty (name the Charter or guidance)", at());
            if let Some(until) = v.valid_until {
                anyhow::ensure!(until >= v.valid_from, "{}: valid_until {until} is before valid_from", at());
            }
            v.rule.validate().map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
            if let Some(next) = versions.get(i + 1) {
                let until = v.valid_until.with_context(|| {
                    format!("{}: only the last version may be open-ended (next: {:?})", at(), next.id)
                })?;
                anyhow::ensure!(until < next.valid_from, "{}: overlaps version {:?}", at(), next.id);
            }
            anyhow::ensure!(versions.iter().filter(|o| o.id == v.id).count() == 1, "{}: the id is used twice", at());
        }
        Ok(Self { name: name.to_string(), versions })
    }

    /// The compiled-in file `name`, or the deployment's `dir/name` when it exists.
    pub fn load(name: &str, compiled_in: &str, dir: Option<&Path>) -> anyhow::Result<Self> {
        match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
                Self::parse(&path.display().to_string(), &text)
            }
            None => Self::parse(name, compiled_in),
        }
    }
}

impl<T> Versioned<T> {
    /// The version in force on `date`, or FAILED_PRECONDITION naming `field`.
    pub fn at(&self, field: &'static str, date: NaiveDate) -> Result<&Version<T>, AppError> {
        self.versions.iter().find(|v| v.valid_from <= date && v.valid_until.is_none_or(|u| date <= u)).ok_or_else(
            || {
                AppError::invalid(
                    field,
                    format!("no {} rule is in force on {date}", self.name.trim_end_matches(".toml")),
                )
            },
        )
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[Version<T>] {
        &self.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Limit {
        max: u32,
    }

    impl RuleValues for Limit {
        fn validate(&self) -> Result<(), String> {
            if self.max == 0 { Err("max must be positive".into()) } else { Ok(()) }
        }
    }

    const FILE: &str = r#"
[[version]]
id = "new"
valid_from = "2022-12-15"
source = "Điều lệ khóa XII"
max = 30

[[version]]
id = "old"
valid_from = "2017-12-13"
valid_until = "2022-12-14"
source = "Điều lệ khóa XI"
max = 28
"#;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_version_in_force_on_the_date_decides() {
        let rules = Versioned::<Limit>::parse("limit.toml", FILE).unwrap();
        assert_eq!(rules.at("on", d("2022-12-14")).unwrap().id, "old");
        assert_eq!(rules.at("on", d("2022-12-15")).unwrap().rule.max, 30);
        assert_eq!(rules.at("on", d("2030-01-01")).unwrap().id, "new");
        let err = rules.at("admitted_on", d("2010-01-01")).unwrap_err().to_string();
        assert!(err.contains("admitted_on") && err.contains("no limit rule"), "{err}");
    }

    #[test]
    fn broken_files_name_the_file_and_version() {
        let overlap = FILE.replace("2022-12-14", "2022-12-20");
        let err = Versioned::<Limit>::parse("limit.toml", &overlap).unwrap_err().to_string();
        assert!(err.contains("limit.toml") && err.contains("\"old\"") && err.contains("overlaps"), "{err}");
        let bad = FILE.replace("max = 28", "max = 0");
        let err = format!("{:#}", Versioned::<Limit>::parse("limit.toml", &bad).unwrap_err());
        assert!(err.contains("max must be positive"), "{err}");
        let open = FILE.replace("valid_until = \"2022-12-14\"\n", "");
        assert!(Versioned::<Limit>::parse("limit.toml", &open).is_err(), "two open-ended versions");
        assert!(Versioned::<Limit>::parse("limit.toml", "nonsense").is_err());
    }
}
