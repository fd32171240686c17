//! A validator cluster as one user's requests meet it: the node the balancer gives each
//! request, each node's copy of the credential's state and the writes in flight between nodes
//! (last writer wins), and what the nodes' disagreement shows (codes accepted twice, locks one
//! node holds and another does not).
//!
//! Replication is modelled as a database that replicates whole rows asynchronously: a node
//! that decides a request writes the credential's row; each other node receives that row after
//! its own lag and keeps it if it is newer than the row it holds (by the time it was written),
//! so concurrent writes lose one another's changes as they do under row-based replication. A
//! lag of exactly 0 is one shared database: one state for all nodes, nothing in flight.

use super::{decide, Life};
use crate::metrics::{Counts, NodeCounts};
use crate::rng::{behaviour_at, stream, LoginRng, Purpose};
use crate::scenario::{Cluster, Replication, Routing};
use crate::time::Millis;
use crate::validator::schedule::Schedule;
use crate::validator::CredentialState;
use crate::validator::{Decision, Verdict};
use rand::{Rng as _, RngCore as _};

/// One node's copy of the state: where the row it holds is (`Nodes::states`; stale for the
/// serving node, whose copy is the credential's own), the version of that row and the state
/// actions applied to it.
#[derive(Clone)]
struct Copy {
    slot: usize,
    /// When the row it holds was written (an action is a write at its instant) ...
    written: Millis,
    /// ... and which write it was: equal versions are equal states.
    version: u64,
    action: usize,
}

/// A row written by a node, kept until every node it was sent to has received it (its slot
/// then takes the next write, keeping its buffers).
#[derive(Default)]
struct Write {
    st: CredentialState,
    written: Millis,
    version: u64,
    action: usize,
    /// Rows of it still on their way.
    pending: usize,
}

/// A write on its way to a node.
struct Row {
    arrive: Millis,
    to: usize,
    write: usize,
}

/// How many recent acceptances are remembered to tell a code accepted twice.
const RECENT: usize = 8;

pub(super) struct Nodes<'a> {
    cl: &'a Cluster,
    /// The node that served the last request: its copy of the state is the credential's.
    pub current: usize,
    copies: Vec<Copy>,
    /// The rows the nodes hold, by `Copy::slot`: switching the serving node swaps one row with
    /// the credential's and exchanges two slot numbers.
    states: Vec<CredentialState>,
    flight: Vec<Row>,
    writes: Vec<Write>,
    /// Lag 0: one state for every node (only `copies[0]`'s version and action index are used).
    shared: bool,
    /// Every node keeps the same time all along.
    same_clocks: bool,
    /// Routing and lag draws: a SplitMix generator keyed by the user's `Route` stream (a draw
    /// or three per request; ChaCha's blocks cost more than they bought).
    rng: LoginRng,
    turn: usize,
    home: usize,
    next_version: u64,
    /// The last acceptances: (matched step, node).
    accepted: Vec<(i64, usize)>,
    /// A copy of another node's state to decide on without changing it, and those decisions.
    pub scratch: CredentialState,
    pub verdicts: Vec<crate::validator::Verdict>,
    /// This user's code attempts by bucket and node (bucket-major).
    pub counts: Vec<NodeCounts>,
}

