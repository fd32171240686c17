//! otpdrift: simulate fleets of one-time-code tokens whose clocks drift, validate every code
//! against a model of a real validator, and record what happens.
//!
//! Layers, each using only those below it (ARCHITECTURE.md has the map and the invariants):
//! face [`cli`]; pipelines [`pipeline`]; output [`export`], [`chart`], [`report`]; results
//! [`results`]; simulation [`sim`], [`attack`], [`probe`]; spec [`scenario`]; model [`clock`], [`token`],
//! [`user`], [`validator`], [`dist`], [`metrics`]; ground [`otp`], [`rng`], [`time`], [`error`].

#![forbid(unsafe_code)]

pub mod analyze;
pub mod attack;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod dist;
pub mod error;
pub mod export;
pub mod metrics;
pub mod otp;
pub mod pipeline;
pub mod probe;
pub mod report;
pub mod results;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod time;
pub mod token;
pub mod user;
pub mod validator;

#[cfg(test)]
mod metamorphic;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod tidy;
