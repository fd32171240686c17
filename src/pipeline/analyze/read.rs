//! Reading what `analyze` is given: the flags checked, the log read by column name
//! (observations or codes), bad rows skipped and counted by reason.

use super::*;

/// The columns an observations log may have, as documented; `--column KEY=NAME` maps a
/// column of the user's file onto one of these.
pub const COLUMNS: [&str; 9] = [
    "credential",
    "time",
    "offset_s",
    "shift_s",
    "offset_steps",
    "matched_step",
    "step",
    "population",
    "code",
];

/// What the log's offsets mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Measure {
    /// A measured offset, seconds: a point.
    OffsetS,
    /// A validator's learned shift (matched step's start minus server time), seconds.
    ShiftS,
    /// The matched step minus the server's step.
    OffsetSteps,
    /// The matched step (time / step).
    MatchedStep,
}

impl Measure {
    fn column(self) -> &'static str {
        match self {
            Measure::OffsetS => "offset_s",
            Measure::ShiftS => "shift_s",
            Measure::OffsetSteps => "offset_steps",
            Measure::MatchedStep => "matched_step",
        }
    }
}

/// One credential as read.
#[derive(Clone, Debug, Default)]
pub(super) struct Cred {
    pub(super) population: String,
    pub(super) obs: Vec<Observation>,
    /// Codes still to be located: (server time, code, line).
    pub(super) codes: Vec<(Millis, String, u64)>,
    /// Rows out of time order.
    pub(super) unsorted: u64,
    /// Its time step, seconds (a `step` cell or its secret), when not the default.
    pub(super) step_s: Option<u32>,
    /// When the log shows a sync (a trace's `sync` rows), and once located, the last one's
    /// matched step offset: what a validator learns from a sync.
    pub(super) syncs: Vec<Millis>,
    pub(super) last_sync: Option<(Millis, i64)>,
}

/// Rows skipped while reading, by reason (in the order first met).
#[derive(Default)]
pub(super) struct Skips(pub(super) Vec<Skipped>);

impl Skips {
    pub(super) fn add(&mut self, reason: &str, at: impl FnOnce() -> String) {
        match self.0.iter_mut().find(|s| s.reason == reason) {
            Some(s) => s.rows += 1,
            None => self.0.push(Skipped {
                reason: reason.into(),
                rows: 1,
                first: at(),
            }),
        }
    }

    pub(super) fn total(&self) -> u64 {
        self.0.iter().map(|s| s.rows).sum()
    }
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))
}

