//! The library's one error type: what went wrong, worded for the user, and whether it was the
//! user's input (exit status 2) or something else (exit status 1).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bad input: a scenario, a flag, a file given to read, a results folder in the way.
    Input(String),
    /// Anything else: a file that could not be written, a chart that could not be drawn.
    Failed(String),
}

impl Error {
    pub fn input(message: impl Into<String>) -> Error {
        Error::Input(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }

    /// The process exit status this error deserves.
    pub fn status(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Failed(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) | Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
