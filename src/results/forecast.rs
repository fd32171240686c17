//! The files of a twin run (`run --fleet`, docs/twin.md): the forecast per real credential,
//! the credentials left out and why, and the tickets each bucket with their band.

use super::cells::{Fixed, Rate, Time};
use serde::{Deserialize, Serialize};

/// forecast.csv: one row per credential of the twin, most at risk first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    pub credential: String,
    pub population: String,
    /// Shares of the replicates in which, within 30, 90 and 365 days of the start, a login's
    /// first attempt failed (empty: the horizon is shorter).
    pub p_first_try_failure_30d: Option<Rate>,
    pub p_first_try_failure_90d: Option<Rate>,
    pub p_first_try_failure_365d: Option<Rate>,
    /// The same for a helpdesk ticket about the user's login.
    pub p_ticket_30d: Option<Rate>,
    pub p_ticket_90d: Option<Rate>,
    pub p_ticket_365d: Option<Rate>,
    /// The same in the week after the first dated validator event (a cut-over, a window
    /// change), or the first week without one.
    pub p_first_try_failure_week1: Rate,
    pub p_ticket_week1: Rate,
    /// Share of the replicates in which the clock left the window within the horizon.
    pub p_exit: Rate,
    /// The replicates' exit dates: median, and the 5% and 95% quantiles (the 90% band). Empty
    /// where that quantile falls after the horizon.
    pub exit_median: Option<Time>,
    pub exit_p05: Option<Time>,
    pub exit_p95: Option<Time>,
    /// Share of the replicates in which the token died (battery, expiry) within the horizon.
    pub p_token_death: Rate,
    /// `resync now`, `resync before DATE`, `replace`, `check time settings` or `nothing`.
    pub action: String,
    /// Why: the figure that decided the action.
    pub because: String,
}

/// forecast-excluded.csv: credentials of the analysis the twin leaves out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExcludedRow {
    pub credential: String,
    pub population: String,
    /// `inactive` or `no_offset`.
    pub reason: String,
}

/// forecast-tickets.csv: helpdesk tickets per bucket over the replicates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketRow {
    pub bucket_start: Time,
    pub bucket_end: Time,
    pub expected: Fixed<2>,
    /// The 5% and 95% quantiles over the replicates.
    pub p05: Fixed<2>,
    pub p95: Fixed<2>,
}

/// A twin run's forecast, as written and loaded back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Forecast {
    pub rows: Vec<ForecastRow>,
    pub excluded: Vec<ExcludedRow>,
    pub tickets: Vec<TicketRow>,
}

/// The files of a forecast.
pub const FORECAST_FILES: [&str; 3] = [
    "forecast.csv",
    "forecast-excluded.csv",
    "forecast-tickets.csv",
];

impl Forecast {
    /// Loads the three files through `read`; `name` gives a file's name for messages.
    pub fn from_files(
        name: impl Fn(&str) -> String,
        read: impl Fn(&str) -> Result<Vec<u8>, super::FileError>,
    ) -> Result<Forecast, super::FileError> {
        let [f, e, t] = FORECAST_FILES;
        Ok(Forecast {
            rows: super::analyze::rows(&name(f), &read(f)?)?,
            excluded: super::analyze::rows(&name(e), &read(e)?)?,
            tickets: super::analyze::rows(&name(t), &read(t)?)?,
        })
    }
}

/// twin-settings.csv: a twin swept over settings (`sweep --fleet`), per setting and
/// population (then `all`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TwinSettingRow {
    pub setting: u64,
    pub label: String,
    pub population: String,
    pub credentials: u64,
    /// Credentials leaving the window in at least half the replicates.
    pub at_risk: u64,
    /// Credentials whose first try fails, in at least half the replicates, in the week
    /// after the setting's first dated event (a cut-over), or the first week.
    pub broken_week1: u64,
    /// Expected credentials with a ticket in that week, and tickets over the horizon.
    pub expected_tickets_week1: Fixed<2>,
    pub expected_tickets: Fixed<2>,
    /// Credentials whose outcome differs from the first setting's (changes.csv).
    pub changed: u64,
}

/// changes.csv: per setting after the first, the credentials whose outcome changes from the
/// first setting's, and how.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub setting: u64,
    pub label: String,
    pub credential: String,
    pub population: String,
    pub p_first_try_failure_week1_first: Rate,
    pub p_first_try_failure_week1: Rate,
    pub p_ticket_90d_first: Option<Rate>,
    pub p_ticket_90d: Option<Rate>,
    pub exit_median_first: Option<Time>,
    pub exit_median: Option<Time>,
    pub action_first: String,
    pub action: String,
}

/// A twin sweep's tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TwinSweep {
    pub settings: Vec<TwinSettingRow>,
    pub changes: Vec<ChangeRow>,
}