pub(super) fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn duration_flag(
    flag: &str,
    v: &Option<String>,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64> {
    let Some(s) = v else { return Ok(default) };
    let d = parse_duration(s).map_err(|e| {
        Error::input(format!(
            "{flag}: expected a duration such as \"7s\", found {e}"
        ))
    })?;
    if !(min..=max).contains(&d) {
        return Err(Error::input(format!(
            "{flag}: expected {} to {}, found {s}",
            crate::time::format_duration(min),
            crate::time::format_duration(max)
        )));
    }
    Ok(d)
}

impl AnalyzePlan {
    pub fn new(a: AnalyzeRequest) -> Result<AnalyzePlan> {
        let watch = super::super::Stopwatch::start();
        // A results folder of `run --trace`: its trace, secrets and validator.
        let (log, secrets, validator_file) = if a.log.is_dir() {
            let trace = a.log.join("trace.csv");
            if !trace.is_file() {
                return Err(Error::input(format!(
                    "{}: expected a log file, or a results folder with trace.csv (run --trace), found a folder without one",
                    a.log.display()
                )));
            }
            let v = a.log.join("trace-validator.toml");
            (
                trace,
                a.secrets
                    .clone()
                    .or_else(|| Some(a.log.join("trace-secrets.csv"))),
                v.is_file().then_some(v),
            )
        } else {
            (a.log.clone(), a.secrets.clone(), None)
        };
        let window_flags = a.window_back.is_some() || a.window_ahead.is_some();
        if a.preset.is_some() && window_flags {
            return Err(Error::input(
                "--preset and --window-back/--window-ahead: give one or the other",
            ));
        }
        let v: ValidatorConfig = match (&a.preset, &validator_file, window_flags) {
            (Some(_), _, _) | (None, None, _) | (None, Some(_), true) => {
                super::super::replay::validator(None, a.preset.as_deref(), &[])?
            }
            (None, Some(f), false) => super::super::replay::validator_from(Some(f), None, &[])?,
        };
        let window = (
            a.window_back.unwrap_or(v.window_back),
            a.window_ahead.unwrap_or(v.window_ahead),
        );
        if window.0 > 100_000 || window.1 > 100_000 {
            return Err(Error::input(format!(
                "--window-back/--window-ahead: expected at most 100000 steps, found {}/{}",
                window.0, window.1
            )));
        }
        let delay_s = duration_flag("--delay", &a.delay, 5.5, 0.0, 3600.0)?;
        let mut rename: HashMap<String, String> = HashMap::new();
        for c in &a.columns {
            let (k, name) = c.split_once('=').ok_or_else(|| {
                Error::input(format!(
                    "--column {c}: expected KEY=NAME, e.g. --column credential=serial"
                ))
            })?;
            if !COLUMNS.contains(&k.trim()) {
                return Err(Error::input(format!(
                    "--column {c}: expected KEY to be one of {}, found `{k}`",
                    COLUMNS.join(", ")
                )));
            }
            rename.insert(name.trim().to_string(), k.trim().to_string());
        }

        let bytes = read(&log)?;
        let file = log.display().to_string();
        let mut inputs = vec![(file.clone(), sha(&bytes))];
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| Error::input(format!("{file}:1: {e}")))?
            .iter()
            .map(|h| {
                let h = h.trim().trim_start_matches('\u{feff}');
                rename.get(h).cloned().unwrap_or_else(|| h.to_string())
            })
            .collect();
        let col = |k: &str| header.iter().position(|h| h == k);
        let found = || {
            if header.iter().all(|h| h.is_empty()) {
                "an empty file".to_string()
            } else {
                format!("the columns {}", header.join(", "))
            }
        };
        let (Some(c_cred), Some(c_time)) = (col("credential"), col("time")) else {
            let missing = if col("credential").is_none() {
                "credential"
            } else {
                "time"
            };
            return Err(Error::input(format!(
                "{file}:1: expected a column `{missing}` (map yours with --column {missing}=NAME), found {}",
                found()
            )));
        };
        let measures: Vec<Measure> = [
            Measure::OffsetS,
            Measure::ShiftS,
            Measure::OffsetSteps,
            Measure::MatchedStep,
        ]
        .into_iter()
        .filter(|m| col(m.column()).is_some())
        .collect();
        let c_code = col("code");
        let kind = match (measures.len(), c_code) {
            (0, Some(_)) => "codes",
            (1, None) => "observations",
            (0, None) => {
                return Err(Error::input(format!(
                    "{file}:1: expected one of the columns offset_s, shift_s, offset_steps, matched_step (observations) or code (with --secrets), found {}",
                    found()
                )))
            }
            _ => {
                return Err(Error::input(format!(
                    "{file}:1: expected one kind of observation, found the columns {} together",
                    measures
                        .iter()
                        .map(|m| m.column())
                        .chain(c_code.map(|_| "code"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let secrets = if kind == "codes" {
            let p = secrets.ok_or_else(|| {
                Error::input(format!(
                    "{file}: a log of codes needs the credentials' secrets: --secrets FILE (CSV or PSKC, as replay reads them)"
                ))
            })?;
            let b = read(&p)?;
            inputs.push((p.display().to_string(), sha(&b)));
            read_secrets(&p.display().to_string(), &b)?
        } else {
            HashMap::new()
        };
        // Without --step: the secrets' most common step (ties to the shorter), else 30 s.
        let default_step = a.step.unwrap_or_else(|| {
            let mut count: BTreeMap<u32, usize> = BTreeMap::new();
            for s in secrets.values() {
                if let Scheme::Totp { step_s, .. } = s.scheme {
                    *count.entry(step_s).or_default() += 1;
                }
            }
            count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(30, |(s, _)| *s)
        });
        if default_step == 0 || default_step > 86_400 {
            return Err(Error::input(format!(
                "--step: expected 1 to 86400 seconds, found {default_step}"
            )));
        }
        let (c_pop, c_step, c_action) = (col("population"), col("step"), col("action"));
        let c_code2 = col("code2");

        let mut creds: BTreeMap<String, Cred> = BTreeMap::new();
        let mut skips = Skips::default();
        let mut rows = 0u64;
        let mut last_time: HashMap<String, (Millis, String)> = HashMap::new();
        let mut rec = csv::StringRecord::new();
        let mut lines = crate::results::Lines::new(&bytes);
        loop {
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = lines.of(e.position());
                    rows += 1;
                    skips.add("unreadable row", || format!("{file}:{line}: {e}"));
                    continue;
                }
            }
            rows += 1;
            let line = lines.of(rec.position());
            let at = |c: usize| format!("{file}:{line}:{}", c + 1);
            let cell = |c: usize| rec.get(c).unwrap_or("").trim();
            let cred = cell(c_cred);
            if cred.is_empty() {
                skips.add("no credential", || {
                    format!("{}: an empty `credential` cell", at(c_cred))
                });
                continue;
            }
            let t_text = cell(c_time);
            let t = parse_when(t_text);
            let Ok(t) = t else {
                skips.add("unparseable time", || {
                    format!(
                        "{}: expected an RFC 3339 time or Unix seconds, found `{t_text}`",
                        at(c_time)
                    )
                });
                continue;
            };
            let value: String;
            if kind == "codes" {
                let action = c_action.map_or("verify", |c| cell(c));
                let code = match action {
                    "verify" | "" => cell(c_code.expect("a code column")).to_string(),
                    // The last code of a sync was read just before it was sent.
                    "sync" => c_code2
                        .map(&cell)
                        .and_then(|s| s.split_whitespace().last())
                        .unwrap_or_else(|| cell(c_code.expect("a code column")))
                        .to_string(),
                    _ => continue,
                };
                match secrets.get(cred) {
                    None => {
                        skips.add("credential without a secret", || {
                            format!(
                                "{}: credential `{cred}` is not in the secrets file",
                                at(c_cred)
                            )
                        });
                        continue;
                    }
                    Some(s) if s.scheme == Scheme::Hotp => {
                        skips.add("HOTP credential (no clock)", || {
                            format!("{}: credential `{cred}` is HOTP, whose codes say nothing of a clock", at(c_cred))
                        });
                        continue;
                    }
                    Some(s) => {
                        let c = code.as_str();
                        if c.is_empty()
                            || !c.bytes().all(|b| b.is_ascii_digit())
                            || c.len() != s.digits as usize
                        {
                            skips.add("malformed code", || {
                                format!(
                                    "{}: expected {} digits, found `{c}`",
                                    at(c_code.unwrap()),
                                    s.digits
                                )
                            });
                            continue;
                        }
                    }
                }
                value = code;
            } else {
                let m = measures[0];
                let c = col(m.column()).expect("the measure's column");
                let text = cell(c);
                let Some(v) = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && v.abs() < 1e11)
                else {
                    let reason = if text.is_empty() {
                        "empty offset"
                    } else {
                        "unparseable offset"
                    };
                    skips.add(reason, || {
                        format!(
                            "{}: column `{}`: expected a number, found `{text}`",
                            at(c),
                            m.column()
                        )
                    });
                    continue;
                };
                let step = match c_step.map(&cell).filter(|s| !s.is_empty()) {
                    None => default_step,
                    Some(s) => {
                        match s.parse::<u32>() {
                            Ok(k) if (1..=86_400).contains(&k) => k,
                            _ => {
                                skips.add("bad step", || {
                                format!("{}: column `step`: expected 1 to 86400 seconds, found `{s}`", at(c_step.unwrap()))
                            });
                                continue;
                            }
                        }
                    }
                };
                if step != default_step {
                    creds.entry(cred.to_string()).or_default().step_s = Some(step);
                }
                let stp = step as f64;
                let server = t as f64 / 1000.0;
                let (lo, hi) = match m {
                    Measure::OffsetS => (v, v),
                    Measure::ShiftS => (v + delay_s, v + delay_s + stp),
                    Measure::OffsetSteps | Measure::MatchedStep => {
                        let matched = if m == Measure::OffsetSteps {
                            (server / stp).floor() + v.round()
                        } else {
                            v.round()
                        };
                        let lo = matched * stp - server + delay_s;
                        (lo, lo + stp)
                    }
                };
                value = format!("{lo}");
                let entry = creds.entry(cred.to_string()).or_default();
                entry.obs.push(Observation { t, lo, hi });
            }
            // Duplicates (the same credential, time and value twice) and order.
            let key = (t, value.clone());
            match last_time.get(cred) {
                Some(prev) if *prev == key => {
                    skips.add("duplicate row", || {
                        format!("{file}:{line}: the same as the row before it for `{cred}`")
                    });
                    if kind != "codes" {
                        creds.get_mut(cred).unwrap().obs.pop();
                    }
                    continue;
                }
                Some(prev) if prev.0 > t => {
                    creds.entry(cred.to_string()).or_default().unsorted += 1;
                }
                _ => {}
            }
            last_time.insert(cred.to_string(), key);
            let entry = creds.entry(cred.to_string()).or_default();
            if kind == "codes" {
                entry.codes.push((t, value, line));
                // A sync refused taught the validator nothing.
                let refused = col("expected").is_some_and(|c| cell(c) == "reject");
                if c_action.is_some_and(|c| cell(c) == "sync") && !refused {
                    entry.syncs.push(t);
                }
            }
            // Without a population column the fleet is one (`all`); with one, a blank cell is
            // a group of its own, never the fleet's summary row.
            if entry.population.is_empty() {
                entry.population = match c_pop {
                    None => "all".into(),
                    Some(c) => match cell(c) {
                        "" => "unnamed".into(),
                        "all" => "all (named)".into(),
                        p => p.to_string(),
                    },
                };
            }
        }
        let until = match &a.until {
            Some(s) => Some(parse_when(s).map_err(|_| {
                Error::input(format!(
                    "--until: expected an RFC 3339 time or Unix seconds in the years 0001 to 9998, found `{s}`"
                ))
            })?),
            None => None,
        };
        if let Some(u) = until {
            for (id, c) in creds.iter_mut() {
                let before = c.obs.len() + c.codes.len();
                c.obs.retain(|o| o.t <= u);
                c.codes.retain(|k| k.0 <= u);
                for _ in c.obs.len() + c.codes.len()..before {
                    skips.add("after --until", || format!("credential {id}"));
                }
            }
            creds.retain(|_, c| !c.obs.is_empty() || !c.codes.is_empty());
        }
        let unsorted: u64 = creds.values().map(|c| c.unsorted).sum();
        let out_of_order = unsorted;
        let last = creds
            .values()
            .flat_map(|c| c.obs.iter().map(|o| o.t).chain(c.codes.iter().map(|c| c.0)))
            .max();
        let Some(last) = last else {
            let why = if skips.total() == 0 {
                "no rows".to_string()
            } else {
                skips
                    .0
                    .iter()
                    .map(|s| format!("{} {} (first: {})", s.rows, s.reason, s.first))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(Error::input(format!("{file}: nothing to analyze: {why}")));
        };
        let now = match &a.now {
            Some(s) => parse_when(s).map_err(|_| {
                Error::input(format!(
                    "--now: expected an RFC 3339 time or Unix seconds in the years 0001 to 9998, found `{s}`"
                ))
            })?,
            None => until.unwrap_or(last),
        };
        // Codes repeat: beyond 10^digits / 100 steps either side a typo matches some step
        // more than one time in fifty.
        let digits = secrets.values().map(|s| s.digits).min().unwrap_or(6);
        let most_steps = 10f64.powi(digits as i32) / 100.0;
        let search = duration_flag(
            "--search",
            &a.search,
            86_400.0f64.min(most_steps * default_step as f64),
            0.0,
            most_steps * default_step as f64,
        )?;
        let threshold_s = duration_flag(
            "--step-threshold",
            &a.step_threshold,
            default_threshold(default_step),
            1.0,
            1e9,
        )?;
        let threshold_given = a.step_threshold.is_some();
        let name = format!(
            "analyze-{}",
            log.file_stem()
                .map_or("log".into(), |s| s.to_string_lossy().into_owned())
        );
        let out = match &a.output.out {
            Some(o) => {
                export::check_writable(o, a.output.force)
                    .map_err(|e| Error::input(e.to_string()))?;
                o.clone()
            }
            None => super::super::default_out(&name, a.output.force),
        };
        if let Some(e) = &a.emit_scenario {
            if e.exists() && !a.output.force {
                return Err(Error::input(format!(
                    "--emit-scenario {}: the file exists; pass --force to replace it",
                    e.display()
                )));
            }
        }
        Ok(AnalyzePlan {
            inputs,
            kind,
            creds,
            secrets,
            skips,
            rows,
            out_of_order,
            step_s: default_step,
            window,
            preset: a.preset.clone().or(v.preset.clone()),
            delay_s,
            now,
            search_steps: (search / default_step as f64).round() as u32,
            threshold_s,
            threshold_given,
            out,
            force: a.output.force,
            emit: a.emit_scenario.clone(),
            threads: a.threads,
            name,
            watch,
        })
    }

    /// Offsets (s) the window accepts at least half the time, with the delay.
    pub fn edges(&self) -> (f64, f64) {
        window_edges(self.window, self.step_s, self.delay_s)
    }
}

/// A time as RFC 3339 or Unix seconds (with a fraction), within the calendar's years.
pub(super) fn parse_when(text: &str) -> std::result::Result<Millis, String> {
    let t = match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() => {
            let ms = (s * 1000.0).round();
            if ms < MIN_INSTANT as f64 || ms > MAX_INSTANT as f64 {
                return Err(format!("`{text}` is outside the years 0001 to 9998"));
            }
            ms as Millis
        }
        _ => parse_rfc3339(text.trim())?,
    };
    Ok(t)
}