impl<'a> Nodes<'a> {
    pub fn new(
        cl: &'a Cluster,
        s: &Schedule,
        seed: u64,
        user: u64,
        st: &CredentialState,
        buckets: usize,
    ) -> Nodes<'a> {
        let n = cl.nodes.len();
        let shared = cl.shares_state();
        let mut me = Nodes {
            cl,
            current: 0,
            copies: Vec::new(),
            states: Vec::new(),
            flight: Vec::new(),
            writes: Vec::new(),
            shared,
            same_clocks: (1..n).all(|k| s.same_clock(0, k)),
            rng: behaviour_at(stream(seed, user, Purpose::Route).next_u64(), 0),
            turn: (user % n as u64) as usize,
            home: (user % n as u64) as usize,
            next_version: 0,
            accepted: Vec::new(),
            scratch: CredentialState::default(),
            verdicts: Vec::new(),
            counts: vec![NodeCounts::default(); buckets * n],
        };
        me.enrol(st, 0);
        me
    }

    /// A new credential on every node, the state actions before `due` behind it: nothing in
    /// flight, no acceptances.
    pub fn enrol(&mut self, st: &CredentialState, due: usize) {
        let copies = if self.shared { 1 } else { self.cl.nodes.len() };
        self.copies = (0..copies)
            .map(|slot| Copy {
                slot,
                written: st.last_success,
                version: 0,
                action: due,
            })
            .collect();
        self.states = vec![st.clone(); copies];
        self.next_version = 1;
        self.flight.clear();
        self.writes.iter_mut().for_each(|w| w.pending = 0);
        self.accepted.clear();
    }

    /// The node the balancer gives a request at `t`, among those in service.
    fn route(&mut self, t: Millis) -> usize {
        let n = self.cl.nodes.len();
        if n == 1 {
            return 0;
        }
        let up = |k: usize| self.cl.up(k, t);
        // The first node in service from `from` on, in order (some node always is).
        let from = |k: usize| (0..n).map(|i| (k + i) % n).find(|&j| up(j)).unwrap_or(0);
        match self.cl.routing {
            Routing::Failover => from(0),
            Routing::Sticky => from(self.home),
            Routing::RoundRobin => {
                let k = from(self.turn);
                self.turn = (k + 1) % n;
                k
            }
            Routing::Random => {
                let ups = (0..n).filter(|&k| up(k)).count();
                let pick = self.rng.random_range(0..ups);
                (0..n).filter(|&k| up(k)).nth(pick).unwrap_or(0)
            }
        }
    }

    /// Node `k`'s copy: the credential's own for the serving node (and for all, shared).
    pub fn state<'s>(&'s self, k: usize, own: &'s CredentialState) -> &'s CredentialState {
        if self.shared || k == self.current {
            own
        } else {
            &self.states[self.copies[k].slot]
        }
    }

    /// The version of the row node `k` holds.
    pub fn version(&self, k: usize) -> u64 {
        self.copies[if self.shared { 0 } else { k }].version
    }

    /// Applies the state actions due by `t` to node `k`'s copy: each is a write at its
    /// instant on every node (an administrator's reset reaches them all).
    fn actions(&mut self, s: &Schedule, k: usize, t: Millis, own: &mut CredentialState) {
        let mine = self.shared || k == self.current;
        let c = &mut self.copies[if self.shared { 0 } else { k }];
        if s.actions.get(c.action).is_none_or(|a| a.0 > t) {
            return;
        }
        let st = if mine { own } else { &mut self.states[c.slot] };
        c.action = s.apply_actions(c.action, t, st);
        c.written = c.written.max(s.actions[c.action - 1].0);
        c.version = self.next_version;
        self.next_version += 1;
    }

    /// Brings every node's copy to `t` (state actions, rows arrived in time order), routes the
    /// request and makes the serving node's copy the credential's own. Returns the node.
    pub fn serve(&mut self, s: &Schedule, t: Millis, own: &mut CredentialState) -> usize {
        if self.flight.iter().any(|r| r.arrive <= t) {
            let mut flight = std::mem::take(&mut self.flight);
            flight.sort_by_key(|r| r.arrive);
            let arrived = flight.partition_point(|r| r.arrive <= t);
            for r in flight.drain(..arrived) {
                self.actions(s, r.to, r.arrive, own);
                let serving = r.to == self.current;
                let w = &mut self.writes[r.write];
                w.pending -= 1;
                let c = &mut self.copies[r.to];
                // Last writer wins; a tie goes to the row that arrives last.
                if w.written >= c.written {
                    if serving {
                        own.clone_from(&w.st);
                    } else {
                        self.states[c.slot].clone_from(&w.st);
                    }
                    c.written = w.written;
                    c.version = w.version;
                    c.action = w.action;
                }
            }
            self.flight = flight;
        }
        if !s.actions.is_empty() {
            for k in 0..self.copies.len() {
                self.actions(s, k, t, own);
            }
        }
        let k = self.route(t);
        if !self.shared && k != self.current {
            // Node k's row becomes the credential's; the serving one's takes k's slot.
            let (mine, theirs) = (self.copies[self.current].slot, self.copies[k].slot);
            std::mem::swap(own, &mut self.states[theirs]);
            self.copies[self.current].slot = theirs;
            self.copies[k].slot = mine;
        }
        self.current = k;
        k
    }

    /// The serving node wrote the credential's row at `t` (every decided request does): it
    /// replicates to the others.
    pub fn wrote(&mut self, t: Millis, own: &CredentialState) {
        let version = self.next_version;
        self.next_version += 1;
        let k = if self.shared { 0 } else { self.current };
        let c = &mut self.copies[k];
        c.written = t;
        c.version = version;
        let action = c.action;
        let Replication::Lag(lag) = &self.cl.replication else {
            return;
        };
        if self.shared {
            return;
        }
        // Each node receives the row after its own lag; a row written earlier that would
        // arrive after this one is discarded on arrival anyway (last writer wins): dropped now.
        let w = match self.writes.iter().position(|w| w.pending == 0) {
            Some(w) => w,
            None => {
                self.writes.push(Write::default());
                self.writes.len() - 1
            }
        };
        let slot = &mut self.writes[w];
        slot.st.clone_from(own);
        (slot.written, slot.version, slot.action) = (t, version, action);
        for j in 0..self.cl.nodes.len() {
            if j == k {
                continue;
            }
            let arrive = t + crate::time::ms_of_s(lag.sample(&mut self.rng).max(0.0));
            let writes = &mut self.writes;
            self.flight.retain(|r| {
                let superseded = r.to == j && r.arrive >= arrive;
                if superseded {
                    writes[r.write].pending -= 1;
                }
                !superseded
            });
            self.writes[w].pending += 1;
            self.flight.push(Row {
                arrive,
                to: j,
                write: w,
            });
        }
    }

    pub fn len(&self) -> usize {
        self.cl.nodes.len()
    }

    /// Node `j`, in service at `t` and not serving, could decide otherwise than the serving
    /// node: it holds another row, or keeps another time.
    pub fn could_differ(&self, j: usize, t: Millis) -> bool {
        let k = self.current;
        j != k && (self.version(j) != self.version(k) || !self.same_clocks) && self.cl.up(j, t)
    }

    /// Node `node` accepted the code of `step`: true if another node accepted it already.
    pub fn accepted(&mut self, step: i64, node: usize) -> bool {
        let twice = self.accepted.iter().any(|&(s, k)| s == step && k != node);
        if self.accepted.len() == RECENT {
            self.accepted.remove(0);
        }
        self.accepted.push((step, node));
        twice
    }
}

