//! Defaults per token kind: clock, battery, user behaviour and recovery ladder. Where no
//! published figure exists (typo rate, waiting for a fresh code, ladder probabilities, helpdesk
//! and shipping delays) the README says so next to the default.

use super::*;

pub(super) fn normal(mean: f64, sd: f64) -> Dist {
    Dist::Normal { mean, sd }
}

pub(super) fn lognormal(median: f64, sigma: f64) -> Dist {
    Dist::LogNormal { median, sigma }
}

pub(super) const OFFICE_HOURS: [f64; 24] = [
    0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 2.0, 1.5, 1.2, 0.8, 1.3, 1.5, 1.3, 1.0, 0.6,
    0.3, 0.2, 0.15, 0.15, 0.1, 0.05,
];
pub(super) const WORK_WEEK: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.1];

/// A population's defaults for its token kind.
pub(super) fn kind_defaults(
    kind: TokenKind,
) -> (ClockSpec, Option<BatterySpec>, UserSpec, f64, RecoverySpec) {
    let mut clock = ClockSpec::ideal();
    let battery = BatterySpec {
        life_years: 5.0,
        life_codes: 15_000.0,
        self_discharge_per_year: 0.0,
        expiry_s: None,
        age_at_start_s: Dist::Fixed(0.0),
        codes_at_start: Dist::Fixed(0.0),
    };
    let app = matches!(kind, TokenKind::Phone | TokenKind::Desktop);
    let recovery = RecoverySpec {
        step_delay_s: lognormal(120.0, 0.7).clipped(10.0, 1800.0),
        helpdesk_unlock_probability: 0.5,
        helpdesk_delay_s: lognormal(2.0 * 3600.0, 1.0).clipped(300.0, 3.0 * 86_400.0),
        fix_clock_probability: if kind == TokenKind::Phone {
            0.6
        } else if app {
            0.5
        } else {
            0.0
        },
        notice_above_s: 120.0,
        fix_accuracy_s: normal(0.0, 10.0).clipped(-120.0, 120.0),
        resync_probability: if app { 0.3 } else { 0.6 },
        resync_tries: 3,
        reset_probability: if app { 0.4 } else { 0.0 },
        reinstall_probability: if app { 0.7 } else { 0.0 },
        reinstall_delay_s: lognormal(4.0 * 3600.0, 1.0).clipped(600.0, 7.0 * 86_400.0),
        replace_probability: if app { 0.0 } else { 0.5 },
        escalate_after: 2,
        shipping_delay_s: lognormal(5.0 * 86_400.0, 0.4).clipped(86_400.0, 30.0 * 86_400.0),
    };
    let mut user = UserSpec {
        logins_per_day: lognormal(1.5, 0.5).clipped(0.0, 20.0),
        schedule: ScheduleKind::Poisson,
        weekdays: WORK_WEEK,
        hours: OFFICE_HOURS,
        utc_offset_s: 0.0,
        holidays: Vec::new(),
        delay_s: lognormal(7.0, 0.5).clipped(1.0, 90.0),
        fresh_code_below_s: 5.0,
        wait_probability: 0.6,
        typo_probability: 0.02,
        push_share: 0.0,
        retries: 2,
        retry_delay_s: lognormal(20.0, 0.5).clipped(3.0, 300.0),
        resubmit_probability: 0.0,
        resubmit_delay_s: Dist::Fixed(1.0),
    };
    let quartz = |mean_c: f64, daily: f64, seasonal: f64| TemperatureSpec {
        coefficient: normal(0.034, 0.003).clipped(0.030, 0.040),
        turnover_c: normal(25.0, 2.0).clipped(20.0, 30.0),
        mean_c: normal(mean_c, 3.0),
        daily_amplitude_c: Dist::Fixed(daily),
        seasonal_amplitude_c: Dist::Fixed(seasonal),
        warmest_day: 200.0,
        warmest_hour: 14.0,
    };
    let mut unsent = 0.0;
    let battery = match kind {
        TokenKind::Hardware => {
            clock.initial_offset_s = normal(0.0, 2.0).clipped(-30.0, 30.0);
            clock.drift_ppm = normal(0.0, 4.0).clipped(-20.0, 20.0);
            clock.aging_ppm_first_year = normal(0.0, 1.5).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.02);
            clock.temperature = Some(quartz(18.0, 4.0, 8.0));
            Some(battery)
        }
        TokenKind::Phone => {
            clock.initial_offset_s = normal(0.0, 0.2);
            clock.drift_ppm = normal(0.0, 8.0).clipped(-30.0, 30.0);
            clock.aging_ppm_first_year = normal(0.0, 1.0).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.05);
            clock.temperature = Some(quartz(28.0, 4.0, 3.0));
            clock.sync = SyncSpec {
                enabled: true,
                interval_s: Dist::Fixed(18.0 * 3600.0),
                threshold_s: Dist::Fixed(2.0),
                residual_s: normal(0.0, 0.05).clipped(-1.0, 1.0),
                failure_probability: Dist::Fixed(0.1),
                off_rate_per_year: Dist::Fixed(0.02),
                back_on_after_s: Some(lognormal(60.0 * 86_400.0, 1.0)),
            };
            user.logins_per_day = lognormal(2.0, 0.5).clipped(0.0, 20.0);
            None
        }
        TokenKind::Desktop => {
            clock.initial_offset_s = normal(0.0, 20.0).clipped(-300.0, 300.0);
            clock.drift_ppm = normal(0.0, 12.0).clipped(-50.0, 50.0);
            clock.aging_ppm_first_year = normal(0.0, 1.0).clipped(-5.0, 5.0);
            clock.wander_ppm_per_sqrt_day = Dist::Fixed(0.05);
            clock.temperature = Some(quartz(35.0, 5.0, 2.0));
            clock.events.manual_change = Some(ManualChange {
                rate_per_year: Dist::Fixed(2.0),
                amount_s: normal(0.0, 30.0).clipped(-300.0, 300.0),
            });
            clock.events.timezone_error = Some(TimezoneError {
                rate_per_year: Dist::Fixed(0.2),
                hours: Dist::Mixture(vec![(0.5, Dist::Fixed(-1.0)), (0.5, Dist::Fixed(1.0))]),
                corrected_after_s: Some(lognormal(3.0 * 86_400.0, 1.0)),
            });
            None
        }
        TokenKind::Hotp => {
            unsent = 0.05;
            Some(battery)
        }
    };
    (clock, battery, user, unsent, recovery)
}
