//! Probes of the model on simulated time: the configuration found must decide a held-out
//! attempt log, made without looking at the probe (edges, replays, bursts of wrong codes, clock
//! jumps, far codes, unlocks), exactly as the true configuration does.

use super::model::ModelTransport;
use super::*;
use crate::otp::Algorithm;
use crate::validator::{presets, CredentialState, DriftLearning, Lockout, Scheme};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const START: Millis = 1_772_323_200_000; // 2026-03-01T00:00:00Z

fn credential(seed: u64) -> Credential {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let key: Vec<u8> = (0..20).map(|_| r.random()).collect();
    Credential {
        id: format!("c{seed}"),
        keyed: Keyed::new(Algorithm::Sha1, &key),
        digits: 6,
        step_s: 30,
        t0: 0,
    }
}

/// One attempt of a held-out log.
#[derive(Clone, Copy, Debug)]
enum Held {
    Code {
        at: Millis,
        code: u32,
    },
    /// Two codes to the resync endpoint.
    Sync {
        at: Millis,
        codes: [u32; 2],
    },
    Unlock,
}

/// A log made without the probe: a device clock that starts off, drifts and jumps; correct
/// codes, retries, replays, codes at and past the edges, far codes, bursts of wrong codes,
/// long pauses, administrator unlocks and resyncs (mostly two successive steps of the device's
/// clock, some swapped or a step apart). Every code names one step within ±200 of its own.
fn held_out(cred: &Credential, seed: u64, n: usize) -> Vec<Held> {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut t = START + 7 * 86_400_000;
    let mut dev_off: f64 = r.random_range(-200.0..200.0);
    let ppm: f64 = r.random_range(-300.0..300.0);
    let mut out = Vec::new();
    let mut last: Option<u32> = None;
    let unique = |step: i64| {
        let c = cred.code_value(step);
        (step - 200..=step + 200).all(|x| x == step || cred.code_value(x) != c)
    };
    while out.len() < n {
        let gap: Millis = match r.random_range(0..100) {
            0..=59 => r.random_range(2_000..40_000),
            60..=89 => r.random_range(60_000..7_200_000),
            _ => r.random_range(86_400_000..20 * 86_400_000),
        };
        t += gap;
        dev_off += ppm * 1e-6 * gap as f64 / 1000.0;
        let dev_step = cred.step_at(t + (dev_off * 1000.0) as Millis);
        if r.random_range(0..100) < 6 {
            let s = dev_step + r.random_range(-1..=0);
            let codes = match r.random_range(0..8) {
                0 => [s + 1, s],
                1 => [s, s + 2],
                _ => [s, s + 1],
            };
            if codes.iter().all(|c| unique(*c)) {
                out.push(Held::Sync {
                    at: t,
                    codes: codes.map(|c| cred.code_value(c)),
                });
            }
            continue;
        }
        let kind = r.random_range(0..100);
        let step = match kind {
            0..=44 => dev_step,
            45..=54 => {
                if let Some(c) = last {
                    out.push(Held::Code { at: t, code: c });
                }
                continue;
            }
            55..=62 => {
                for _ in 0..r.random_range(2..12) {
                    t += r.random_range(2_000..12_000);
                    out.push(Held::Code {
                        at: t,
                        code: r.random_range(0..1_000_000),
                    });
                }
                continue;
            }
            63..=77 => cred.step_at(t) + r.random_range(-16..=16),
            78..=84 => cred.step_at(t) + r.random_range(-200..=200),
            85..=90 => {
                dev_off += r.random_range(-3600.0..3600.0);
                continue;
            }
            91..=94 => {
                out.push(Held::Unlock);
                continue;
            }
            _ => dev_step + 1,
        };
        if unique(step) {
            let c = cred.code_value(step);
            out.push(Held::Code { at: t, code: c });
            last = Some(c);
        }
    }
    out
}

