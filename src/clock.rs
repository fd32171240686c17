//! Device clock models: a token's clock maps true time to device time, evaluated only at events.
//!
//! Frequency = constant offset + aging + quartz temperature term + random-walk wander; the offset
//! integrates frequency in closed form (the clknetsim model, DOMAIN.md), so advancing over a gap
//! of any length costs the same and is exact. Network time sync and discrete events (manual
//! changes, whole-hour time-zone mistakes, resets to a build date, trips into the future and back)
//! step the offset. Draws come only from the clock's own stream and happen only in
//! [`Clock::advance`], whose call times the simulation fixes from the login schedule; peeking
//! inside a login never draws, so clock paths do not depend on validator outcomes.

use crate::dist::Dist;
use crate::rng::Rng;
use crate::time::{Millis, YEAR_S};
use rand::Rng as _;
use rand_distr::StandardNormal;
use serde::Serialize;
use std::f64::consts::PI;

/// Quartz temperature behaviour and the temperature the device sees.
#[derive(Clone, Debug, PartialEq)]
pub struct TemperatureSpec {
    /// Parabolic coefficient k in ppm/°C²; frequency error is -k (T - T0)².
    pub coefficient: Dist,
    /// Turnover temperature T0 in °C.
    pub turnover_c: Dist,
    pub mean_c: Dist,
    pub daily_amplitude_c: Dist,
    pub seasonal_amplitude_c: Dist,
    /// Day of the year (0-365) and UTC hour of the warmest moment.
    pub warmest_day: f64,
    pub warmest_hour: f64,
}

/// Automatic network time.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncSpec {
    pub enabled: bool,
    pub interval_s: Dist,
    /// The clock is stepped only when off by more than this (Android: 2 s).
    pub threshold_s: Dist,
    /// Signed error left after a step.
    pub residual_s: Dist,
    pub failure_probability: Dist,
    /// Rate at which automatic time gets switched off (by the user or an update).
    pub off_rate_per_year: Dist,
    /// How long it stays off; `None` is for good.
    pub back_on_after_s: Option<Dist>,
}

