//! A twin of a real fleet (`run --fleet ANALYSIS_DIR`, docs/twin.md): one simulated user per
//! analysed credential, with that credential's clock, login habits and validator state; and
//! what a run watches per credential from an instant on (first-try failure, ticket, window exit).

use crate::dist::Dist;
use crate::time::Millis;

/// One analysed credential as the twin starts it. Offsets and rates are (estimate, standard
/// error): each replicate draws its own value, so the forecast carries the fit's uncertainty.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinCredential {
    /// The real credential's id (a serial), kept in tokens.csv and forecast.csv.
    pub id: String,
    /// The scenario population it belongs to.
    pub population: usize,
    /// Device clock minus true time at the twin's start, seconds.
    pub offset_s: (f64, f64),
    /// Frequency error, ppm (None: the fit had no slope; the population's law is used).
    pub ppm: Option<(f64, f64)>,
    /// Mean logins per day seen in the log (None: too few observations; the population's).
    pub logins_per_day: Option<f64>,
    /// Relative login weights for each local hour (None: the population's).
    pub hours: Option<[f64; 24]>,
    /// The validator's learned correction when the log ends: the offset at the last
    /// observation, seconds (what a drift-learning validator had centred its window on).
    pub learned_s: Option<f64>,
    /// The server's step of the last observation (refused from then on under time-forward).
    pub last_step: Option<i64>,
    /// What the clock's wander did over the fitted span that a straight line cannot show: the
    /// standard deviations of the offset (s) and frequency (ppm) at the end of the line, and
    /// their correlation (docs/twin.md). None without wander.
    pub wander: Option<(f64, f64, f64)>,
}

impl TwinCredential {
    /// The population's clock law with this credential's offset and rate in place of its
    /// initial draws: the rest (aging, wander, temperature, sync, events) is the population's.
    pub fn clock(&self, p: &crate::clock::ClockSpec) -> crate::clock::ClockSpec {
        let mut c = p.clone();
        c.initial_offset_s = normal(self.offset_s);
        if let Some(ppm) = self.ppm {
            c.drift_ppm = normal(ppm);
        }
        c
    }

    /// The population's user with this credential's login rate and hours.
    pub fn user(&self, p: &crate::user::UserSpec) -> crate::user::UserSpec {
        let mut u = p.clone();
        if let Some(r) = self.logins_per_day {
            u.logins_per_day = Dist::Fixed(r);
        }
        if let Some(h) = self.hours {
            u.hours = h;
        }
        u
    }
}

fn normal((mean, sd): (f64, f64)) -> Dist {
    if sd > 0.0 {
        Dist::Normal { mean, sd }
    } else {
        Dist::Fixed(mean)
    }
}

/// The real fleet a scenario's run starts from: its credentials in fleet order (grouped by
/// population, as the populations' token ranges are).
#[derive(Clone, Debug, PartialEq)]
pub struct Twin {
    pub credentials: Vec<TwinCredential>,
    /// Credentials per population (the populations' sizes in a twin run).
    pub sizes: Vec<u64>,
}

/// Per credential, from `from` on: the first login whose first attempt failed, the first
/// helpdesk ticket, and the first login at which the clock's offset, less the drift the
/// validator has learned for it, lay outside `edges` (seconds, the window the analysis used):
/// the clock left the window the validator keeps for it. Recorded in each `TokenRecord`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Watch {
    pub from: Millis,
    pub edges: (f64, f64),
    /// The first dated event on the validator side from `from` on (a cut-over, a window
    /// change; `from` without one): each record also notes its first failed first try and
    /// first ticket from then on, for the week after it.
    pub event: Millis,
}