/// The answers of `cfg` to the log, from a credential enrolled at its start.
fn answers(cfg: &ValidatorConfig, cred: &Credential, log: &[Held]) -> Vec<Answer> {
    answers_from(cfg, cred, log, START)
}

fn answers_from(
    cfg: &ValidatorConfig,
    cred: &Credential,
    log: &[Held],
    enrolled: Millis,
) -> Vec<Answer> {
    let scheme = Scheme::Totp {
        step_s: cred.step_s,
        t0: cred.t0,
    };
    let mut st = CredentialState::enrolled(enrolled);
    log.iter()
        .filter_map(|h| match *h {
            Held::Code { at, code } => Some(Answer::of(
                cfg.verify(&mut st, scheme, at, code, |s| cred.code_value(s))
                    .verdict,
            )),
            Held::Sync { at, codes } => Some(
                if cfg
                    .sync(&mut st, scheme, at, &codes, |s| cred.code_value(s))
                    .is_ok()
                {
                    Answer::Accept
                } else {
                    Answer::Reject
                },
            ),
            Held::Unlock => {
                st.unlock();
                None
            }
        })
        .collect()
}

/// The default limits, with the bands and resync windows looked for out past the truth's
/// resync window (as a user who wants it measured sets --max-band).
fn limits_for(truth: &ValidatorConfig, allow_lockout: bool) -> Limits {
    let d = Limits::default();
    Limits {
        allow_lockout,
        max_band: truth
            .sync
            .map_or(d.max_band, |p| d.max_band.max(p.window + 100)),
        // Trials behind the centre wait for the true step to pass the last used one.
        max_time_ms: truth.sync.map_or(d.max_time_ms, |p| {
            d.max_time_ms.max(p.window as Millis * 8 * 30_000)
        }),
        ..d
    }
}

struct Probed {
    outcome: Outcome,
    differ: Vec<String>,
}

fn probe_model(truth: &ValidatorConfig, seed: u64, lockout: bool) -> Probed {
    let cred = credential(seed);
    let mut t = ModelTransport::new(truth.clone(), START);
    // An administrator-only lock is measured through a transport that can unlock; the same
    // administrator API has the resync endpoint.
    t.can_unlock = seed % 2 == 0
        || truth.lockout.is_some_and(|l| l.unlock_after_s.is_none())
        || truth.sync.is_some();
    let limits = limits_for(truth, lockout);
    let outcome = probe(&cred, &mut t, &limits, &|_, _| {}).unwrap_or_else(|e| {
        panic!(
            "probe of {truth:?} failed: {e}\n{:#?}",
            t.decisions.iter().rev().take(8).collect::<Vec<_>>()
        )
    });
    // Outside the lockout measurement, never more than two refused codes in a row.
    let mut run = 0;
    for s in &outcome.sent {
        // A resync counts no failure and clears none.
        if s.code2.is_some() {
            continue;
        }
        if matches!(
            s.purpose,
            Purpose::Wrong | Purpose::LockCheck | Purpose::Unlock
        ) {
            run = 0;
            continue;
        }
        run = if s.answer == Answer::Accept {
            0
        } else {
            run + 1
        };
        assert!(run <= 2, "three refusals in a row probing {truth:?}");
    }
    let log = held_out(&cred, seed, 400);
    let (want, got) = (
        answers(truth, &cred, &log),
        answers(&outcome.config, &cred, &log),
    );
    let differ = want
        .iter()
        .zip(&got)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("attempt {i}: true {a:?}, probed {b:?}"))
        .collect();
    Probed { outcome, differ }
}

fn assert_same(name: &str, truth: &ValidatorConfig, p: &Probed) {
    assert!(
        p.differ.is_empty(),
        "{name}: {} of the held-out decisions differ ({:?}); probed {:#?}\nfacets {:#?}\ntruth {truth:#?}",
        p.differ.len(),
        &p.differ[..p.differ.len().min(5)],
        p.outcome.config,
        p.outcome.facets
    );
}

