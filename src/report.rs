//! report.md: what a person reads first. The scenario in one paragraph, key figures, the
//! warnings worth acting on, and the charts. Built from the loaded results ([`RunData`],
//! [`SweepData`]), like the charts, so `otpdrift plot` rewrites it from the CSV alone.

pub mod analyze;
pub mod forecast;
pub mod probe;

use crate::chart::Figure;
use crate::dist::format_seconds;
use crate::metrics::wilson95;
use crate::results::cells::get;
use crate::results::cells::thousands;
use crate::results::{RunData, SweepData};
use crate::time::{format_duration, format_rfc3339, YEAR_S};
use crate::validator::{DriftLearning, Replay};
use std::fmt::Write;

/// A twin's credential more likely than not to leave the window is at risk.
pub const AT_RISK: f64 = 0.5;

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), crate::results::cells::percent)
}

fn date(t: crate::time::Millis) -> String {
    format_rfc3339(t)[..10].to_string()
}

fn validator_sentence(d: &RunData) -> String {
    let v = &d.scenario.validator;
    let drift = match v.drift {
        DriftLearning::None => "no drift learning".to_string(),
        DriftLearning::Steps => "drift learned in whole steps on every success".to_string(),
        DriftLearning::Seconds => "drift learned in seconds on every success".to_string(),
        DriftLearning::Explicit => "drift learned only by explicit sync".to_string(),
        DriftLearning::Consistent { k, search } => {
            format!("skew adopted after {k} consistent codes within ±{search} steps")
        }
    };
    let replay = match v.replay {
        Replay::None => "no replay rule",
        Replay::ExactSteps => "used steps refused",
        Replay::TimeForward => "time-forward replay rule",
        Replay::LastCode => "the last code and earlier steps refused",
    };
    let lockout = match v.lockout {
        None => "no lockout".to_string(),
        Some(l) => format!(
            "lockout after {} failures, {}",
            l.max_failures,
            l.unlock_after_s
                .map_or("until the helpdesk unlocks".into(), |s| format!(
                    "unlocked after {}",
                    format_seconds(s)
                ))
        ),
    };
    let sync = v.sync.map_or("no sync procedure".to_string(), |s| {
        format!("sync with {} codes within ±{} steps", s.codes, s.window)
    });
    // Every other rule the validator has, so the sentence never reads "no lockout" for a
    // validator that throttles or accepts a wider band.
    let mut more = Vec::new();
    if let Some(t) = v.throttle {
        more.push(format!(
            "throttling: {}·2^(n-1) after the n-th failure",
            format_seconds(t.factor_s)
        ));
    }
    if let Some(r) = v.rate_limit {
        more.push(format!(
            "rate limit {} attempts per {}",
            r.attempts,
            format_seconds(r.per_s)
        ));
    }
    if let Some(b) = v.brute_force {
        more.push(format!(
            "brute-force waits after {} failures, up to {}",
            b.failures,
            format_seconds(b.max_wait_s)
        ));
    }
    if let Some(a) = v.auto_sync {
        more.push(format!("auto-sync band ±{a} steps accepted and re-synced"));
    }
    if let Some(b) = v.sync_band {
        more.push(format!("manual-sync band ±{b} steps (two codes)"));
    }
    if let Some(a) = v.auto_resync {
        more.push(format!("automatic resync within ±{} steps", a.window));
    }
    if let Some(n) = v.next_code {
        more.push(format!("next-code challenge within ±{} steps", n.window));
    }
    if let Some(w) = v.idle_widening {
        more.push(format!(
            "window widened by {} steps a day idle, up to {}",
            w.steps_per_day, w.max_extra
        ));
    }
    if let Some(w) = v.initial_window {
        more.push(format!("±{w} steps until the first success"));
    }
    if let Some(d) = v.delay {
        more.push(format!(
            "after {} failures, attempts within {} of the last refused uncounted",
            d.after,
            format_duration(d.wait_s)
        ));
    }
    let more: String = more.iter().map(|m| format!("; {m}")).collect();
    let window = match v.tolerance {
        Some(t) => format!(
            "window {} back, {} ahead in time (every step an instant of that span falls in)",
            format_duration(t.past_s),
            format_duration(t.future_s)
        ),
        None => format!(
            "window {} step{} back, {} ahead",
            v.window_back,
            if v.window_back == 1 { "" } else { "s" },
            v.window_ahead
        ),
    };
    format!(
        "the `{}` validator ({window}; {drift}; {replay}; {lockout}; {sync}{more})",
        v.preset.as_deref().unwrap_or("custom"),
    )
}

