//! otpdrift: simulate fleets of one-time-code tokens whose clocks drift, validate every code
//! against a model of a real validator, and record what happens.
//!
//! Reading order: [`otp`], [`clock`], [`token`], [`user`], [`validator`], [`scenario`], [`sim`],
//! [`metrics`], [`export`], [`cli`]. ARCHITECTURE.md has the map and the invariants.

pub mod attack;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod dist;
pub mod export;
pub mod metrics;
pub mod otp;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod time;
pub mod token;
pub mod user;
pub mod validator;