#[test]
fn probing_a_preset_finds_a_configuration_that_decides_like_it() {
    for name in [
        "pyotp",
        "keycloak",
        "pam-oath",
        "google-authenticator",
        "linotp",
        "privacyidea",
        "rfc6238",
        "vip",
    ] {
        let truth = presets::find(name).unwrap().config;
        let p = probe_model(&truth, 7, truth.lockout.is_some());
        assert_eq!(p.outcome.stop, Stop::Converged, "{name}");
        assert_same(name, &truth, &p);
        assert_eq!(p.outcome.facets.bands, [(Band::None, (0, 0))], "{name}");
        eprintln!(
            "{name}: {} attempts, {:.1} min of its time, window {:?}/{:?}, resync {:?}",
            p.outcome.sent.len(),
            p.outcome.elapsed_ms as f64 / 60_000.0,
            p.outcome.facets.back,
            p.outcome.facets.ahead,
            p.outcome.facets.syncs
        );
    }
}

/// Bands beyond the window: privacyIDEA's and LinOTP's automatic resync switched on (with
/// sync windows narrower than their 1000-step default, so that the default --max-band of 40
/// covers them), each found, with its width. (VIP's auto-sync band, one code accepted and
/// re-centred on, answers every attempt as a wider window that learns whole steps: the
/// presets test holds that the configuration found decides like it.)
#[test]
fn probing_finds_bands_beyond_the_window_and_how_far_they_reach() {
    let autoresync = |preset: &str, style, timeout_s, window| {
        let mut c = presets::find(preset).unwrap().config;
        c.auto_resync = Some(crate::validator::AutoResync {
            window,
            max_gap: 1,
            timeout_s,
            style,
        });
        c
    };
    use crate::validator::AutoStyle;
    for (name, truth, band) in [
        (
            "privacyidea with AutoResync",
            autoresync("privacyidea", AutoStyle::Privacyidea, f64::INFINITY, 27),
            Band::AutoResync(AutoStyle::Privacyidea),
        ),
        (
            "linotp with AutoResync",
            autoresync("linotp", AutoStyle::Nearest, 300.0, 33),
            Band::AutoResync(AutoStyle::Nearest),
        ),
    ] {
        let p = probe_model(&truth, 11, truth.lockout.is_some());
        assert_eq!(p.outcome.stop, Stop::Converged, "{name}");
        assert_same(name, &truth, &p);
        // The width, or a range of widths that answered every trial alike.
        let width = Band::width(&truth).unwrap();
        let [(found, (lo, hi))] = p.outcome.facets.bands[..] else {
            panic!("{name}: {:?}", p.outcome.facets.bands)
        };
        assert_eq!(found, band, "{name}");
        assert!(
            lo <= width && width <= hi && hi - lo <= 12,
            "{name}: {lo}..{hi}"
        );
        eprintln!(
            "{name}: widths {lo}..{hi}, {} attempts ({} for the band), {:.1} min of its time",
            p.outcome.sent.len(),
            p.outcome
                .sent
                .iter()
                .filter(|s| s.purpose == Purpose::Band)
                .count(),
            p.outcome.elapsed_ms as f64 / 60_000.0,
        );
    }
}

