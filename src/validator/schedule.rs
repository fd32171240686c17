//! The validator side over time (a scenario's `[[timeline]]`): the configuration in force from
//! each instant, what happens to every credential's state at an instant (learned drift
//! forgotten, a migration that carries no state), and the server clock's offset from true time
//! (steps, drift while NTP is lost, a stepped or slewed return).

use super::{CredentialState, ValidatorConfig};
use crate::time::Millis;

/// What an event does to each credential's state, applied before the first request the
/// validator decides at or after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateAction {
    /// Learned drift and replay memory forgotten (an administrator's reset); failures and
    /// locks kept.
    ForgetDrift,
    /// A new validator that carries nothing: the credential as if enrolled then.
    Reenrol,
}

/// A change of the server clock at an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockChange {
    /// The clock steps by this many milliseconds (positive: ahead).
    Step(f64),
    /// It runs fast by `ppm` (negative: slow) until `until` (NTP lost).
    Drift { ppm: f64, until: Millis },
    /// It returns to true time: at once, or slewed at `slew_ppm` (ntpd slews at most 500 ppm).
    Return { slew_ppm: Option<f64> },
}

/// From `at` on, the offset is `offset_ms` plus `rate` times the time since.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knot {
    pub at: Millis,
    pub offset_ms: f64,
    pub rate: f64,
}

/// The server clock's offset from true time: piecewise linear, 0 before the first knot.
pub fn offset_at(knots: &[Knot], t: Millis) -> f64 {
    let i = knots.partition_point(|k| k.at <= t);
    match i {
        0 => 0.0,
        _ => {
            let k = knots[i - 1];
            k.offset_ms + k.rate * (t - k.at) as f64
        }
    }
}

/// The knots of a sequence of clock changes (in any order; applied in time order).
pub fn clock_path(changes: &[(Millis, ClockChange)]) -> Vec<Knot> {
    #[derive(Clone, Copy)]
    enum Op {
        Add(f64),
        Rate(f64),
        Zero,
        Slew(f64),
    }
    let mut ops: Vec<(Millis, usize, Op)> = Vec::new();
    for (i, (at, c)) in changes.iter().enumerate() {
        match *c {
            ClockChange::Step(d) => ops.push((*at, 2 * i, Op::Add(d))),
            ClockChange::Drift { ppm, until } => {
                ops.push((*at, 2 * i, Op::Rate(ppm * 1e-6)));
                ops.push((until, 2 * i + 1, Op::Rate(0.0)));
            }
            ClockChange::Return { slew_ppm: None } => ops.push((*at, 2 * i, Op::Zero)),
            ClockChange::Return {
                slew_ppm: Some(ppm),
            } => ops.push((*at, 2 * i, Op::Slew(ppm * 1e-6))),
        }
    }
    ops.sort_by_key(|o| (o.0, o.1));
    let mut knots: Vec<Knot> = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        let (at, seq, op) = ops[i];
        let now = offset_at(&knots, at);
        let rate = knots.last().map_or(0.0, |k| k.rate);
        let knot = match op {
            Op::Add(d) => Knot {
                at,
                offset_ms: now + d,
                rate,
            },
            Op::Rate(r) => Knot {
                at,
                offset_ms: now,
                rate: r,
            },
            Op::Zero => Knot {
                at,
                offset_ms: 0.0,
                rate: 0.0,
            },
            Op::Slew(r) if now != 0.0 && r > 0.0 => {
                let end = at + (now.abs() / r).ceil() as Millis;
                let rest = ops.split_off(i + 1);
                ops.push((end, seq, Op::Zero));
                ops.extend(rest);
                ops[i + 1..].sort_by_key(|o| (o.0, o.1));
                Knot {
                    at,
                    offset_ms: now,
                    rate: -r * now.signum(),
                }
            }
            Op::Slew(_) => Knot {
                at,
                offset_ms: now,
                rate: 0.0,
            },
        };
        // Two changes at one instant: the later one is the knot.
        if knots.last().is_some_and(|k| k.at == at) {
            knots.pop();
        }
        knots.push(knot);
        i += 1;
    }
    knots
}

/// One population's validator over the run: the configuration from each change on, the state
/// actions, and the server clock. Empty: the scenario's `[validator]` all along.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    /// Configurations from an instant on, in time order (the first one in force from the start
    /// is the scenario's `[validator]`).
    pub segments: Vec<(Millis, ValidatorConfig)>,
    pub actions: Vec<(Millis, StateAction)>,
    /// The server clock's path, on top of each configuration's constant `server_offset`.
    pub clock: Vec<Knot>,
    /// A cluster's nodes: each one's clock path (its own offset and drift, the site's changes
    /// and its own), in place of `clock`. Empty: every node on `clock`.
    pub nodes: Vec<Vec<Knot>>,
}