impl Nodes<'_> {
    /// A user's code attempt in bucket `b`, decided by the serving node.
    pub fn count(&mut self, b: usize, accepted: bool) {
        let c = &mut self.counts[b * self.cl.nodes.len() + self.current];
        c.attempts += 1;
        c.accepted += accepted as u64;
    }
}

/// Every request goes through these: the validator that serves it brought to its instant,
/// its decision, and on a cluster the write that replicates.
impl Life<'_> {
    /// Brings the validator that decides a request at `t` to it: the configuration and clock
    /// in force and the credential's state (on a cluster, of the node the balancer picks,
    /// with what has replicated to it).
    pub(super) fn serve(&mut self, t: Millis) {
        match self.nodes.as_mut() {
            None => self.v.advance(self.schedule, t, &mut self.cred.vstate),
            Some(n) => {
                let k = n.serve(self.schedule, t, &mut self.cred.vstate);
                self.v.configure(self.schedule, t, Some(k));
            }
        }
    }

    /// The served node wrote the credential's state at `t` (a sync, an unlock): it replicates.
    pub(super) fn wrote(&mut self, t: Millis) {
        if let Some(n) = self.nodes.as_mut() {
            n.wrote(t, &self.cred.vstate);
        }
    }

    /// The served validator decides `code` at `t`. On a cluster the write replicates, and the
    /// decision is compared with those the other nodes in service would have made (on copies
    /// of their state, before this one changes a shared state), counted in `c`.
    pub(super) fn decide_served(&mut self, t: Millis, code: u32, c: &mut Counts) -> Decision {
        let Some(mut n) = self.nodes.take() else {
            let cr = &mut self.cred;
            return decide(
                &self.v.config,
                &mut cr.vstate,
                self.scheme,
                t,
                code,
                &mut cr.token,
            );
        };
        let here = n.current;
        let locked = self.cred.vstate.is_locked(t);
        let served_offset = self.v.config.server_offset_s;
        let (mut split, mut verdicts) = (false, std::mem::take(&mut n.verdicts));
        let mut scratch = std::mem::take(&mut n.scratch);
        verdicts.clear();
        let steps = self.v.config.steps_at(&self.cred.vstate, self.scheme, t);
        for j in 0..n.len() {
            if !n.could_differ(j, t) {
                continue;
            }
            self.v.config.server_offset_s = self.v.offset_on(self.schedule, t, Some(j));
            let same_row = n.version(j) == n.version(here);
            // One row, and this instant in the same steps on both clocks: the same verdict.
            if same_row && self.v.config.steps_at(&self.cred.vstate, self.scheme, t) == steps {
                continue;
            }
            let st = n.state(j, &self.cred.vstate);
            split |= st.is_locked(t) != locked;
            scratch.clone_from(st);
            let cr = &mut self.cred;
            let dj = decide(
                &self.v.config,
                &mut scratch,
                self.scheme,
                t,
                code,
                &mut cr.token,
            );
            verdicts.push(dj.verdict);
        }
        self.v.config.server_offset_s = served_offset;
        let cr = &mut self.cred;
        let d = decide(
            &self.v.config,
            &mut cr.vstate,
            self.scheme,
            t,
            code,
            &mut cr.token,
        );
        c.decisions_differing_by_node += verdicts.iter().any(|v| *v != d.verdict) as u64;
        c.lock_split_requests += split as u64;
        // One shared state accepts a step twice only as one validator would (after a
        // re-enrolment, say): that is no node's doing.
        if let (Verdict::Accepted, Some(m), false) = (d.verdict, d.matched, n.shared) {
            c.accepted_twice_across_nodes += n.accepted(m, here) as u64;
        }
        n.wrote(t, &self.cred.vstate);
        n.verdicts = verdicts;
        n.scratch = scratch;
        self.nodes = Some(n);
        d
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    /// Two nodes, random routing, replication after a lag L; every login's code is accepted
    /// and sent again after a delay D with probability q. The copy is accepted again exactly
    /// when it goes to the other node (1/2) before the first node's row reaches it (D < L):
    /// the share of resubmissions accepted twice is P = 1/2 · P(D < L) (docs/cluster.md).
    #[test]
    fn resubmissions_accepted_twice_follow_the_closed_form() {
        // (lag law, delay law, P(D < L))
        let cases = [
            // L = 2 s, D uniform on 0-4 s: P(D < L) = 1/2.
            (
                "\"2s\"",
                "{ dist = \"uniform\", min = \"0s\", max = \"4s\" }",
                0.5,
            ),
            // L exponential with mean 1 s, D = 1 s: P(L > 1 s) = e^-1.
            (
                "{ dist = \"exponential\", mean = \"1s\" }",
                "\"1s\"",
                (-1.0f64).exp(),
            ),
            // L = 0.5 s, D = 3 s: never.
            ("\"500ms\"", "\"3s\"", 0.0),
        ];
        for (lag, delay, p_before) in cases {
            let text = format!(
                "[run]\nhorizon = \"30d\"\ntokens = 300\nseed = 11\ndecide = \"fast\"\n\
                 [validator]\nwindow = {{ back = 1, ahead = 1 }}\ndrift = \"none\"\nreplay = \"time_forward\"\n\
                 lockout = {{ max_failures = 0 }}\n\
                 [validator.cluster]\nnodes = [{{ name = \"a\" }}, {{ name = \"b\" }}]\nrouting = \"random\"\n\
                 replication = {{ lag = {lag} }}\n\
                 [[population]]\ntoken = {{ kind = \"phone\" }}\n\
                 clock = {{ profile = \"ideal\", initial_offset = \"0s\" }}\nbattery = {{ enabled = false }}\n\
                 user = {{ logins_per_day = 2, typo_probability = 0, delay = \"1s\", \
                 resubmit_probability = 0.5, resubmit_delay = {delay} }}\n"
            );
            let sc = Scenario::from_toml("closed.toml", &text).unwrap();
            let r = crate::sim::run(&sc, 0..sc.run.tokens, &|_| {});
            let c = r.tally.all().total;
            let n = c.resubmissions as f64;
            assert!(n > 4000.0, "{n} resubmissions");
            // The first code of a login is accepted but for the rare login within the same
            // step as the last (a replay).
            assert!(c.rejected_replay * 200 < c.logins, "{c:?}");
            let want = 0.5 * p_before;
            let got = c.accepted_twice_across_nodes as f64 / n;
            let sd = (want * (1.0 - want) / n).sqrt();
            assert!(
                (got - want).abs() <= 4.0 * sd + 0.001,
                "lag {lag}, delay {delay}: {got:.4} accepted twice, {want:.4} expected (sd {sd:.4})"
            );
        }
    }
}
