//! sweep.csv: per setting (point) and population, the user-side figures with 95% intervals and
//! the attacker side. The swept parameters' columns sit between `label` and `population`.

use super::cells::{self, Fixed, Rate, Sci};
use super::table::{read_rows, FileError, Writer};
use serde::{Deserialize, Serialize};

/// The figures of one setting and population (every column after the swept parameters).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub population: String,
    pub tokens: u64,
    pub logins: u64,
    pub attempts: u64,
    pub first_try_acceptance_rate: Option<Rate>,
    pub first_try_acceptance_ci95_low: Option<Rate>,
    pub first_try_acceptance_ci95_high: Option<Rate>,
    pub first_try_rejection_rate: Option<Rate>,
    pub login_success_rate: Option<Rate>,
    pub login_success_ci95_low: Option<Rate>,
    pub login_success_ci95_high: Option<Rate>,
    pub incidents_per_1000_logins: Option<Fixed<6>>,
    pub lockouts_per_1000_logins: Option<Fixed<6>>,
    pub tickets_per_100_users_year: Option<Fixed<6>>,
    pub resyncs_attempted: u64,
    pub resyncs_succeeded: u64,
    pub attack_accepted_steps: Option<Fixed<6>>,
    pub attack_p_guess: Option<Sci>,
    pub attack_guesses_per_day: Option<Fixed<6>>,
    pub attack_p_success_day: Option<Sci>,
    pub attack_p_success_year: Option<Sci>,
    /// The chance a code relayed 5 s after its use is accepted again (no replay rule, or
    /// another cluster node not yet reached by replication).
    #[serde(default)]
    pub attack_replay_p_accept: Option<Rate>,
    pub attack_simulated_guesses: u64,
    pub attack_simulated_successes: u64,
    pub attack_simulated_p_guess: Option<Sci>,
    pub attack_simulated_p_guess_ci95_low: Option<Sci>,
    pub attack_simulated_p_guess_ci95_high: Option<Sci>,
    pub code_lifetime_s: Option<Fixed<6>>,
    pub code_lifetime_max_s: Option<Fixed<6>>,
    pub meets_nist_800_63b: bool,
}

impl SweepRow {
    /// The columns a `--target` can name: every numeric or boolean figure.
    pub fn figure_columns() -> Vec<String> {
        super::table::columns::<SweepRow>()
            .into_iter()
            .filter(|c| c != "population")
            .collect()
    }

    /// A figure by its column name (booleans as 1 and 0); None when the cell is empty or there
    /// is no such column.
    pub fn get(&self, column: &str) -> Option<f64> {
        serde_json::to_value(self)
            .ok()?
            .get(column)
            .and_then(cells::number)
    }
}

/// One line of sweep.csv: the setting, its swept values, and the figures.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    pub point: usize,
    pub label: String,
    /// The swept values, in the order of [`SweepTable::params`] (empty: not set by this point).
    pub values: Vec<String>,
    pub row: SweepRow,
}

/// sweep.csv, whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepTable {
    /// The swept field paths.
    pub params: Vec<String>,
    pub lines: Vec<SweepLine>,
}

impl SweepTable {
    /// The swept paths that change the users themselves (a population or run field): their
    /// random draws are shared across settings, the clocks, logins or tokens they make are not.
    pub fn swept_user_params(&self) -> impl Iterator<Item = &String> {
        self.params
            .iter()
            .filter(|p| p.starts_with("population") || p.starts_with("run."))
    }

    pub fn to_csv(&self) -> Vec<u8> {
        let mut header = vec!["point".to_string(), "label".to_string()];
        header.extend(self.params.iter().cloned());
        header.extend(super::table::columns::<SweepRow>());
        let mut w = Writer::new(&header);
        for l in &self.lines {
            let mut lead = vec![l.point.to_string(), l.label.clone()];
            lead.extend(l.values.iter().cloned());
            w.row_after(&lead, &l.row);
        }
        w.finish()
    }

    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<SweepTable, FileError> {
        let mut lines = Vec::new();
        let lead = read_rows::<SweepRow>(file, bytes, None, |line, lead, row| {
            let point = lead
                .first()
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|p| *p >= 1)
                .ok_or_else(|| {
                    FileError::new(
                        file,
                        line,
                        1,
                        format!(
                            "column `point`: expected a setting number from 1, found `{}`",
                            lead.first().map_or("", String::as_str)
                        ),
                    )
                })?;
            lines.push(SweepLine {
                point,
                label: lead.get(1).cloned().unwrap_or_default(),
                values: lead.iter().skip(2).cloned().collect(),
                row,
            });
            Ok(())
        })?;
        if lead.len() < 2 || lead[0] != "point" || lead[1] != "label" {
            return Err(FileError::new(
                file,
                1,
                1,
                format!(
                    "expected columns `point`, `label`, the swept fields, then `population`, found `{}`",
                    lead.join(",")
                ),
            ));
        }
        Ok(SweepTable {
            params: lead[2..].to_vec(),
            lines,
        })
    }

    /// The `all` line of every point, in point order.
    pub fn all_lines(&self) -> impl Iterator<Item = &SweepLine> {
        self.lines.iter().filter(|l| l.row.population == "all")
    }
}

/// A sweep's results as the charts and report read them: sweep.csv loaded back, the base
/// scenario and the recommendation.
#[derive(Clone, Debug)]
pub struct SweepData {
    pub scenario: crate::scenario::Scenario,
    pub table: SweepTable,
    /// The recommendation in Markdown (the settings meeting the targets, or why none does).
    pub recommendation: String,
    /// Every setting ran on one fleet (common random numbers), as the manifest records.
    pub same_fleet: bool,
}

impl SweepData {
    pub fn name(&self) -> &str {
        &self.scenario.run.name
    }
}

/// One point's `all` row.
#[derive(Clone, Debug)]
pub struct PointRow {
    pub point: usize,
    pub label: String,
    pub rejection: f64,
    pub attack_year: f64,
    pub nist: bool,
}

/// Every point's `all` row with the figures the trade-off needs.
pub fn all_rows(d: &SweepData) -> Vec<PointRow> {
    d.table
        .all_lines()
        .filter_map(|l| {
            Some(PointRow {
                point: l.point,
                label: l.label.clone(),
                rejection: super::cells::get(l.row.first_try_rejection_rate)?,
                attack_year: l.row.attack_p_success_year?.0,
                nist: l.row.meets_nist_800_63b,
            })
        })
        .collect()
}

/// Points no other point beats on both user failures and attacker success.
pub fn pareto(rows: &[PointRow]) -> Vec<usize> {
    rows.iter()
        .filter(|a| {
            !rows.iter().any(|b| {
                b.rejection <= a.rejection
                    && b.attack_year <= a.attack_year
                    && (b.rejection < a.rejection || b.attack_year < a.attack_year)
            })
        })
        .map(|a| a.point)
        .collect()
}