/// A random configuration of the space the probe measures.
fn random_config(r: &mut ChaCha8Rng) -> ValidatorConfig {
    let mut c = super::space::blank();
    c.window_back = r.random_range(0..=12);
    c.window_ahead = r.random_range(0..=12);
    (c.replay, c.skip_refused) = super::space::RULES[r.random_range(0..6)];
    c.drift = super::space::DRIFTS[r.random_range(0..4)];
    if r.random_bool(0.5) {
        c.lockout = Some(Lockout {
            max_failures: r.random_range(3..=10),
            unlock_after_s: if r.random_bool(0.5) {
                Some(r.random_range(60..=3600) as f64)
            } else {
                None
            },
            failure_interval_s: None,
        });
    }
    // A quarter with an automatic resync past the window (within the default --max-band),
    // except with consistent-skew learning: the skew experiment's refused codes feed the
    // resync, and the two are not told apart (docs/probe.md).
    // Nor with a lockout of fewer than 5 failures: the band trials and the recoveries from
    // what candidates with bands disagree on can come within two refusals of it, and the probe
    // then stops rather than send a third.
    let consistent = matches!(c.drift, DriftLearning::Consistent { .. });
    let tight = c.lockout.is_some_and(|l| l.max_failures < 5);
    if r.random_bool(0.25) && !consistent && !tight {
        let style = if r.random_bool(0.5) {
            crate::validator::AutoStyle::Privacyidea
        } else {
            crate::validator::AutoStyle::Nearest
        };
        c.auto_resync = Some(crate::validator::AutoResync {
            window: r.random_range(c.window_back.max(c.window_ahead) + 8..=40),
            max_gap: 1,
            // How long the second code may follow the first is not measured (the probe sends
            // the two together): each style has its product's (LinOTP's default 5 minutes;
            // privacyIDEA keeps the first code until the next).
            timeout_s: if r.random_bool(0.5) {
                300.0
            } else {
                f64::INFINITY
            },
            style,
        });
        if style == crate::validator::AutoStyle::Nearest {
            c.auto_resync.as_mut().unwrap().timeout_s = 300.0;
        }
    }
    // A third with a resync endpoint's procedure.
    if r.random_bool(0.3) {
        let (search, refuse_next, centre_beyond) = SYNCS[r.random_range(0..SYNCS.len())];
        c.sync = Some(crate::validator::SyncProcedure {
            codes: 2,
            window: r.random_range(2..=60),
            search,
            refuse_next,
            centre_beyond,
        });
    }
    c
}