/// The user sets the clock by hand: the offset becomes a draw of `amount_s` (an imprecise
/// reference, or a clock kept fast on purpose).
#[derive(Clone, Debug, PartialEq)]
pub struct ManualChange {
    pub rate_per_year: Dist,
    pub amount_s: Dist,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimezoneError {
    pub rate_per_year: Dist,
    /// Whole hours (rounded); a draw of 0 is no mistake.
    pub hours: Dist,
    pub corrected_after_s: Option<Dist>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reset {
    pub rate_per_year: Dist,
    /// The factory or build date the clock falls back to.
    pub to: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FutureTrip {
    pub rate_per_year: Dist,
    pub amount_s: Dist,
    pub back_after_s: Dist,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct EventsSpec {
    pub manual_change: Option<ManualChange>,
    pub timezone_error: Option<TimezoneError>,
    pub reset: Option<Reset>,
    pub future_trip: Option<FutureTrip>,
}

/// A population's clock model; each token draws its own parameters from it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockSpec {
    pub initial_offset_s: Dist,
    pub drift_ppm: Dist,
    /// Frequency change over the first year; aging follows ln(1 + t/τ), τ = 30 days.
    pub aging_ppm_first_year: Dist,
    /// Random-walk frequency: standard deviation of the frequency change after one day, in ppm.
    pub wander_ppm_per_sqrt_day: Dist,
    pub temperature: Option<TemperatureSpec>,
    pub sync: SyncSpec,
    pub events: EventsSpec,
}

impl ClockSpec {
    /// A perfect clock: no offset, drift, temperature, wander, sync or events.
    pub fn ideal() -> ClockSpec {
        ClockSpec {
            initial_offset_s: Dist::Fixed(0.0),
            drift_ppm: Dist::Fixed(0.0),
            aging_ppm_first_year: Dist::Fixed(0.0),
            wander_ppm_per_sqrt_day: Dist::Fixed(0.0),
            temperature: None,
            sync: SyncSpec {
                enabled: false,
                interval_s: Dist::Fixed(18.0 * 3600.0),
                threshold_s: Dist::Fixed(2.0),
                residual_s: Dist::Fixed(0.0),
                failure_probability: Dist::Fixed(0.0),
                off_rate_per_year: Dist::Fixed(0.0),
                back_on_after_s: None,
            },
            events: EventsSpec::default(),
        }
    }
}

const AGING_TAU_S: f64 = 30.0 * 86_400.0;
const NEVER: Millis = Millis::MAX;
/// Spans up to this long (seconds) are extrapolated linearly by `Clock::peek`.
const PEEK_LINEAR_S: f64 = 120.0;

/// The temperature term's periodic part, D² with D = c + a cos(θs) + b cos(θd) expanded into
/// the harmonics of the seasonal angle θs and the daily angle θd.
#[derive(Clone, Debug)]
struct Thermal {
    /// -k * 1e-6: fractional frequency per °C².
    scale: f64,
    constant: f64,
    /// Amplitude / angular frequency of sin(θs), sin(θd), sin(2θs), sin(2θd), sin(θd - θs) and
    /// sin(θs + θd) in the antiderivative.
    weights: [f64; 6],
    /// The same terms' amplitudes in the frequency itself (cosines of the same angles).
    amps: [f64; 6],
    ws: f64,
    wd: f64,
    ps: f64,
    pd: f64,
}

impl Thermal {
    fn new(spec: &TemperatureSpec, rng: &mut Rng) -> Option<Thermal> {
        let k = spec.coefficient.sample(rng);
        let t0 = spec.turnover_c.sample(rng);
        let mean = spec.mean_c.sample(rng);
        let b = spec.daily_amplitude_c.sample(rng);
        let a = spec.seasonal_amplitude_c.sample(rng);
        if k == 0.0 {
            return None;
        }
        let c = mean - t0;
        let ws = 2.0 * PI / YEAR_S;
        let wd = 2.0 * PI / 86_400.0;
        let amps = [
            2.0 * c * a,
            2.0 * c * b,
            a * a / 2.0,
            b * b / 2.0,
            a * b,
            a * b,
        ];
        let omegas = [ws, wd, 2.0 * ws, 2.0 * wd, wd - ws, ws + wd];
        Some(Thermal {
            scale: -k * 1e-6,
            constant: c * c + a * a / 2.0 + b * b / 2.0,
            weights: std::array::from_fn(|i| amps[i] / omegas[i]),
            amps,
            ws,
            wd,
            ps: -ws * spec.warmest_day * 86_400.0,
            pd: -wd * spec.warmest_hour * 3600.0,
        })
    }

    /// The periodic part of the integral's antiderivative: Σ amp sin(ωt + φ) / ω, from the
    /// sine and cosine of the two base angles alone (double-angle and sum formulas: four
    /// transcendental calls instead of six).
    fn periodic(&self, t: f64) -> f64 {
        self.periodic_and_rate(t).0
    }

    /// The periodic part at `t` and the fractional frequency error at `t`, from the same four
    /// transcendental calls.
    fn periodic_and_rate(&self, t: f64) -> (f64, f64) {
        let (ss, cs) = (self.ws * t + self.ps).sin_cos();
        let (sd, cd) = (self.wd * t + self.pd).sin_cos();
        let sines = [
            ss,
            sd,
            2.0 * ss * cs,
            2.0 * sd * cd,
            sd * cs - cd * ss,
            ss * cd + cs * sd,
        ];
        let cosines = [
            cs,
            cd,
            cs * cs - ss * ss,
            cd * cd - sd * sd,
            cd * cs + sd * ss,
            cs * cd - ss * sd,
        ];
        let (w, a) = (&self.weights, &self.amps);
        let p = (0..6).map(|i| w[i] * sines[i]).sum();
        let r = self.constant + (0..6).map(|i| a[i] * cosines[i]).sum::<f64>();
        (p, self.scale * r)
    }

    /// ∫ fractional frequency error dt over [t1, t2] (Unix seconds): seconds of offset gained.
    #[cfg(test)]
    fn integral(&self, t1: f64, t2: f64) -> f64 {
        self.scale * (self.constant * (t2 - t1) + self.periodic(t2) - self.periodic(t1))
    }

    /// The same from a cached periodic value at t1 (half the sines), with the periodic part
    /// and the frequency error at t2.
    fn integral_from(&self, t1: f64, p1: f64, t2: f64) -> (f64, f64, f64) {
        let (p2, rate) = self.periodic_and_rate(t2);
        (self.scale * (self.constant * (t2 - t1) + p2 - p1), p2, rate)
    }
}

/// What can step a clock; counted per token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClockEvents {
    pub syncs_applied: u32,
    pub syncs_failed: u32,
    pub auto_time_off: u32,
    pub manual_changes: u32,
    pub timezone_errors: u32,
    pub resets: u32,
    pub future_trips: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Sync,
    AutoOff,
    AutoOn,
    Manual,
    Timezone,
    Reset,
    Future,
}

const SLOTS: [Slot; 7] = [
    Slot::Sync,
    Slot::AutoOff,
    Slot::AutoOn,
    Slot::Manual,
    Slot::Timezone,
    Slot::Reset,
    Slot::Future,
];

/// One token's clock.
#[derive(Clone, Debug)]
pub struct Clock {
    spec: ClockSpec,
    rng: Rng,
    born: Millis,
    /// Constant fractional frequency offset.
    y0: f64,
    /// Aging scale over the log normalisation: the aging offset at age a is
    /// `aging * ((tau + a) ln(1 + a/tau) - a)`.
    aging: f64,
    /// That aging antiderivative at `t`, so each step computes it once.
    aging_at_t: f64,
    /// The fractional frequency error at `t` (every term, the wander's current value
    /// included), for extrapolating over a login's seconds.
    rate_at_t: f64,
    /// Wander sigma, fractional frequency per sqrt(second).
    sigma: f64,
    thermal: Option<Thermal>,
    /// The thermal antiderivative's periodic part at `t`, so each step computes it once.
    thermal_at_t: f64,
    /// The last peek: (clock time, offset bits then, peeked time, result). Within a login the
    /// same instant is looked at more than once; any change of time or offset misses.
    peeked: std::cell::Cell<(Millis, u64, Millis, f64)>,
    t: Millis,
    /// Offset in seconds: device time minus true time.
    x: f64,
    /// Random-walk frequency component.
    yw: f64,
    auto_on: bool,
    /// This token's draws of the population's sync parameters and event rates.
    interval_s: f64,
    threshold_s: f64,
    failure_p: f64,
    off_rate: f64,
    rates: [f64; 4],
    next: [Millis; 7],
    reverts: Vec<(Millis, f64)>,
    /// No event or revert is due before this (a lower bound: `advance` recomputes it), so the
    /// common advance, with nothing due, is one comparison.
    due: Millis,
    pub events: ClockEvents,
}

fn next_poisson(rng: &mut Rng, from: Millis, rate_per_year: f64) -> Millis {
    if rate_per_year <= 0.0 {
        return NEVER;
    }
    let u: f64 = rng.random::<f64>();
    let wait_s = -(1.0 - u).ln() / rate_per_year * YEAR_S;
    from.saturating_add((wait_s * 1000.0) as Millis)
}

fn after(from: Millis, secs: f64) -> Millis {
    from.saturating_add((secs.max(0.0) * 1000.0) as Millis)
}

impl Clock {
    pub fn new(spec: &ClockSpec, born: Millis, mut rng: Rng) -> Clock {
        let x = spec.initial_offset_s.sample(&mut rng);
        let y0 = spec.drift_ppm.sample(&mut rng) * 1e-6;
        // Normalised so that the fractional frequency at one year is the drawn value.
        let aging =
            spec.aging_ppm_first_year.sample(&mut rng) * 1e-6 / (YEAR_S / AGING_TAU_S).ln_1p();
        let sigma = spec.wander_ppm_per_sqrt_day.sample(&mut rng) * 1e-6 / 86_400f64.sqrt();
        let thermal = spec
            .temperature
            .as_ref()
            .and_then(|t| Thermal::new(t, &mut rng));
        let sy = &spec.sync;
        let interval_s = sy.interval_s.sample(&mut rng).max(1.0);
        let threshold_s = sy.threshold_s.sample(&mut rng).max(0.0);
        let failure_p = sy.failure_probability.sample(&mut rng).clamp(0.0, 1.0);
        let off_rate = sy.off_rate_per_year.sample(&mut rng).max(0.0);
        let ev = &spec.events;
        let mut rate = |r: Option<&Dist>| r.map_or(0.0, |d| d.sample(&mut rng).max(0.0));
        let rates = [
            rate(ev.manual_change.as_ref().map(|e| &e.rate_per_year)),
            rate(ev.timezone_error.as_ref().map(|e| &e.rate_per_year)),
            rate(ev.reset.as_ref().map(|e| &e.rate_per_year)),
            rate(ev.future_trip.as_ref().map(|e| &e.rate_per_year)),
        ];
        let sync_phase = (rng.random::<f64>() * interval_s * 1000.0) as Millis;
        let mut c = Clock {
            spec: spec.clone(),
            born,
            y0,
            aging,
            aging_at_t: 0.0,
            rate_at_t: 0.0,
            sigma,
            thermal_at_t: thermal
                .as_ref()
                .map_or(0.0, |th| th.periodic(born as f64 / 1000.0)),
            thermal,
            peeked: std::cell::Cell::new((Millis::MIN, 0, Millis::MIN, 0.0)),
            t: born,
            x,
            yw: 0.0,
            auto_on: spec.sync.enabled,
            interval_s,
            threshold_s,
            failure_p,
            off_rate,
            rates,
            next: [NEVER; 7],
            reverts: Vec::new(),
            due: Millis::MIN,
            events: ClockEvents::default(),
            rng,
        };
        if spec.sync.enabled {
            c.next[Slot::Sync as usize] = born + sync_phase;
            c.next[Slot::AutoOff as usize] = next_poisson(&mut c.rng, born, off_rate);
        }
        for (i, slot) in [Slot::Manual, Slot::Timezone, Slot::Reset, Slot::Future]
            .into_iter()
            .enumerate()
        {
            c.next[slot as usize] = next_poisson(&mut c.rng, born, rates[i]);
        }
        c.rate_at_t = c.drift_to(born).3;
        c
    }

    /// A clock whose crystal was made at `born` but whose simulation starts at `start` (a
    /// token already in service): events, syncs and the offset start at `start`, aging
    /// continues from the crystal's age then.
    pub fn in_service(spec: &ClockSpec, born: Millis, start: Millis, rng: Rng) -> Clock {
        let mut c = Clock::new(spec, start, rng);
        if born < start {
            c.born = born;
            c.aging_at_t = c.aging_at(start).0;
            c.rate_at_t = c.drift_to(start).3;
        }
        c
    }

    /// Offset (device minus true, seconds) at the last advance.
    pub fn offset(&self) -> f64 {
        self.x
    }

    pub fn auto_time_on(&self) -> bool {
        self.auto_on
    }

    /// The aging antiderivative at true time `t`, and its derivative (the aging frequency).
    fn aging_at(&self, t: Millis) -> (f64, f64) {
        let a = (t - self.born).max(0) as f64 / 1000.0;
        let l = (a / AGING_TAU_S).ln_1p();
        (self.aging * ((AGING_TAU_S + a) * l - a), self.aging * l)
    }

    /// The deterministic part of the offset gained from the clock's time to `t2`; the thermal
    /// and aging antiderivatives at `t2`; and the frequency error at `t2` but for the wander.
    fn drift_to(&self, t2: Millis) -> (f64, f64, f64, f64) {
        let t1 = self.t;
        let dt = (t2 - t1) as f64 / 1000.0;
        let mut dx = (self.y0 + self.yw) * dt;
        let mut rate = self.y0;
        let mut aged = self.aging_at_t;
        if self.aging != 0.0 {
            let (g, r) = self.aging_at(t2);
            aged = g;
            dx += aged - self.aging_at_t;
            rate += r;
        }
        let mut at = self.thermal_at_t;
        if let Some(th) = &self.thermal {
            let (d, p2, r) =
                th.integral_from(t1 as f64 / 1000.0, self.thermal_at_t, t2 as f64 / 1000.0);
            dx += d;
            at = p2;
            rate += r;
        }
        (dx, at, aged, rate)
    }

    /// Integrates from the current time to `t` with no events in between.
    fn integrate(&mut self, t: Millis) {
        if t <= self.t {
            return;
        }
        let (dx, at, aged, rate) = self.drift_to(t);
        self.x += dx;
        self.thermal_at_t = at;
        self.aging_at_t = aged;
        if self.sigma > 0.0 {
            let dt = (t - self.t) as f64 / 1000.0;
            let n1: f64 = self.rng.sample(StandardNormal);
            let n2: f64 = self.rng.sample(StandardNormal);
            self.x += self.sigma * dt * dt.sqrt() * (n1 / 2.0 + n2 / (2.0 * 3f64.sqrt()));
            self.yw += self.sigma * dt.sqrt() * n1;
        }
        self.rate_at_t = rate + self.yw;
        self.t = t;
    }

    /// Moves the clock to true time `t`, applying every sync and event on the way.
    pub fn advance(&mut self, t: Millis) {
        if t < self.due {
            self.integrate(t);
            return;
        }
        loop {
            let mut slot = 0;
            for i in 1..SLOTS.len() {
                if self.next[i] < self.next[slot] {
                    slot = i;
                }
            }
            let when = self.next[slot];
            let mut revert = None;
            for (i, r) in self.reverts.iter().enumerate() {
                if revert.is_none_or(|(_, w)| r.0 < w) {
                    revert = Some((i, r.0));
                }
            }
            if let Some((i, rw)) = revert {
                if rw <= t && rw <= when {
                    self.integrate(rw);
                    let (_, delta) = self.reverts.swap_remove(i);
                    self.x -= delta;
                    continue;
                }
            }
            if when > t {
                self.due = revert.map_or(when, |(_, rw)| rw.min(when));
                break;
            }
            self.integrate(when);
            self.fire(SLOTS[slot], when);
        }
        self.integrate(t);
    }

    fn fire(&mut self, slot: Slot, now: Millis) {
        let idx = slot as usize;
        match slot {
            Slot::Sync => {
                self.next[idx] = after(now, self.interval_s);
                if self.auto_on {
                    if self.rng.random::<f64>() < self.failure_p {
                        self.events.syncs_failed += 1;
                    } else if self.x.abs() > self.threshold_s {
                        self.x = self.spec.sync.residual_s.sample(&mut self.rng);
                        // The clock now shows network time: a later zone fix or return from
                        // a trip must not step it back by an error it no longer has.
                        self.reverts.clear();
                        self.events.syncs_applied += 1;
                    }
                }
            }
            Slot::AutoOff => {
                self.auto_on = false;
                self.events.auto_time_off += 1;
                self.next[idx] = NEVER;
                self.next[Slot::AutoOn as usize] = match &self.spec.sync.back_on_after_s {
                    Some(d) => after(now, d.sample(&mut self.rng)),
                    None => NEVER,
                };
            }
            Slot::AutoOn => {
                self.auto_on = true;
                self.next[idx] = NEVER;
                self.next[Slot::AutoOff as usize] = next_poisson(&mut self.rng, now, self.off_rate);
            }
            Slot::Manual => {
                let e = self
                    .spec
                    .events
                    .manual_change
                    .clone()
                    .expect("scheduled only when set");
                self.x = e.amount_s.sample(&mut self.rng);
                self.reverts.clear();
                self.events.manual_changes += 1;
                self.next[idx] = next_poisson(&mut self.rng, now, self.rates[0]);
            }
            Slot::Timezone => {
                let e = self
                    .spec
                    .events
                    .timezone_error
                    .clone()
                    .expect("scheduled only when set");
                let h = e.hours.sample(&mut self.rng).round();
                if h != 0.0 {
                    self.x += h * 3600.0;
                    self.events.timezone_errors += 1;
                    if let Some(d) = &e.corrected_after_s {
                        let back = after(now, d.sample(&mut self.rng));
                        self.reverts.push((back, h * 3600.0));
                    }
                }
                self.next[idx] = next_poisson(&mut self.rng, now, self.rates[1]);
            }
            Slot::Reset => {
                let e = self
                    .spec
                    .events
                    .reset
                    .clone()
                    .expect("scheduled only when set");
                self.x = (e.to - now) as f64 / 1000.0;
                self.reverts.clear();
                self.events.resets += 1;
                self.next[idx] = next_poisson(&mut self.rng, now, self.rates[2]);
            }
            Slot::Future => {
                let e = self
                    .spec
                    .events
                    .future_trip
                    .clone()
                    .expect("scheduled only when set");
                let amount = e.amount_s.sample(&mut self.rng);
                self.x += amount;
                self.events.future_trips += 1;
                self.reverts
                    .push((after(now, e.back_after_s.sample(&mut self.rng)), amount));
                self.next[idx] = next_poisson(&mut self.rng, now, self.rates[3]);
            }
        }
    }

    /// Offset at `t` (at or after the last advance) extrapolated without random draws or events:
    /// used for the seconds-to-minutes span of one login.
    pub fn peek(&self, t: Millis) -> f64 {
        if t <= self.t {
            return self.x;
        }
        let key = (self.t, self.x.to_bits(), t);
        let (at, bits, when, x) = self.peeked.get();
        if (at, bits, when) == key {
            return x;
        }
        let dt = (t - self.t) as f64 / 1000.0;
        // Over a login's span the frequency barely moves: extrapolating at the frequency of the
        // clock's time leaves out (dt^2 / 2) times its rate of change, under 10 µs for two
        // minutes (device times are whole milliseconds), and saves the transcendental calls of the exact integral.
        let x = if dt <= PEEK_LINEAR_S {
            self.x + self.rate_at_t * dt
        } else {
            self.x + self.drift_to(t).0
        };
        self.peeked.set((key.0, key.1, key.2, x));
        x
    }

    /// Device time at true time `t` (see [`Clock::peek`]).
    pub fn device_time(&self, t: Millis) -> Millis {
        t + crate::time::ms_of_s(self.peek(t))
    }

    /// Moves the offset by `dx_s` and the frequency's random-walk part by `dy_ppm` at the
    /// current time (a twin's clock: what the wander did that a fitted line does not show).
    pub fn nudge(&mut self, dx_s: f64, dy_ppm: f64) {
        self.x += dx_s;
        self.yw += dy_ppm * 1e-6;
        self.rate_at_t += dy_ppm * 1e-6;
    }

    /// Sets the offset at the current time (a user fixing the clock, a recovery step).
    pub fn set_offset(&mut self, x: f64) {
        self.x = x;
        self.reverts.clear();
    }

    /// The user switches automatic time (back) on: the device syncs at once, stepping the
    /// clock if it is off by more than its threshold, and keeps polling.
    pub fn turn_on_auto_time(&mut self) {
        if !self.spec.sync.enabled {
            return;
        }
        if !self.auto_on {
            self.auto_on = true;
            self.next[Slot::AutoOn as usize] = NEVER;
            // As when the user switches it back on unprompted: it can be switched off again.
            let off = next_poisson(&mut self.rng, self.t, self.off_rate);
            self.next[Slot::AutoOff as usize] = off;
            self.due = self.due.min(off);
        }
        if self.x.abs() > self.threshold_s {
            self.x = self.spec.sync.residual_s.sample(&mut self.rng);
            self.reverts.clear();
            self.events.syncs_applied += 1;
        }
    }

    /// A network time reading with this clock's sync residual (an app's Reset).
    pub fn network_time_error(&mut self) -> f64 {
        self.spec.sync.residual_s.sample(&mut self.rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};
    use crate::time::{DAY, HOUR};

    fn rng() -> Rng {
        stream(1, 0, Purpose::Clock)
    }

    #[test]
    fn linear_drift_is_exact() {
        let mut spec = ClockSpec::ideal();
        spec.drift_ppm = Dist::Fixed(20.0);
        spec.initial_offset_s = Dist::Fixed(-3.0);
        let mut c = Clock::new(&spec, 0, rng());
        c.advance(365 * DAY);
        // 20 ppm over 365 days = 630.72 s.
        assert!(
            (c.offset() - (-3.0 + 630.72)).abs() < 1e-9,
            "{}",
            c.offset()
        );
        assert!((c.peek(365 * DAY + 86_400_000) - (c.offset() + 1.728)).abs() < 1e-9);
    }

    #[test]
    fn aging_reaches_its_first_year_frequency_and_integrates_in_closed_form() {
        // Frequency 2 ppm * ln(1 + t/τ) / ln(1 + year/τ): the offset over a year is the
        // integral, 2e-6 * ((τ + Y) ln(1 + Y/τ) - Y) / ln(1 + Y/τ), in however many steps.
        let mut spec = ClockSpec::ideal();
        spec.aging_ppm_first_year = Dist::Fixed(2.0);
        let (tau, y) = (30.0 * 86_400.0, YEAR_S);
        let want = 2e-6 * ((tau + y) * (y / tau).ln_1p() - y) / (y / tau).ln_1p();
        let year = (YEAR_S * 1000.0) as Millis;
        let mut one = Clock::new(&spec, 0, rng());
        one.advance(year);
        let mut many = Clock::new(&spec, 0, rng());
        for d in 1..=365 {
            many.advance(d * DAY);
        }
        many.advance(year);
        assert!(
            (one.offset() - want).abs() < 1e-9,
            "{} vs {want}",
            one.offset()
        );
        assert!(
            (many.offset() - want).abs() < 1e-9,
            "{} vs {want}",
            many.offset()
        );
        // At one year the clock gains 2 ppm: 0.1728 s a day.
        let day = one.peek(year + DAY) - one.offset();
        assert!((day - 0.1728).abs() < 1e-4, "{day}");
    }

    #[test]
    fn advancing_in_many_steps_equals_one_step_without_noise() {
        let mut spec = ClockSpec::ideal();
        spec.drift_ppm = Dist::Fixed(-7.0);
        spec.aging_ppm_first_year = Dist::Fixed(3.0);
        spec.temperature = Some(TemperatureSpec {
            coefficient: Dist::Fixed(0.034),
            turnover_c: Dist::Fixed(25.0),
            mean_c: Dist::Fixed(15.0),
            daily_amplitude_c: Dist::Fixed(5.0),
            seasonal_amplitude_c: Dist::Fixed(10.0),
            warmest_day: 200.0,
            warmest_hour: 15.0,
        });
        let mut a = Clock::new(&spec, 1_000_000, rng());
        let mut b = Clock::new(&spec, 1_000_000, rng());
        let end = 1_000_000 + 400 * DAY;
        a.advance(end);
        let mut t = 1_000_000;
        while t < end {
            t = (t + 7 * HOUR + 123).min(end);
            b.advance(t);
        }
        assert!(
            (a.offset() - b.offset()).abs() < 1e-6,
            "{} vs {}",
            a.offset(),
            b.offset()
        );
    }

    /// An outdoor token: 10 °C mean, 12 °C seasonal and 6 °C daily swings, 15 °C below turnover.
    fn outdoor() -> TemperatureSpec {
        TemperatureSpec {
            coefficient: Dist::Fixed(0.04),
            turnover_c: Dist::Fixed(25.0),
            mean_c: Dist::Fixed(10.0),
            daily_amplitude_c: Dist::Fixed(6.0),
            seasonal_amplitude_c: Dist::Fixed(12.0),
            warmest_day: 190.0,
            warmest_hour: 14.0,
        }
    }

    #[test]
    fn temperature_term_matches_numeric_integral() {
        let spec = outdoor();
        let th = Thermal::new(&spec, &mut rng()).unwrap();
        let (t1, t2) = (1.7e9, 1.7e9 + 3.0 * 86_400.0);
        let n = 300_000;
        let h = (t2 - t1) / n as f64;
        let mut num = 0.0;
        for i in 0..n {
            let t = t1 + (i as f64 + 0.5) * h;
            let ts = 2.0 * PI / YEAR_S * (t - 190.0 * 86_400.0);
            let td = 2.0 * PI / 86_400.0 * (t - 14.0 * 3600.0);
            let temp = 10.0 + 12.0 * ts.cos() + 6.0 * td.cos();
            num += -0.04e-6 * (temp - 25.0).powi(2) * h;
        }
        let exact = th.integral(t1, t2);
        assert!((exact - num).abs() < 1e-6 * num.abs(), "{exact} vs {num}");
        // The frequency it reports is the integrand: a central difference of the integral.
        let t = 1.7e9 + 40_000.0;
        let (_, rate) = th.periodic_and_rate(t);
        let diff = (th.integral(t1, t + 0.5) - th.integral(t1, t - 0.5)) / 1.0;
        assert!((rate - diff).abs() < 1e-12, "{rate} vs {diff}");
    }

    #[test]
    fn peek_over_a_login_span_stays_within_ten_microseconds_of_the_integral() {
        let mut spec = ClockSpec::ideal();
        spec.drift_ppm = Dist::Fixed(12.0);
        spec.aging_ppm_first_year = Dist::Fixed(3.0);
        spec.wander_ppm_per_sqrt_day = Dist::Fixed(0.05);
        spec.temperature = Some(outdoor());
        let start = 1_767_225_600_000; // 2026-01-01
        let mut c = Clock::new(&spec, start, rng());
        let mut worst: f64 = 0.0;
        for h in 0..2000 {
            c.advance(start + h * 7 * HOUR + 123);
            for dt_ms in [0, 1, 999, 7_000, 30_000, 120_000] {
                let t = c.t + dt_ms;
                let exact = c.x + c.drift_to(t).0;
                worst = worst.max((c.peek(t) - exact).abs());
            }
        }
        // A 12 °C daily swing 15 °C below turnover: the worst case, at two minutes.
        assert!(worst < 1e-5, "{worst} s");
        // Past two minutes peek integrates exactly.
        let t = c.t + 121_000;
        assert_eq!(c.peek(t), c.x + c.drift_to(t).0);
    }

    #[test]
    fn wander_variance_matches_random_walk() {
        // Var(x) after T for a frequency random walk is sigma² T³ / 3.
        let mut spec = ClockSpec::ideal();
        spec.wander_ppm_per_sqrt_day = Dist::Fixed(1.0);
        let n = 4000;
        let t = 10 * DAY;
        let xs: Vec<f64> = (0..n)
            .map(|i| {
                let mut c = Clock::new(&spec, 0, stream(9, i, Purpose::Clock));
                for k in 1..=10 {
                    c.advance(k * DAY);
                }
                c.offset()
            })
            .collect();
        let var = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
        let sigma = 1e-6 / 86_400f64.sqrt();
        let want = sigma * sigma * (t as f64 / 1000.0).powi(3) / 3.0;
        assert!((var / want - 1.0).abs() < 0.08, "var {var}, want {want}");
    }

    #[test]
    fn sync_steps_only_beyond_threshold() {
        let mut spec = ClockSpec::ideal();
        spec.drift_ppm = Dist::Fixed(100.0); // 8.64 s a day
        spec.sync.enabled = true;
        spec.sync.interval_s = Dist::Fixed(86_400.0);
        spec.sync.threshold_s = Dist::Fixed(2.0);
        let mut c = Clock::new(&spec, 0, rng());
        c.advance(30 * DAY);
        // After a sync the clock is exact; it never gains more than one interval's drift.
        assert!(
            c.offset() >= 0.0 && c.offset() <= 8.64 + 1e-9,
            "{}",
            c.offset()
        );
        assert!(
            (28..=30).contains(&c.events.syncs_applied),
            "{:?}",
            c.events
        );
    }

    #[test]
    fn future_trip_goes_and_comes_back() {
        let mut spec = ClockSpec::ideal();
        spec.events.future_trip = Some(FutureTrip {
            rate_per_year: Dist::Fixed(1e9), // immediately
            amount_s: Dist::Fixed(3600.0),
            back_after_s: Dist::Fixed(600.0),
        });
        let mut c = Clock::new(&spec, 0, rng());
        let first = c.next[Slot::Future as usize];
        c.rates[3] = 0.0;
        c.advance(first + 1000);
        assert_eq!(c.offset(), 3600.0);
        c.advance(first + 600_000 + 1);
        assert_eq!(c.offset(), 0.0);
    }

    #[test]
    fn auto_time_turned_back_on_by_the_user_can_be_switched_off_again() {
        // Off 12 times a year, never back on by itself; the user switches it on the next day
        // each time. Over 10 years the offs are Poisson with mean about 120 (the day off each
        // time is 3% of the horizon), not the one the clock had before the fix.
        let mut spec = ClockSpec::ideal();
        spec.sync.enabled = true;
        spec.sync.off_rate_per_year = Dist::Fixed(12.0);
        let mut c = Clock::new(&spec, 0, rng());
        for d in 1..=3650 {
            c.advance(d * DAY);
            if !c.auto_time_on() {
                c.turn_on_auto_time();
            }
        }
        let offs = c.events.auto_time_off;
        assert!((90..=150).contains(&offs), "{offs}");
    }

    #[test]
    fn a_sync_or_reset_drops_pending_reverts() {
        // A zone mistake of +1 h, corrected by the user after 10 days. A daily sync fixes the
        // clock first, so the user's correction must not leave it an hour slow.
        let mut spec = ClockSpec::ideal();
        spec.sync.enabled = true;
        spec.sync.interval_s = Dist::Fixed(86_400.0);
        spec.events.timezone_error = Some(TimezoneError {
            rate_per_year: Dist::Fixed(1e9),
            hours: Dist::Fixed(1.0),
            corrected_after_s: Some(Dist::Fixed(10.0 * 86_400.0)),
        });
        let mut c = Clock::new(&spec, 0, rng());
        let mistake = c.next[Slot::Timezone as usize];
        c.rates[1] = 0.0;
        c.advance(mistake + 1);
        assert_eq!(c.offset(), 3600.0);
        c.advance(mistake + 10 * DAY + 1);
        assert_eq!(c.offset(), 0.0);
        assert_eq!(c.events.syncs_applied, 1);

        // A reset to an old date, then the return from a trip to the future.
        let mut spec = ClockSpec::ideal();
        spec.events.future_trip = Some(FutureTrip {
            rate_per_year: Dist::Fixed(1e9),
            amount_s: Dist::Fixed(3600.0),
            back_after_s: Dist::Fixed(600.0),
        });
        spec.events.reset = Some(Reset {
            rate_per_year: Dist::Fixed(0.0),
            to: 0,
        });
        let mut c = Clock::new(&spec, 10 * DAY, rng());
        let trip = c.next[Slot::Future as usize];
        c.rates[3] = 0.0;
        c.advance(trip + 1);
        c.next[Slot::Reset as usize] = trip + 100_000;
        c.due = c.due.min(trip + 100_000);
        c.advance(trip + 700_000);
        // Reset to the epoch at trip + 100 s, then no step back by the trip's hour.
        let want = -((trip + 100_000) as f64) / 1000.0;
        assert_eq!(c.offset(), want);
    }

    #[test]
    fn a_token_in_service_keeps_aging_from_its_birth() {
        // Aging 2 ppm at one year; a token born two years before the start gains over the
        // next 30 days G(2y + 30d) - G(2y), far less than a new token's G(30d).
        let mut spec = ClockSpec::ideal();
        spec.aging_ppm_first_year = Dist::Fixed(2.0);
        let tau = 30.0 * 86_400.0;
        let scale = 2e-6 / (YEAR_S / tau).ln_1p();
        let g = |a: f64| scale * ((tau + a) * (a / tau).ln_1p() - a);
        let (two_years, month) = (2.0 * YEAR_S, 30.0 * 86_400.0);
        let start = (two_years * 1000.0) as Millis;
        let mut old = Clock::in_service(&spec, 0, start, rng());
        old.advance(start + 30 * DAY);
        let want = g(two_years + month) - g(two_years);
        assert!(
            (old.offset() - want).abs() < 1e-9,
            "{} vs {want}",
            old.offset()
        );
        let mut new = Clock::in_service(&spec, start, start, rng());
        new.advance(start + 30 * DAY);
        assert!((new.offset() - g(month)).abs() < 1e-9, "{}", new.offset());
        // The old crystal runs at its two-year frequency from the start.
        let fresh = Clock::in_service(&spec, 0, start, rng());
        let rate = scale * (two_years / tau).ln_1p();
        assert!(
            (fresh.rate_at_t - rate).abs() < 1e-15,
            "{}",
            fresh.rate_at_t
        );
    }
}