impl Schedule {
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
            && self.actions.is_empty()
            && self.clock.is_empty()
            && self.nodes.is_empty()
    }

    /// The clock path of node `node` (None: a single validator).
    fn clock_of(&self, node: Option<usize>) -> &[Knot] {
        match node {
            Some(k) if !self.nodes.is_empty() => &self.nodes[k],
            _ => &self.clock,
        }
    }

    /// Node `a` and node `b` keep the same time all along.
    pub fn same_clock(&self, a: usize, b: usize) -> bool {
        self.clock_of(Some(a)) == self.clock_of(Some(b))
    }

    /// Applies to `st` the state actions from index `from` up to `now`; returns the index of
    /// the first not yet due. Each copy of a credential's state keeps its own index.
    pub fn apply_actions(&self, mut from: usize, now: Millis, st: &mut CredentialState) -> usize {
        while let Some((at, a)) = self.actions.get(from) {
            if *at > now {
                break;
            }
            match a {
                StateAction::ForgetDrift => st.forget_drift(),
                StateAction::Reenrol => *st = CredentialState::enrolled(*at),
            }
            from += 1;
        }
        from
    }

    /// The state actions due at or before `t`.
    pub fn actions_due(&self, t: Millis) -> usize {
        self.actions.partition_point(|a| a.0 <= t)
    }
}

/// A credential's view of a schedule as time goes on: the configuration in force and the
/// actions not yet applied.
#[derive(Clone, Debug)]
pub struct Cursor {
    /// The configuration in force, its `server_offset_s` set for the time last asked.
    pub config: ValidatorConfig,
    base_offset_s: f64,
    segment: usize,
    action: usize,
}

impl Cursor {
    pub fn new(first: &ValidatorConfig) -> Cursor {
        Cursor {
            config: first.clone(),
            base_offset_s: first.server_offset_s,
            segment: 0,
            action: 0,
        }
    }

    /// Brings the configuration and `st` to `now`: every change and action at or before it.
    /// Requests come in time order, so each applies once.
    pub fn advance(&mut self, s: &Schedule, now: Millis, st: &mut CredentialState) {
        self.configure(s, now, None);
        self.action = s.apply_actions(self.action, now, st);
    }

    /// Brings the configuration to `now` on node `node`'s clock (None: a single validator),
    /// leaving the state actions to each copy of the state.
    pub fn configure(&mut self, s: &Schedule, now: Millis, node: Option<usize>) {
        while let Some((at, cfg)) = s.segments.get(self.segment) {
            if *at > now {
                break;
            }
            self.config = cfg.clone();
            self.base_offset_s = cfg.server_offset_s;
            self.segment += 1;
        }
        if node.is_some() || !s.clock.is_empty() {
            self.config.server_offset_s = self.offset_on(s, now, node);
        }
    }

    /// The server offset, seconds, of node `node` (None: a single validator) at `now`.
    pub fn offset_on(&self, s: &Schedule, now: Millis, node: Option<usize>) -> f64 {
        self.base_offset_s + offset_at(s.clock_of(node), now) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Millis = 3_600_000;

    #[test]
    fn a_lost_ntp_month_then_a_step_back_and_a_slewed_return() {
        let day = 24 * H;
        // 20 ppm fast for 30 days: 30 * 86400 s * 20e-6 = 51.84 s ahead, stepped back to 0.
        let k = clock_path(&[
            (
                10 * day,
                ClockChange::Drift {
                    ppm: 20.0,
                    until: 40 * day,
                },
            ),
            (50 * day, ClockChange::Return { slew_ppm: None }),
        ]);
        assert_eq!(offset_at(&k, 10 * day), 0.0);
        assert!((offset_at(&k, 40 * day) - 51_840.0).abs() < 1e-6);
        assert!((offset_at(&k, 45 * day) - 51_840.0).abs() < 1e-6);
        assert_eq!(offset_at(&k, 50 * day), 0.0);
        // A 2 h step, slewed back at 500 ppm: 7200 s / 500e-6 = 14.4e6 s = 166.7 days.
        let k = clock_path(&[
            (0, ClockChange::Step(2.0 * H as f64)),
            (
                day,
                ClockChange::Return {
                    slew_ppm: Some(500.0),
                },
            ),
        ]);
        assert_eq!(offset_at(&k, day), 2.0 * H as f64);
        assert!(
            (offset_at(&k, day + 100 * day) - (7_200_000.0 - 0.0005 * 100.0 * day as f64)).abs()
                < 1e-3
        );
        let end = day + 14_400_000_000;
        assert!(offset_at(&k, end).abs() < 1.0);
        assert_eq!(offset_at(&k, end + day), 0.0);
    }
}