#[test]
fn probing_random_configurations_finds_ones_that_decide_alike() {
    let n: u64 = std::env::var("OTPDRIFT_PROBE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut attempts = Vec::new();
    let mut minutes = Vec::new();
    // Without the lockout measurement (the window, replay and drift part alone).
    let mut core_attempts = Vec::new();
    let mut core_minutes = Vec::new();
    let mut banded = 0;
    let mut found_bands = 0;
    let (mut synced, mut found_syncs) = (0, 0);
    // OTPDRIFT_PROBE_CASE=K runs case K alone.
    let only: Option<u64> = std::env::var("OTPDRIFT_PROBE_CASE")
        .ok()
        .and_then(|v| v.parse().ok());
    let n = if only.is_some() { 1 } else { n };
    for seed in only.map_or(0..n, |k| k..k + 1) {
        let mut r = ChaCha8Rng::seed_from_u64(1000 + seed);
        let truth = random_config(&mut r);
        let p = probe_model(&truth, 1000 + seed, truth.lockout.is_some());
        if only.is_some() {
            for s in &p.outcome.sent {
                eprintln!(
                    "{:>8} {:?} {:+} {:?} left {}",
                    (s.at - p.outcome.sent[0].at) / 1000,
                    s.purpose,
                    s.offset,
                    s.answer,
                    s.left
                );
            }
            eprintln!("{truth:?}");
        }
        assert_same(&format!("case {seed}"), &truth, &p);
        if let Some(a) = truth.auto_resync {
            banded += 1;
            let found = p.outcome.facets.bands.iter().any(|b| {
                b.0 == Band::AutoResync(a.style) && b.1 .0 <= a.window && a.window <= b.1 .1
            });
            // Decisions alike is the test; finding the band itself is a figure.
            found_bands += found as usize;
        }
        if let Some(w) = truth.sync {
            synced += 1;
            found_syncs += p.outcome.facets.syncs.iter().any(|(k, (lo, hi))| {
                *k == Some((w.search, w.refuse_next, w.centre_beyond))
                    && *lo <= w.window
                    && w.window <= *hi
            }) as usize;
        }
        attempts.push(p.outcome.sent.len());
        minutes.push(p.outcome.elapsed_ms as f64 / 60_000.0);
        let core: Vec<&Sent> = p
            .outcome
            .sent
            .iter()
            .take_while(|s| {
                !matches!(
                    s.purpose,
                    Purpose::Band
                        | Purpose::Resync
                        | Purpose::Wrong
                        | Purpose::LockCheck
                        | Purpose::Unlock
                )
            })
            .collect();
        core_attempts.push(core.len());
        core_minutes.push((core.last().unwrap().at - core[0].at) as f64 / 60_000.0);
    }
    attempts.sort();
    minutes.sort_by(f64::total_cmp);
    core_attempts.sort();
    core_minutes.sort_by(f64::total_cmp);
    eprintln!(
        "{n} random configurations, window, replay and drift only: attempts median {} max {}; minutes median {:.1} max {:.1}",
        core_attempts[n as usize / 2],
        core_attempts[n as usize - 1],
        core_minutes[n as usize / 2],
        core_minutes[n as usize - 1]
    );
    eprintln!(
        "{n} random configurations ({banded} with an automatic resync, found with its width in {found_bands}; {synced} with a resync endpoint, its procedure and window found in {found_syncs}): attempts median {} max {}; minutes of validator time median {:.1} max {:.1}",
        attempts[attempts.len() / 2],
        attempts[attempts.len() - 1],
        minutes[minutes.len() / 2],
        minutes[minutes.len() - 1]
    );
}

#[test]
fn a_window_of_ten_without_lockout_needs_a_few_hundred_attempts() {
    let mut truth = presets::find("rfc6238").unwrap().config;
    truth.window_back = 10;
    truth.window_ahead = 10;
    truth.lockout = None;
    truth.sync = None;
    let p = probe_model(&truth, 3, false);
    assert_same("±10", &truth, &p);
    assert_eq!(
        (p.outcome.facets.back, p.outcome.facets.ahead),
        ((10, 10), (10, 10))
    );
    eprintln!(
        "a ±10 window without lockout: {} attempts, {:.1} min of its time",
        p.outcome.sent.len(),
        p.outcome.elapsed_ms as f64 / 60_000.0
    );
    assert!(
        p.outcome.sent.len() < 400,
        "{} attempts",
        p.outcome.sent.len()
    );
    assert!(
        p.outcome.elapsed_ms < 3_600_000,
        "{} ms",
        p.outcome.elapsed_ms
    );
}

#[test]
fn probing_at_any_moment_finds_a_configuration_that_decides_alike() {
    // The phase of the first attempt in its step, and the secret, change every choice after it.
    for name in [
        "keycloak",
        "google-authenticator",
        "pam-oath",
        "privacyidea",
        "linotp",
    ] {
        let truth = presets::find(name).unwrap().config;
        for k in 0..8u64 {
            let cred = credential(100 + k);
            let start = START + k as i64 * 7_777_777 + 1_234;
            let mut t = ModelTransport::new(truth.clone(), start);
            t.can_unlock = true;
            let limits = limits_for(&truth, truth.lockout.is_some());
            let o = probe(&cred, &mut t, &limits, &|_, _| {}).unwrap();
            let log = held_out(&cred, 100 + k, 300);
            let shift = |h: &Held| match *h {
                Held::Code { at, code } => Held::Code {
                    at: at - START + start,
                    code,
                },
                Held::Sync { at, codes } => Held::Sync {
                    at: at - START + start,
                    codes,
                },
                Held::Unlock => Held::Unlock,
            };
            let log: Vec<Held> = log.iter().map(shift).collect();
            let (want, got) = (
                answers_from(&truth, &cred, &log, start),
                answers_from(&o.config, &cred, &log, start),
            );
            let differ = want.iter().zip(&got).filter(|(a, b)| a != b).count();
            assert_eq!(
                differ, 0,
                "{name} from {start}: {differ} decisions differ; {:?}",
                o.facets
            );
        }
    }
}
