//! Hand-made traces for the validator: each test states the documented behaviour it checks.

pub(super) use super::*;

pub(super) const S: Millis = 30_000;
pub(super) const TOTP: Scheme = Scheme::Totp { step_s: 30, t0: 0 };

/// An injective stand-in for HOTP so that a code identifies its step exactly.
pub(super) fn code(step: i64) -> u32 {
    (step.rem_euclid(1_000_000) as u32) ^ 0x5a5a5
}

pub(super) fn cfg(back: u32, ahead: u32) -> ValidatorConfig {
    ValidatorConfig {
        preset: None,
        window_back: back,
        window_ahead: ahead,
        drift: DriftLearning::None,
        replay: Replay::None,
        ..presets::base("")
    }
}

pub(super) fn submit(
    v: &ValidatorConfig,
    st: &mut CredentialState,
    now: Millis,
    step: i64,
) -> Decision {
    v.verify(st, TOTP, now, code(step), code)
}

pub(super) fn preset(name: &str) -> ValidatorConfig {
    presets::find(name).unwrap().config
}

pub(super) fn sync(
    v: &ValidatorConfig,
    st: &mut CredentialState,
    now: Millis,
    steps: &[i64],
) -> Result<i64, SyncFailure> {
    let codes: Vec<u32> = steps.iter().map(|s| code(*s)).collect();
    v.sync(st, TOTP, now, &codes, code)
}

mod drift;
mod limits;
mod plain;
mod replay;
mod sync;
mod systems;
mod window;
