//! Credential lives for Kaplan-Meier with late entry, binned by the hour of age.

use serde::Serialize;

/// Credential lives for Kaplan-Meier, binned by the hour of age, sorted by hour. A token already in service when the run starts enters the risk set
/// at its age then (left truncation), not at zero: its earlier life was not observed, and
/// counting it from birth would make the fleet look longer-lived than it is. Exact counts, so
/// any split of the fleet merges to the same estimate, and memory follows the horizon, not the
/// fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Lives(pub Vec<LifeBin>);

/// The lives of one hour of age. Written (aggregates.json) as `[hour, deaths, censored,
/// entered]`, the form shards have always merged from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(from = "(u64, u64, u64, u64)", into = "(u64, u64, u64, u64)")]
pub struct LifeBin {
    /// Hours of age since the credential's birth.
    pub hour: u64,
    pub deaths: u64,
    /// Alive at the end of the horizon, or retired early.
    pub censored: u64,
    /// Entered the risk set at this age (0 for a new credential, its age then for one already
    /// in service when the run started).
    pub entered: u64,
}

impl From<(u64, u64, u64, u64)> for LifeBin {
    fn from((hour, deaths, censored, entered): (u64, u64, u64, u64)) -> LifeBin {
        LifeBin {
            hour,
            deaths,
            censored,
            entered,
        }
    }
}

impl From<LifeBin> for (u64, u64, u64, u64) {
    fn from(b: LifeBin) -> (u64, u64, u64, u64) {
        (b.hour, b.deaths, b.censored, b.entered)
    }
}

const HOUR_MS: i64 = 3_600_000;

impl Lives {
    /// One credential observed from age `entry_ms` (0 unless it was already in service) to age
    /// `exit_ms`, when it died (true) or was censored (alive at the end, retired early).
    pub fn record(&mut self, entry_ms: i64, exit_ms: i64, died: bool) {
        if exit_ms < entry_ms {
            return; // never at risk while observed
        }
        let exit = self.bin(exit_ms);
        if died {
            self.0[exit].deaths += 1;
        } else {
            self.0[exit].censored += 1;
        }
        let entry = self.bin(entry_ms);
        self.0[entry].entered += 1;
    }

    /// The index of the hour holding age `ms`, inserted if new.
    fn bin(&mut self, ms: i64) -> usize {
        let h = (ms.max(0) / HOUR_MS) as u64;
        match self.0.binary_search_by_key(&h, |e| e.hour) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(
                    i,
                    LifeBin {
                        hour: h,
                        ..LifeBin::default()
                    },
                );
                i
            }
        }
    }

    pub fn merge(&mut self, o: &Lives) {
        for b in &o.0 {
            let i = self.bin(b.hour as i64 * HOUR_MS);
            self.0[i].deaths += b.deaths;
            self.0[i].censored += b.censored;
            self.0[i].entered += b.entered;
        }
    }

    /// Kaplan-Meier with late entry: the life (years, the middle of its hour) by which a share
    /// `q` has died; None if never reached. In one hour, entries join the risk set first, then
    /// deaths count before censorings.
    pub fn quantile_years(&self, q: f64) -> Option<f64> {
        let mut at_risk: u64 = 0;
        let mut survival = 1.0;
        for b in &self.0 {
            at_risk += b.entered;
            if b.deaths > 0 {
                survival *= 1.0 - b.deaths as f64 / at_risk as f64;
                if 1.0 - survival >= q - 1e-12 {
                    return Some((b.hour as f64 + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
                }
            }
            at_risk -= b.deaths + b.censored;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_meier_by_hand() {
        // Five lives: deaths at hours 1, 3 and 4; censored at 2 and 5.
        let mut l = Lives::default();
        for (h, died) in [(4, true), (1, true), (5, false), (3, true), (2, false)] {
            l.record(0, h * HOUR_MS + 1000, died);
        }
        let y = |h: f64| Some((h + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
        // S(1) = 4/5; S(3) = 4/5 * 2/3 = 8/15; S(4) = 8/15 * 1/2 = 4/15.
        assert_eq!(l.quantile_years(0.1), y(1.0));
        assert_eq!(l.quantile_years(0.2), y(1.0));
        assert_eq!(l.quantile_years(0.4), y(3.0));
        assert_eq!(l.quantile_years(0.5), y(4.0));
        assert_eq!(l.quantile_years(0.7), y(4.0));
        assert_eq!(l.quantile_years(0.8), None);
        assert_eq!(Lives::default().quantile_years(0.5), None);
        // Ties in one hour: two deaths of four at risk halve survival at once.
        let mut t = Lives::default();
        for died in [true, true, false, false] {
            t.record(0, 7 * HOUR_MS, died);
        }
        assert_eq!(t.quantile_years(0.5), y(7.0));
        assert_eq!(t.quantile_years(0.51), None);
        // Split and merged the other way round: the same bins.
        let (mut a, mut b) = (Lives::default(), Lives::default());
        a.record(0, 5 * HOUR_MS, false);
        a.record(0, HOUR_MS, true);
        b.record(0, 2 * HOUR_MS, false);
        b.record(0, 4 * HOUR_MS, true);
        b.record(0, 3 * HOUR_MS, true);
        b.merge(&a);
        assert_eq!(b, l);
    }

    #[test]
    fn kaplan_meier_with_late_entry() {
        // Four new tokens: deaths at hours 1 and 2, two censored at 20. Two tokens already 10
        // hours old at the start: deaths at hours 11 and 12. The old ones are not at risk
        // before hour 10, so S(1) = 3/4, S(2) = 1/2 (median at hour 2), S(11) = 3/8,
        // S(12) = 1/4. Counted from birth instead, the median would move to hour 11.
        let mut l = Lives::default();
        for (entry, exit, died) in [
            (0, 1, true),
            (0, 2, true),
            (0, 20, false),
            (0, 20, false),
            (10, 11, true),
            (10, 12, true),
        ] {
            l.record(entry * HOUR_MS, exit * HOUR_MS + 5, died);
        }
        let y = |h: f64| Some((h + 0.5) * HOUR_MS as f64 / crate::time::YEAR as f64);
        assert_eq!(l.quantile_years(0.25), y(1.0));
        assert_eq!(l.quantile_years(0.5), y(2.0));
        assert_eq!(l.quantile_years(0.6), y(11.0));
        assert_eq!(l.quantile_years(0.75), y(12.0));
        assert_eq!(l.quantile_years(0.76), None);
        // A life that ended before it was observed is not in the table.
        let mut z = Lives::default();
        z.record(5 * HOUR_MS, 3 * HOUR_MS, true);
        assert_eq!(z, Lives::default());
        z.record(5 * HOUR_MS, 5 * HOUR_MS + 1, true);
        assert_eq!(
            z.0,
            vec![LifeBin {
                hour: 5,
                deaths: 1,
                censored: 0,
                entered: 1
            }]
        );
        // Written as [hour, deaths, censored, entered], the form aggregates.json has always had.
        assert_eq!(serde_json::to_string(&z).unwrap(), "[[5,1,0,1]]");
        assert_eq!(serde_json::from_str::<Lives>("[[5,1,0,1]]").unwrap(), z);
        assert_eq!(z.quantile_years(1.0), y(5.0));
    }
}