/// The report's Markdown.
pub fn render(d: &RunData, png: bool) -> String {
    let sc = &d.scenario;
    let run = &sc.run;
    let sizes = d.population_sizes();
    let mut out = String::new();
    let _ = writeln!(out, "# otpdrift report: {}\n", run.name);
    let mix: Vec<String> = sc
        .populations
        .iter()
        .zip(&sizes)
        .map(|(p, n)| {
            format!(
                "{} `{}` ({}, {:.0}%)",
                thousands(*n as f64),
                p.name,
                p.token.kind,
                p.share * 100.0
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "**Scenario.** {} users with one-time-code tokens — {} — simulated from {} to {} ({}) against {}. Seed {}; every figure below reproduces from the same scenario and seed.\n",
        thousands(run.tokens as f64),
        mix.join(", "),
        date(run.start),
        date(run.end()),
        format_duration(run.horizon_s),
        validator_sentence(d),
        run.seed
    );

    if let Some(f) = &d.forecast {
        forecast::section(&mut out, d, f);
    }

    let _ = writeln!(out, "## Key figures\n");
    let _ = writeln!(
        out,
        "| population | users | logins | first-try acceptance | login success | incidents per 1,000 logins | tickets per 100 users a year | lockouts | token deaths | p99 clock error at login |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let years = (run.end() - run.start) as f64 / 1000.0 / YEAR_S;
    for name in &d.names {
        if name == "all" && d.populations() == 1 {
            continue;
        }
        let row = d.summary_of(name).cloned().unwrap_or_default();
        let c = &row.counts;
        let logins = c.logins as f64;
        let users = row.tokens as f64;
        let per_k = |x: u64| {
            if logins > 0.0 {
                format!("{:.2}", x as f64 / logins * 1000.0)
            } else {
                "–".into()
            }
        };
        let tickets = if users > 0.0 && years > 0.0 {
            format!("{:.1}", c.tickets as f64 / users / years * 100.0)
        } else {
            "–".into()
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {tickets} | {} | {} | {} |",
            thousands(users),
            thousands(logins),
            pct(get(c.first_try_acceptance_rate)),
            pct(get(c.login_success_rate)),
            per_k(c.incidents),
            thousands(c.lockouts as f64),
            thousands((c.deaths_battery + c.deaths_expired) as f64),
            get(row.offsets.offset_s_p99).map_or("–".into(), format_duration),
        );
    }

    if !sc.timeline.is_empty() {
        let _ = writeln!(out, "\n## The timeline\n");
        let _ = writeln!(
            out,
            "What each event of the validator side did: first-try failures and lockouts per 1,000 logins in the last whole bucket before it and the first whole bucket after it.\n"
        );
        for line in timeline_lines(d) {
            let _ = writeln!(out, "- {line}");
        }
    }

    if let Some(cl) = &sc.cluster {
        cluster_section(&mut out, d, cl);
    }

    let _ = writeln!(out, "\n## Warnings\n");
    let warnings = warnings(d);
    if warnings.is_empty() {
        let _ = writeln!(out, "Nothing crossed a warning threshold (first-try acceptance below 95%, login success below 99%, more than 1% of clocks outside the window at the end, lockouts, tickets, deaths, sync replays, false accepts).");
    }
    for w in &warnings {
        let _ = writeln!(out, "- {w}");
    }

    let _ = writeln!(out, "\n## Charts\n");
    for &fig in Figure::of(d.forecast.is_some()) {
        let ext = if png { "png" } else { "svg" };
        let _ = writeln!(
            out,
            "### {}\n\n![{}]({}.{ext})\n",
            fig.title(),
            fig.title(),
            fig.stem()
        );
    }
    let _ = writeln!(
        out,
        "## Files\n\n`summary.csv` (per population and `all`), `timeseries.csv` (per time bucket), `lifetime.csv` (tokens alive, deaths, replacements), `tokens.csv` (per credential), `manifest.json` (the resolved scenario, seed, timings). Column meanings are in the otpdrift README."
    );
    out
}

/// What a timeline event is, in words.
fn event_words(a: &crate::scenario::TimelineAction) -> String {
    use crate::scenario::TimelineAction;
    use crate::validator::schedule::ClockChange;
    match a {
        TimelineAction::Set(v) => format!(
            "the validator's settings changed (window {} back, {} ahead; lockout {})",
            v.window_back,
            v.window_ahead,
            v.lockout
                .map_or("none".to_string(), |l| format!("after {}", l.max_failures))
        ),
        TimelineAction::ResetDrift => "the learned drift was reset".into(),
        TimelineAction::Migrate { to, carry } => format!(
            "the migration to `{}` ({})",
            to.preset.as_deref().unwrap_or("a [validator] table"),
            if *carry {
                "learned drift and used steps carried"
            } else {
                "every credential re-enrolled"
            }
        ),
        TimelineAction::ServerClock { change, node } => {
            let whose = match node {
                Some(n) => format!("node {n}'s clock"),
                None => "the server clock".into(),
            };
            match change {
                ClockChange::Step(ms) => format!("{whose}'s step of {:+.0} s", ms / 1000.0),
                ClockChange::Drift { ppm, until } => {
                    format!("{whose}'s drift of {ppm} ppm until {}", date(*until))
                }
                ClockChange::Return { slew_ppm: None } => {
                    format!("{whose}'s step back to true time")
                }
                ClockChange::Return { slew_ppm: Some(r) } => {
                    format!("{whose}'s slew back to true time at {r} ppm")
                }
            }
        }
        TimelineAction::Outage { node, until } => {
            format!("node {node}'s outage until {}", date(*until))
        }
    }
}

/// The cluster: who decided what, and what the nodes' disagreement cost (docs/cluster.md).
fn cluster_section(out: &mut String, d: &RunData, cl: &crate::scenario::Cluster) {
    use crate::scenario::Replication;
    let per = cl.nodes.len();
    let replication = match &cl.replication {
        _ if cl.shares_state() => "one shared state (lag 0)".to_string(),
        Replication::None => "none: each node keeps its own state".to_string(),
        Replication::Lag(l) => format!(
            "of rows after a lag of {} on average",
            format_duration(l.mean())
        ),
    };
    let _ = writeln!(out, "\n## The cluster\n");
    let _ = writeln!(
        out,
        "{per} nodes, `{}` routing, replication {replication}. Users' code attempts by node (all populations, the whole run):\n",
        cl.routing.as_str()
    );
    let _ = writeln!(
        out,
        "| node | attempts | accepted | acceptance |\n|---|---:|---:|---:|"
    );
    for (k, node) in cl.nodes.iter().enumerate() {
        let (mut a, mut ok) = (0, 0);
        for pop in &d.nodes {
            for c in pop.iter().skip(k).step_by(per) {
                a += c.attempts;
                ok += c.accepted;
            }
        }
        let rate = pct(crate::metrics::ratio(ok, a));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {rate} |",
            node.name,
            thousands(a as f64),
            thousands(ok as f64)
        );
    }
    let all = &d.summary[d.names.len() - 1].counts;
    let per_1000 = |x: u64| {
        if all.attempts == 0 {
            "–".to_string()
        } else {
            format!("{:.2}", x as f64 * 1000.0 / all.attempts as f64)
        }
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "- codes accepted twice, once by each of two nodes: {} ({} resubmitted codes in all)",
        thousands(all.accepted_twice_across_nodes as f64),
        thousands(all.resubmissions as f64)
    );
    let _ = writeln!(
        out,
        "- requests another node in service would have answered otherwise: {} ({} per 1,000 attempts)",
        thousands(all.decisions_differing_by_node as f64),
        per_1000(all.decisions_differing_by_node)
    );
    let _ = writeln!(
        out,
        "- requests decided while one node held the account locked and another did not: {}",
        thousands(all.lock_split_requests as f64)
    );
    let spec = d
        .scenario
        .attack
        .clone()
        .unwrap_or(crate::attack::AttackSpec {
            guesses_per_day: 100.0,
            simulate_accounts: 0,
        });
    let e = crate::attack::exposure(&d.scenario, 0, &spec);
    let _ = writeln!(
        out,
        "- a code relayed {} s after its use (a real-time phishing relay) is accepted again with probability {} (population `{}`)",
        crate::attack::REPLAY_DELAY_S,
        pct(Some(e.replay_p_accept)),
        d.names[0]
    );
}

/// One line per timeline event and population it touched: first-try failures and lockouts
/// per 1,000 logins in the last whole bucket before it and the first whole bucket after.
fn timeline_lines(d: &RunData) -> Vec<String> {
    let sc = &d.scenario;
    let mut out = Vec::new();
    for e in &sc.timeline {
        let before = d.buckets.iter().rposition(|b| b.1 <= e.at);
        let after = d.buckets.iter().position(|b| b.0 >= e.at);
        let what = format!("{} on {}", event_words(&e.action), date(e.at));
        let (Some(b), Some(a)) = (before, after) else {
            out.push(format!("{what}: no whole time bucket on both sides of it"));
            continue;
        };
        let mut parts = Vec::new();
        for (who, name) in d.names.iter().enumerate() {
            let touched = match &e.populations {
                None => true,
                Some(ps) => ps.contains(name),
            };
            if !touched || (name == "all" && d.populations() == 1) {
                continue;
            }
            let (rb, ra) = (&d.timeseries[who][b].counts, &d.timeseries[who][a].counts);
            let fail =
                |c: &crate::results::CountCells| get(c.first_try_acceptance_rate).map(|r| 1.0 - r);
            let per_k = |c: &crate::results::CountCells| {
                if c.logins > 0 {
                    format!("{:.2}", c.lockouts as f64 / c.logins as f64 * 1000.0)
                } else {
                    "–".into()
                }
            };
            parts.push(format!(
                "`{name}` first-try failures {} → {}, lockouts per 1,000 logins {} → {}",
                pct(fail(rb)),
                pct(fail(ra)),
                per_k(rb),
                per_k(ra)
            ));
        }
        out.push(format!(
            "{what} ({} → {}): {}",
            date(d.buckets[b].0),
            date(d.buckets[a].0),
            parts.join("; ")
        ));
    }
    out
}

/// Logins a bucket needs before a dip in its first-try acceptance is reported.
const MIN_DIP_LOGINS: u64 = 100;

/// The findings a reader should see, most serious first.
pub fn warnings(d: &RunData) -> Vec<String> {
    let sc = &d.scenario;
    let mut w = Vec::new();
    let years = (sc.run.end() - sc.run.start) as f64 / 1000.0 / YEAR_S;
    for (i, p) in sc.populations.iter().enumerate() {
        let name = &p.name;
        let row = d.summary_of(name).cloned().unwrap_or_default();
        let c = &row.counts;
        if let Some(r) = get(c.login_success_rate) {
            if r < 0.99 {
                w.push(format!("**{name}: {:.1}% of logins failed for good** (after retries and the recovery ladder).", (1.0 - r) * 100.0));
            }
        }
        let rates = d.ts_col(i, |r| get(r.counts.first_try_acceptance_rate));
        let worst = rates
            .iter()
            .enumerate()
            .filter_map(|(b, r)| r.map(|r| (b, r)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((b, r)) = worst {
            // Only a dip the bucket's logins bear out: a handful of logins (often one user's
            // bad day) says little about the fleet.
            let c = &d.timeseries[i][b].counts;
            let sure = c.logins >= MIN_DIP_LOGINS
                && wilson95(c.first_try_accepted, c.logins).is_some_and(|ci| ci.1 < 0.95);
            if r < 0.95 && sure {
                w.push(format!(
                    "**{name}: first-try acceptance fell to {:.1}%** (of {} logins) in the bucket starting {}.",
                    r * 100.0,
                    thousands(c.logins as f64),
                    date(d.buckets[b].0)
                ));
            }
        }
        if p.token.kind.is_totp() {
            if let Some(line) = outside_by_year(d, i) {
                w.push(line);
            }
        }
        if p.token.kind.is_totp() && d.final_offsets[i].count > 0 {
            let edge = window_edge(d, i);
            let share = d.final_offsets[i].share_above_s(edge).unwrap_or(0.0);
            if share > 0.01 {
                w.push(format!(
                    "{name}: {:.1}% of tokens in use at the end had clocks more than {} off — past the window's edge, where most of their codes are refused unless the validator has learned their drift.",
                    share * 100.0,
                    format_duration(edge)
                ));
            }
        }
        let users = (d.population_sizes()[i] as f64).max(1.0);
        let tickets = c.tickets as f64;
        if tickets / users / years.max(1e-9) > 0.05 {
            w.push(format!(
                "{name}: {} helpdesk tickets ({} lockout, {} reinstall, {} replacement of failing tokens, {} of dead tokens), {:.1} per 100 users a year.",
                thousands(tickets),
                thousands(c.tickets_lockout as f64),
                thousands(c.tickets_reinstall as f64),
                thousands(c.tickets_replace_failing as f64),
                thousands(c.tickets_replace_dead as f64),
                tickets / users / years * 100.0
            ));
        }
        let deaths = (c.deaths_battery + c.deaths_expired) as f64;
        if deaths > 0.0 {
            let life = match (get(row.token_life_years_p10), get(row.token_life_years_p50)) {
                (Some(a), Some(b)) => {
                    format!("; 10% of tokens died within {a:.2} years, half within {b:.2}")
                }
                (Some(a), None) => format!("; 10% of tokens died within {a:.2} years"),
                _ => String::new(),
            };
            let waiting = d
                .life_col(i, |r| Some(r.users_without_token as f64))
                .into_iter()
                .flatten()
                .fold(0.0, f64::max);
            w.push(format!(
                "{name}: {} tokens died{life}; at worst {} users were without a working token at a bucket's end, and {} logins found no token.",
                thousands(deaths),
                thousands(waiting),
                thousands(c.logins_without_token as f64)
            ));
        }
        let lockouts = c.lockouts as f64;
        let logins = c.logins as f64;
        if logins > 0.0 && lockouts / logins > 0.001 {
            w.push(format!(
                "{name}: {} lockouts ({:.2} per 1,000 logins).",
                thousands(lockouts),
                lockouts / logins * 1000.0
            ));
        }
        let replays = c.resync_failed_replay as f64;
        if replays > 0.0 {
            w.push(format!(
                "{name}: {} sync attempts were refused as replays — the time-forward trap: codes from a clock that ran ahead moved the validator forward.",
                thousands(replays)
            ));
        }
        let fa = c.false_accepts as f64;
        if fa > 0.0 {
            w.push(format!("{name}: {} mistyped codes were accepted because they matched another step of the window.", thousands(fa)));
        }
    }
    w
}

/// report.md of a sweep: every setting's figures, the Pareto front and the recommendation.
pub fn render_sweep(d: &SweepData) -> String {
    let mut out = String::new();
    let run = &d.scenario.run;
    let t = &d.table;
    let lines: Vec<_> = t.all_lines().collect();
    let _ = writeln!(out, "# otpdrift sweep: {}\n", run.name);
    let user_params: Vec<String> = t.swept_user_params().map(|p| format!("`{p}`")).collect();
    let fleet = if d.same_fleet && user_params.is_empty() {
        format!("Every setting runs on the same fleet — the same clocks, login times and user behaviour (common random numbers) — so differences come from the setting, not from noise. Seed {}.", run.seed)
    } else if d.same_fleet {
        format!("Every setting runs on the same users with the same random draws (common random numbers, seed {}), but {} {} the users themselves (their clocks, logins or tokens): differences come from the setting, including what it does to the fleet, not from noise. The fleet described is the base scenario's.", run.seed, user_params.join(", "), if user_params.len() == 1 { "changes" } else { "change" })
    } else {
        "The settings do not all run on one fleet (they change its size, seed, dates or shares), so part of each difference is sampling noise: compare settings by their intervals. The fleet described is the base scenario's.".to_string()
    };
    let _ = writeln!(
        out,
        "**Scenario.** {} users over {} ({} to {}), {} settings of {}. {fleet}\n",
        thousands(run.tokens as f64),
        format_duration(run.horizon_s),
        date(run.start),
        date(run.end()),
        lines.len(),
        t.params
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let _ = writeln!(out, "## Settings (all populations)\n");
    let _ = writeln!(out, "| # | setting | first-try acceptance (95% CI) | login success | incidents per 1,000 logins | tickets per 100 users a year | attacker success per account a year | code lifetime | NIST 800-63B |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for l in &lines {
        let r = &l.row;
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}–{}) | {} | {} | {} | {} | {} | {} |",
            l.point,
            l.label,
            pct(get(r.first_try_acceptance_rate)),
            pct(get(r.first_try_acceptance_ci95_low)),
            pct(get(r.first_try_acceptance_ci95_high)),
            pct(get(r.login_success_rate)),
            get(r.incidents_per_1000_logins).map_or("–".into(), |x| format!("{x:.2}")),
            get(r.tickets_per_100_users_year).map_or("–".into(), |x| format!("{x:.1}")),
            r.attack_p_success_year
                .map_or("–".into(), |x| format!("{:.2e}", x.0)),
            get(r.code_lifetime_s).map_or("–".into(), format_duration),
            if r.meets_nist_800_63b { "yes" } else { "no" },
        );
    }
    let front = crate::results::sweep::pareto(&crate::results::sweep::all_rows(d));
    let _ = writeln!(
        out,
        "\n## Pareto front\n\nNo other setting has both fewer first-try rejections and a lower attacker success: {}.\n",
        front.iter().map(|p| format!("#{p}")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(out, "## Recommendation\n\n{}\n", d.recommendation);
    let _ = writeln!(out, "## Charts\n");
    for (stem, title) in crate::chart::sweep::SWEEP_FIGURES {
        let _ = writeln!(out, "### {title}\n\n![{title}]({stem}.png)\n");
    }
    let _ = writeln!(
        out,
        "Attacker figures are analytic: each guess succeeds with probability accepted steps / 10^digits, and the lockout caps the guesses (see the otpdrift README). `sweep.csv` has every figure per setting and population, with 95% intervals."
    );
    out
}

/// The clock error (seconds, either way) past which the tighter side of the window refuses
/// more than half of a population's codes, with no drift learned.
fn window_edge(d: &RunData, pop: usize) -> f64 {
    let v = &d.scenario.validator;
    let step = d.scenario.populations[pop].token.step_s;
    let (b, a) = v.edges_s(step);
    b.min(a)
}

/// "hardware: logins with the device clock more than 45s off ...: 12.5% in year 1, 30.1% in
/// year 2" from the clock-error histograms at login, merged over each year's buckets (a bucket
/// counts in the year it starts in; a part-year at the end is its own span). None when no span
/// has 5% of logins past the edge.
fn outside_by_year(d: &RunData, pop: usize) -> Option<String> {
    let sc = &d.scenario;
    let p = &sc.populations[pop];
    let edge = window_edge(d, pop);
    let (start, end) = (sc.run.start, sc.run.end());
    let mut parts = Vec::new();
    let mut worst: f64 = 0.0;
    let mut from = start;
    for year in 1.. {
        if from >= end {
            break;
        }
        let full = crate::time::add_years(start, year);
        let to = full.min(end);
        let mut h = crate::metrics::OffsetHist::default();
        for (b, _) in d
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| from <= *s && *s < to)
        {
            h.merge(&d.offsets[pop][b]);
        }
        if let Some(share) = h.share_above_s(edge) {
            worst = worst.max(share);
            let span = if to < full {
                format!("the last {}", format_duration(((to - from) / 1000) as f64))
            } else {
                format!("year {year}")
            };
            parts.push(format!("{:.1}% in {span}", share * 100.0));
        }
        from = to;
    }
    (worst >= 0.05).then(|| {
        format!(
            "{}: logins with the device clock more than {} off, past the window's edge (accepted only through learned drift, a resync or a wider band): {}.",
            p.name,
            format_duration(edge),
            parts.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::chart::tests::data_for;

    #[test]
    fn warns_year_by_year_about_clocks_outside_the_window() {
        // Every hardware clock gains 20 ppm (631 s a year); phones stay synced.
        let d = data_for(
            "[run]\nname = \"w\"\nhorizon = \"2y\"\ntokens = 20\nbucket = \"month\"\n\
             [[population]]\nname = \"hard\"\nshare = 0.5\ntoken = { kind = \"hardware\" }\nclock = { profile = \"ideal\", drift_ppm = 20 }\n\
             [[population]]\nname = \"phone\"\nshare = 0.5\ntoken = { kind = \"phone\" }\n",
        );
        let w = super::warnings(&d);
        // Past the ±1 window's edge (45 s) after 45 / 20e-6 s = 26 days: year 1 holds about
        // (365.25 - 26) / 365.25 = 93% of its logins past it, year 2 nearly all.
        let line = w
            .iter()
            .find(|l| l.starts_with("hard: logins with the device clock more than 45s off"))
            .unwrap_or_else(|| panic!("{w:#?}"));
        let share = |y: &str| -> f64 {
            let at = line.find(&format!("% in {y}")).expect(y);
            let from = line[..at].rfind(' ').unwrap() + 1;
            line[from..at].parse().unwrap()
        };
        assert!((88.0..=97.0).contains(&share("year 1")), "{line}");
        // Year 2: all but the logins of tokens replaced (a new clock starts at zero).
        assert!((97.0..=100.0).contains(&share("year 2")), "{line}");
        assert!(
            !w.iter()
                .any(|l| l.starts_with("phone: logins with the device clock")),
            "{w:#?}"
        );
        let report = super::render(&d, true);
        assert!(report.contains("| hard | 10 |"), "{report}");
        assert!(report.contains("![Login acceptance over time](acceptance.png)"));
    }

    #[test]
    fn a_horizon_under_a_year_is_warned_about_too() {
        // Half a year at 20 ppm: past 45 s from day 26, so about 86% of the span's logins.
        let d = data_for(
            "[run]\nname = \"h\"\nhorizon = \"182d\"\ntokens = 10\nbucket = \"month\"\n\
             [[population]]\nname = \"hard\"\ntoken = { kind = \"hardware\" }\nclock = { profile = \"ideal\", drift_ppm = 20 }\n",
        );
        let w = super::warnings(&d);
        assert!(
            w.iter().any(
                |l| l.starts_with("hard: logins with the device clock more than 45s off")
                    && l.contains("% in the last 182d")
            ),
            "{w:#?}"
        );
    }

    #[test]
    fn a_dip_is_warned_about_only_when_the_bucket_bears_it_out() {
        // Daily buckets of about 40 logins (fewer at weekends): some day falls under 95% (a
        // typo burst, one user's bad clock), which so few logins do not bear out.
        let d = data_for(
            "[run]\nname = \"d\"\nhorizon = \"60d\"\ntokens = 20\nbucket = \"1d\"\n\
             [[population]]\nname = \"phone\"\ntoken = { kind = \"phone\" }\nuser = { logins_per_day = 2, typo_probability = 0.02 }\n",
        );
        let low = d.timeseries[0]
            .iter()
            .filter(|r| r.counts.first_try_accepted * 100 < r.counts.logins * 95)
            .count();
        assert!(low > 0, "no day under 95%: the test shows nothing");
        let w = super::warnings(&d);
        assert!(
            !w.iter().any(|l| l.contains("first-try acceptance fell")),
            "{w:#?}"
        );
    }

    #[test]
    fn the_validator_sentence_names_every_rule() {
        let d = data_for(
            "[run]\nname = \"v\"\nhorizon = \"7d\"\ntokens = 2\n[validator]\npreset = \"django-otp\"\n\
             [[population]]\ntoken = { kind = \"phone\" }\n",
        );
        let s = super::validator_sentence(&d);
        assert!(
            s.contains("no lockout") && s.contains("throttling: 1s·2^(n-1)"),
            "{s}"
        );
        let d = data_for(
            "[run]\nname = \"v\"\nhorizon = \"7d\"\ntokens = 2\n[validator]\npreset = \"vip\"\n\
             [[population]]\ntoken = { kind = \"phone\" }\n",
        );
        let s = super::validator_sentence(&d);
        assert!(s.contains("auto-sync band ±20 steps"), "{s}");
    }
}
